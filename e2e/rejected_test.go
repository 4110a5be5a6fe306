package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
)

// TestRefusedInvitesInReports: INVITEs refused before they become calls
// show in the TCD report over the report API with their codes and why,
// and in the rejected interval rows: a SIPp caller outside the trusted
// networks (127.0.0.2) whose credentials fail (407, then 403; the
// challenge is no rejection), and a trunk's caller past call_server.
// max_calls (503) while another call waits in queue.
func TestRefusedInvitesInReports(t *testing.T) {
	need(t, "sipp")
	cfg := strings.Replace(withCTI(contactCenter()), "call_server:\n  ring_timeout: 2s\n", "call_server:\n  ring_timeout: 2s\n  max_calls: 1\n", 1)
	n := startTandem(t, cfg+"report:\n  driver: sqlite\n")

	// The one call allowed waits in queue (nobody is ready).
	held := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-expect.xml", "CODE", "480"),
		"-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	var heldID event.CallID
	waitFor(t, 10*time.Second, "the first call queued", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.QueueEnter {
				heldID = e.Call
				return true
			}
		}
		return false
	})
	if ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-expect.xml", "CODE", "503"), "-s", "3000", "-m", "1"); ok != 1 || failed != 0 {
		t.Fatalf("the call past max_calls: %d ok, %d failed, want 503", ok, failed)
	}
	guesser := startSIPp(t, n.addr, "-i", "127.0.0.2", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-noauth.xml"),
		"-s", "3000", "-m", "1", "-timeout", "20s", "-timeout_error")
	sippDone(t, guesser, "untrusted caller (407 then 403)")
	sup := supervisor(t, n)
	if code := ctiCall(t, n, "POST", "/v1/calls/"+string(heldID)+"/clear", sup, nil, nil); code != 200 {
		t.Fatalf("clear the queued call: %d", code)
	}
	sippDone(t, held, "queued caller (480)")

	var rejected []event.Event
	for _, e := range n.events.Events() {
		if e.Kind == event.CallRejected {
			rejected = append(rejected, e)
		}
	}
	if len(rejected) != 2 {
		t.Fatalf("call.rejected events %+v, want 2 (the 407 challenge is none)", rejected)
	}
	want := map[int]struct{ why, peer string }{
		503: {event.RejectMaxCalls, "127.0.0.1:"},
		403: {event.RejectAuth, "127.0.0.2:"},
	}
	for _, e := range rejected {
		w, ok := want[e.Code]
		if !ok || !strings.HasPrefix(e.Reason, w.why+":") || !strings.HasPrefix(e.Peer, w.peer) || e.Data == nil || e.Data.DNIS != "3000" {
			t.Errorf("call.rejected %+v (data %+v), want one of %v", e, e.Data, want)
			continue
		}
		var legs []report.TCD
		waitFor(t, 15*time.Second, "the TCD of the refused INVITE "+string(e.Call), func() bool {
			legs = nil
			return ctiCall(t, n, "GET", "/v1/reports/tcd?call="+string(e.Call), sup, nil, &legs) == 200 && len(legs) == 2
		})
		caller, invite := legs[0], legs[1]
		if caller.Leg != "caller" || caller.Disposition != "rejected "+strconv.Itoa(e.Code) || caller.Data.DNIS != "3000" ||
			invite.LegKind != "sip" || !strings.HasPrefix(invite.Disposition, "rejected "+strconv.Itoa(e.Code)+" "+w.why+":") {
			t.Errorf("TCD of the %d: %+v", e.Code, legs)
		}
	}

	// The intervals count them by why.
	var rows []report.IntervalRow
	waitFor(t, 15*time.Second, "the rejected interval rows", func() bool {
		rows = nil
		if ctiCall(t, n, "GET", "/v1/reports/intervals?kind=rejected", sup, nil, &rows) != 200 {
			return false
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[r.Name] += r.Rejected
		}
		return got[event.RejectAuth] == 1 && got[event.RejectMaxCalls] == 1 && len(got) == 2
	})
}

// TestVRULegWithoutCallID: the VoiceXML gateway of a node whose trunks do
// not hold the test's address takes INVITEs from the call server's own
// address only as legs of a call: one without X-Tandem-Call-ID is refused
// (400), never re-keyed under its SIP Call-ID. (Legs that carry it are
// every call through the demo's IVR; a trunk calling the gateway straight,
// a call of its own, is TestDirectCallToGateway.)
func TestVRULegWithoutCallID(t *testing.T) {
	need(t, "sipp")
	n := startDemo(t, func(c *config.Config) {
		c.Trunks = []config.Trunk{{Name: "elsewhere", Networks: []string{"10.0.0.0/8"}}}
		if errs := c.Validate(); len(errs) > 0 { // compiles the trunk's networks
			t.Fatal(errs)
		}
	})
	gw := n.Gateway.Addr()
	if ok, failed := runUAC(t, gw, "-sf", scenario(t, "uac-expect.xml", "CODE", "400"), "-s", "5000", "-m", "1"); ok != 1 || failed != 0 {
		t.Fatalf("a VRU leg without its call id: %d ok, %d failed, want 400", ok, failed)
	}
	if n.Gateway.Active() != 0 {
		t.Fatalf("a refused leg left a session")
	}
	for _, e := range n.events.Events() {
		if e.Side == "vru" || e.Kind == event.CallNew {
			t.Errorf("the refused leg reached the gateway or became a call: %+v", e)
		}
	}
}

// TestDirectCallToGateway: a trunk's caller dialing the VoiceXML gateway
// straight (the stand-alone demo menu, 5000, without the call server) is a
// call of its own: a new 32-digit call id, under which the gateway
// reports the whole call (call.new, call.answered, call.ended answered)
// beside its VRU leg, so reporting counts it.
func TestDirectCallToGateway(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	n := startDemo(t) // 127.0.0.0/8 is a trunk
	if ok, failed := runUAC(t, n.Gateway.Addr(), "-sf", scenario(t, "uac-gateway.xml", "KEY", "1"), "-s", "5000", "-m", "1",
		"-mp", strconv.Itoa(freePort(t))); ok != 1 || failed != 0 {
		t.Fatalf("the direct caller: %d ok, %d failed", ok, failed)
	}
	var id event.CallID
	for _, e := range n.events.Events() {
		if e.Kind == event.CallNew {
			id = e.Call
		}
	}
	if len(id) != event.CallIDLen {
		t.Fatalf("the direct call's id %q, want a new %d-digit one", id, event.CallIDLen)
	}
	ended := callEnded(t, n, id)
	if ended.Outcome != event.OutcomeAnswered {
		t.Errorf("call.ended %+v, want outcome answered", ended)
	}
	if countKind(n.events.ForCall(id), event.CallAnswered) != 1 || countKind(n.events.ForCall(id), event.LegEnded) != 1 {
		t.Errorf("the direct call's events %+v, want one call.answered and the VRU leg's leg.ended", n.events.ForCall(id))
	}
	if n.cs.Active() != 0 || countKind(n.events.Events(), event.CallNew) != 1 {
		t.Errorf("the call server took part in a call that never reached it")
	}
}
