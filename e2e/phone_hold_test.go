package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestHoldFromTheAgentsPhone is issue #11's "the agent's state does not
// follow its phone": the agent presses hold and then resume on its phone
// (a SIPp phone sending re-INVITE a=sendonly, then a=sendrecv, as a
// softphone does). tandem relays both offers to the caller and, because
// the hold came from the agent's leg, the router puts the agent on hold
// and back to talking, the desktop gets call_held then call_retrieved, and
// the call's agent record carries the hold time. On the way, the call's
// queue positions are asked for while it talks: it has none (409).
func TestHoldFromTheAgentsPhone(t *testing.T) {
	const hold = 1500 * time.Millisecond
	n := startTandem(t, withCTI(contactCenter()))
	agentPhone := phone(t, n, "1001", "p1001", scenario(t, "uas-phone-hold.xml", "HOLD", strconv.Itoa(int(hold.Milliseconds()))), "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	// The caller checks that the offers it is relayed say sendonly, then
	// sendrecv, and hangs up after the resume.
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-held.xml"), "-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")

	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	// A call talking to an agent has no queue position (issue #11: it
	// said "position 1"): 409, the error saying where the call is.
	var sup cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/supervisor/login", "", map[string]string{"id": "sue", "password": "s3cret"}, &sup); code != 200 {
		t.Fatalf("supervisor login: %d", code)
	}
	var pos []cti.PositionView
	if code := ctiCall(t, n, "GET", "/v1/calls/"+string(offer.Call)+"/positions", sup.Token, nil, &pos); code != 409 || len(pos) != 0 {
		t.Fatalf("positions of a call talking to alice: %d %+v, want 409", code, pos)
	}
	alice.await(t, cti.EventCallHeld)
	// call_held is published once the router has the agent on hold; the
	// phone holds for a while yet.
	if st := agentState(t, n, "alice"); st.State != router.Hold {
		t.Fatalf("alice while her phone holds: %s, want hold", st.State)
	}
	alice.await(t, cti.EventCallRetrieved)
	waitFor(t, 5*time.Second, "alice talking again (or wrap-up once the caller hung up)", func() bool {
		s := agentState(t, n, "alice").State
		return s == router.Talking || s == router.WorkReady || s == router.Ready
	})

	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed (the relayed offers were not sendonly then sendrecv)", ok, failed)
	}
	agentPhone.wait(10 * time.Second)
	if ok, failed := agentPhone.counts(); ok != 1 || failed != 0 {
		t.Fatalf("agent phone: %d ok, %d failed (the relayed answers were not recvonly then sendrecv)", ok, failed)
	}
	alice.await(t, cti.EventCallEnded)

	// The router's reporting events: one hold, one retrieve, by alice.
	var holds, retrieves int
	for _, e := range n.events.ForCall(event.CallID(offer.Call)) {
		switch e.Kind {
		case event.AgentHold:
			holds++
		case event.AgentRetrieve:
			retrieves++
		}
	}
	if holds != 1 || retrieves != 1 {
		t.Fatalf("agent hold / retrieve events: %d / %d, want 1 / 1", holds, retrieves)
	}

	// The agent's record of the call has the hold time, about what the
	// phone held.
	var legs []report.TCD
	waitReport(t, 15*time.Second, "alice's record with hold time", func() bool {
		legs = nil
		ctiCall(t, n, "GET", "/v1/reports/tcd?call="+string(offer.Call), sup.Token, nil, &legs)
		for _, l := range legs {
			if l.LegKind == "agent" && l.Agent == "alice" && l.Hold > 0 {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("%+v", legs) })
	for _, l := range legs {
		if l.LegKind == "agent" && (l.Hold < hold/2 || l.Hold > hold+3*time.Second) {
			t.Errorf("alice's hold time %s, want about %s", l.Hold, hold)
		}
	}
}
