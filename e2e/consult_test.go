package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestConsultTransfer: alice takes a call, sets call data, consults bob
// through the CTI API (the caller is held with a=sendonly; alice's phone
// is re-INVITEd with bob's offer; bob's phone gets a late-offer INVITE),
// then completes (the caller is connected to bob and alice released) or
// cancels (bob released, alice connected to the caller again). All four
// SIP parties are SIPp with scenarios that check each step's SDP.
func TestConsultTransfer(t *testing.T) {
	need(t, "sipp")
	for _, complete := range []bool{true, false} {
		name := map[bool]string{true: "complete", false: "cancel"}[complete]
		t.Run(name, func(t *testing.T) {
			n := startTandem(t, contactCenter())
			alicePhone := phone(t, n, "1001", "p1001", scenario(t, "uas-consult-agent-"+name+".xml"), "-m", "1")
			bobPhone := phone(t, n, "1002", "p1002", scenario(t, "uas-consult-target-"+name+".xml"), "-m", "1")
			alice := login(t, n, "alice", "a", "1001")
			if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
				t.Fatalf("alice ready: %d", code)
			}
			caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-consult.xml"),
				"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
			offer := alice.await(t, cti.EventCallOffered)
			alice.await(t, cti.EventCallAnswered)
			call := "/v1/agents/alice/calls/" + string(offer.Call)
			if code := ctiCall(t, n, "POST", call+"/data", alice.token, cti.CallDataRequest{Variables: map[string]string{"pv2": "refund"}}, nil); code/100 != 2 {
				t.Fatalf("set call data: %d", code)
			}
			bob := login(t, n, "bob", "b", "1002")
			if code := ctiCall(t, n, "POST", "/v1/agents/bob/state", bob.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
				t.Fatalf("bob ready: %d", code)
			}
			// A consult to oneself and to an agent not ready are refused.
			if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "agent", Dest: "alice"}, nil); code != 400 {
				t.Fatalf("consult to self: %d, want 400", code)
			}
			var cr cti.ConsultResponse
			if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "agent", Dest: "bob"}, &cr); code != 200 || cr.Agent != "bob" {
				t.Fatalf("consult: %d %+v", code, cr)
			}
			popped := bob.await(t, cti.EventCallOffered)
			if popped.Call != offer.Call || popped.Data == nil || popped.Data.Variables["pv2"] != "refund" {
				t.Fatalf("bob's desktop popped %+v", popped)
			}
			if st := agentState(t, n, "bob"); st.State != router.Talking {
				t.Fatalf("bob during the consult: %s, want talking", st.State)
			}
			if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "agent", Dest: "bob"}, nil); code != 409 {
				t.Fatalf("a second consult: %d, want 409", code)
			}
			if code := ctiCall(t, n, "POST", call+"/"+name, alice.token, nil, nil); code/100 != 2 {
				t.Fatalf("%s: %d", name, code)
			}
			caller.wait(30 * time.Second)
			if ok, failed := caller.counts(); ok != 1 || failed != 0 {
				t.Fatalf("caller: %d ok, %d failed\n%s", ok, failed, caller.output())
			}
			for who, p := range map[string]*sipp{"alice": alicePhone, "bob": bobPhone} {
				p.wait(10 * time.Second)
				if ok, failed := p.counts(); ok != 1 || failed != 0 {
					t.Fatalf("%s's phone: %d ok, %d failed\n%s", who, ok, failed, p.output())
				}
			}
			evs := n.events.ForCall(event.CallID(offer.Call))
			want := event.CallConsultEnded
			if complete {
				want = event.CallTransferred
			}
			if countKind(evs, event.CallConsult) != 1 || countKind(evs, want) != 1 {
				t.Fatalf("events %+v: want one consult and one %s", evs, want)
			}
			// Both agents end in wrap-up (or past it): the one who left the
			// call and the one who had it last.
			for _, id := range []string{"alice", "bob"} {
				waitFor(t, 10*time.Second, id+" in wrap-up or ready", func() bool {
					s := agentState(t, n, id)
					return s.Call == "" && (s.State == router.WorkReady || s.State == router.Ready)
				})
			}
		})
	}
}
