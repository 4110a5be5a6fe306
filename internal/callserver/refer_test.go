package callserver

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func referRequest(referTo []string, extra map[string]string) *sip.Request {
	req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", User: "tandem", Host: "127.0.0.1"})
	for _, v := range referTo {
		req.AppendHeader(sip.NewHeader("Refer-To", v))
	}
	for k, v := range extra {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	return req
}

func TestParseRefer(t *testing.T) {
	cases := []struct {
		name     string
		referTo  []string
		extra    map[string]string
		target   string
		kind     string
		replaces *replacesID
		connect  time.Duration
		maxTime  time.Duration
		bad      bool
	}{
		{name: "name-addr", referTo: []string{"<sip:1002@tandem.example>"}, target: "1002", kind: transferBlind},
		{name: "addr-spec", referTo: []string{"sip:2001@10.0.0.1:5060"}, target: "2001", kind: transferBlind},
		{name: "tel", referTo: []string{"<tel:+15551234567;phone-context=x>"}, target: "+15551234567", kind: transferBlind},
		{name: "replaces escaped", referTo: []string{"<sip:1003@t?Replaces=abc%40host%3Bto-tag%3Dtt%3Bfrom-tag%3Dff>"}, target: "1003", kind: transferBlind,
			replaces: &replacesID{callID: "abc@host", toTag: "tt", fromTag: "ff"}},
		{name: "bridge times", referTo: []string{"<sip:2001@t>"}, extra: map[string]string{"X-Tandem-Transfer": "bridge;connecttimeout=2500;maxtime=60000"},
			target: "2001", kind: transferBridge, connect: 2500 * time.Millisecond, maxTime: time.Minute},
		{name: "consultation", referTo: []string{"<sip:2001@t>"}, extra: map[string]string{"X-Tandem-Transfer": "Consultation"}, target: "2001", kind: transferConsult},
		{name: "none", bad: true},
		{name: "two", referTo: []string{"<sip:1@t>", "<sip:2@t>"}, bad: true},
		{name: "no user", referTo: []string{"<sip:t.example>"}, bad: true},
		{name: "mailto", referTo: []string{"<mailto:a@b>"}, bad: true},
		{name: "replaces without tags", referTo: []string{"<sip:1@t?Replaces=abc>"}, bad: true},
		{name: "bad kind", referTo: []string{"<sip:1@t>"}, extra: map[string]string{"X-Tandem-Transfer": "park"}, bad: true},
		{name: "bad time", referTo: []string{"<sip:1@t>"}, extra: map[string]string{"X-Tandem-Transfer": "bridge;maxtime=-5"}, bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseRefer(referRequest(tc.referTo, tc.extra))
			if tc.bad {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.target != tc.target || r.kind != tc.kind || r.connect != tc.connect || r.maxTime != tc.maxTime {
				t.Fatalf("got target %q kind %q connect %s maxtime %s", r.target, r.kind, r.connect, r.maxTime)
			}
			switch {
			case tc.replaces == nil && r.replaces != nil:
				t.Fatalf("replaces %+v, want none", r.replaces)
			case tc.replaces != nil && (r.replaces == nil || *r.replaces != *tc.replaces):
				t.Fatalf("replaces %+v, want %+v", r.replaces, tc.replaces)
			}
		})
	}
}

// FuzzParseRefer: no Refer-To or transfer header makes the REFER parser
// panic, and what it accepts names a target to dial.
func FuzzParseRefer(f *testing.F) {
	f.Add("<sip:1002@tandem>", "")
	f.Add("<sip:1003@t?Replaces=abc%40host%3Bto-tag%3Dtt%3Bfrom-tag%3Dff>", "")
	f.Add("tel:+15551234", "bridge;connecttimeout=30000;maxtime=60000")
	f.Add("<sip:@>", "consultation;maxtime=")
	f.Fuzz(func(t *testing.T, referTo, kind string) {
		extra := map[string]string{}
		if kind != "" {
			extra["X-Tandem-Transfer"] = kind
		}
		r, err := parseRefer(referRequest([]string{referTo}, extra))
		if err != nil {
			return
		}
		if r.target == "" {
			t.Fatalf("accepted %q with no target", referTo)
		}
		if r.replaces != nil && (r.replaces.callID == "" || r.replaces.toTag == "" || r.replaces.fromTag == "") {
			t.Fatalf("accepted a Replaces without its dialog id: %+v", r.replaces)
		}
	})
}
