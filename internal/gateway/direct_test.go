package gateway

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/mediaua"
)

// TestDirectCallEvents: the gateway reports a call of its own from start
// to end (answered once confirmed, failed if never), and nothing of the
// call for a VRU leg the call server dialed, whose call it reports.
func TestDirectCallEvents(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "5000", Host: "127.0.0.1"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "4155550100", Host: "gw"}, Params: sip.NewParams()})
	req.SetSource("10.0.0.9:5060")
	for _, tc := range []struct {
		name      string
		direct    bool
		confirmed bool
		want      []event.Kind
		outcome   event.Outcome
	}{
		{"direct, confirmed", true, true, []event.Kind{event.CallNew, event.CallAnswered, event.CallEnded}, event.OutcomeAnswered},
		{"direct, never confirmed", true, false, []event.Kind{event.CallNew, event.CallEnded}, event.OutcomeFailed},
		{"a VRU leg", false, true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &event.Recorder{}
			g := &Gateway{events: rec}
			d := &mediaua.Dialog{Call: "c1", Direct: tc.direct, Invite: req}
			if err := g.admit(d); err != nil {
				t.Fatal(err)
			}
			if tc.confirmed {
				g.directAnswered(d)
			}
			g.directEnded(d, "exit")
			var got []event.Kind
			for _, e := range rec.Events() {
				got = append(got, e.Kind)
				if e.Call != "c1" {
					t.Errorf("event under %q, want c1", e.Call)
				}
				if e.Kind == event.CallEnded && e.Outcome != tc.outcome {
					t.Errorf("call.ended outcome %q, want %q", e.Outcome, tc.outcome)
				}
				if e.Kind == event.CallNew && (e.Peer != "10.0.0.9:5060" || e.Reason != "dnis=5000 ani=4155550100 direct to the vxml gateway") {
					t.Errorf("call.new %+v", e)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("events %v, want %v", got, tc.want)
				}
			}
			if _, left := g.answered.Load(d.Call); left {
				t.Error("an ended call is still held as answered")
			}
		})
	}
}
