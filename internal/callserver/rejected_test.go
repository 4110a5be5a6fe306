package callserver

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// TestRefusedInvite: a new INVITE the call server refuses is one
// call.rejected under a new call id, with its code, why, source and the
// caller as the edge admitted it, counted as outcome rejected; a refused
// request inside a dialog (a re-INVITE) is no call.
func TestRefusedInvite(t *testing.T) {
	rec := &event.Recorder{}
	s := &Server{events: rec, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		mCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calls"}, []string{"outcome"})}
	invite := func(toTag string) *sip.Request {
		r := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "3000", Host: "127.0.0.1"})
		r.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "claimed", Host: "h"}, Params: sip.NewParams()})
		to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "3000", Host: "127.0.0.1"}, Params: sip.NewParams()}
		if toTag != "" {
			to.Params.Add("tag", toTag)
		}
		r.AppendHeader(to)
		r.AppendHeader(sip.NewHeader("Call-ID", "sip-1"))
		r.SetSource("10.0.0.9:5060")
		return r
	}
	for _, tc := range []struct {
		name   string
		from   sipedge.Origin
		code   int
		why    string
		wantAN string
	}{
		{"past max_calls from a trunk", sipedge.Origin{Trunk: "gw"}, 503, event.RejectMaxCalls, "claimed"},
		{"a loop from an authenticated phone", sipedge.Origin{User: "1001"}, 482, event.RejectLoop, "1001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Events())
			s.refusedInvite(invite(""), tc.from, tc.code, tc.why, "detail")
			evs := rec.Events()[before:]
			if len(evs) != 1 {
				t.Fatalf("events %+v, want one call.rejected", evs)
			}
			e := evs[0]
			if e.Kind != event.CallRejected || e.Code != tc.code || !strings.HasPrefix(e.Reason, tc.why+": detail") || e.Peer != "10.0.0.9:5060" ||
				len(e.Call) != event.CallIDLen || e.Data == nil || e.Data.DNIS != "3000" || e.Data.ANI != tc.wantAN || e.Data.SIPCallID != "sip-1" {
				t.Errorf("event %+v (data %+v)", e, e.Data)
			}
		})
	}
	s.refusedInvite(invite("t1"), sipedge.Origin{Trunk: "gw"}, 400, event.RejectInvalid, "bad Session-Expires")
	if n := len(rec.Events()); n != 2 {
		t.Errorf("a refused re-INVITE was recorded as a call: %d events", n)
	}
	m := &dto.Metric{}
	if err := s.mCalls.WithLabelValues(string(event.OutcomeRejected)).Write(m); err != nil || m.GetCounter().GetValue() != 2 {
		t.Errorf("calls rejected counted %v (%v), want 2", m.GetCounter().GetValue(), err)
	}
}
