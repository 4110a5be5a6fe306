package gateway

import (
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestSipfrag(t *testing.T) {
	cases := []struct {
		body   string
		code   int
		reason string
		bad    bool
	}{
		{body: "SIP/2.0 100 Trying\r\n", code: 100, reason: "Trying"},
		{body: "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", code: 486, reason: "Busy Here"},
		{body: "SIP/2.0 200 OK", code: 200, reason: "OK"},
		{body: "", bad: true},
		{body: "INVITE sip:a@b SIP/2.0\r\n", bad: true},
		{body: "SIP/2.0 99 Low\r\n", bad: true},
		{body: "SIP/2.0 abc\r\n", bad: true},
	}
	for _, tc := range cases {
		code, reason, err := sipfrag([]byte(tc.body))
		if (err != nil) != tc.bad || (!tc.bad && (code != tc.code || reason != tc.reason)) {
			t.Errorf("sipfrag(%q) = %d %q %v", tc.body, code, reason, err)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		code   int
		status string
		event  string
	}{
		{486, "busy", ""}, {600, "busy", ""}, {408, "noanswer", ""}, {480, "noanswer", ""}, {487, "noanswer", ""},
		{503, "network_busy", ""}, {500, "network_busy", ""}, {404, "", "error.connection.baddestination"},
		{403, "", "error.connection.noauthorization"}, {481, "unknown", ""}, {488, "unknown", ""},
	}
	for _, tc := range cases {
		status, err := outcomeOf(tc.code, "x")
		var te *transferErr
		event := ""
		if errors.As(err, &te) {
			event = te.TransferEvent()
		}
		if status != tc.status || event != tc.event {
			t.Errorf("outcomeOf(%d) = %q, %q; want %q, %q", tc.code, status, event, tc.status, tc.event)
		}
	}
}

func TestReferTo(t *testing.T) {
	cs := sip.Uri{Scheme: "sip", User: "tandem", Host: "10.0.0.1", Port: 5060}
	cases := []struct{ dest, want, event string }{
		{dest: "2001", want: "<sip:2001@10.0.0.1:5060>"},
		{dest: "tel:+15551234", want: "<tel:+15551234>"},
		{dest: "sip:agent@example.com", want: "<sip:agent@example.com>"},
		{dest: "", event: "error.connection.baddestination"},
		{dest: "20 01", event: "error.connection.baddestination"},
		{dest: "a@b", event: "error.connection.baddestination"},
	}
	for _, tc := range cases {
		got, err := referTo(tc.dest, cs)
		var te *transferErr
		event := ""
		if errors.As(err, &te) {
			event = te.event
		}
		if got != tc.want || event != tc.event {
			t.Errorf("referTo(%q) = %q, %q; want %q, %q", tc.dest, got, event, tc.want, tc.event)
		}
	}
}

// FuzzSipfrag: a NOTIFY body never makes the gateway panic, and a status
// it accepts is a SIP status code.
func FuzzSipfrag(f *testing.F) {
	f.Add([]byte("SIP/2.0 100 Trying\r\n"))
	f.Add([]byte("SIP/2.0 486 Busy Here\r\nVia: x\r\n"))
	f.Add([]byte("SIP/2.0  \n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, _, err := sipfrag(body)
		if err == nil && (code < 100 || code > 699) {
			t.Fatalf("accepted status %d", code)
		}
	})
}

// FuzzReferTo: whatever a document gives as dest, the Refer-To is a
// bracketed URI or a baddestination error.
func FuzzReferTo(f *testing.F) {
	for _, s := range []string{"2001", "tel:+1555", "sip:a@b", "<sip:x>", "sip:"} {
		f.Add(s)
	}
	cs := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060}
	f.Fuzz(func(t *testing.T, dest string) {
		got, err := referTo(dest, cs)
		if err != nil {
			return
		}
		if len(got) < 2 || got[0] != '<' || got[len(got)-1] != '>' {
			t.Fatalf("referTo(%q) = %q", dest, got)
		}
	})
}
