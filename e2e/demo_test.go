package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestDemoContactCenter runs the demo that `tandem serve` runs with no
// config: a SIPp caller dials 1000, hears the menu, presses 1 (RFC 4733)
// while no sales agent is ready, so it waits in the sales queue with
// treatment at the VRU; then agent 1002 logs in with the password the
// README gives and goes ready; the call is offered to 1002's registered
// phone, the caller is moved off the VRU, and the desktop pops what the
// caller chose; after the caller's BYE the agent wraps up with a reason
// and is ready again.
func TestDemoContactCenter(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	n := startDemo(t)
	agentPhone := phone(t, n, "1002", "pw1002", "", "-m", "1")
	caller := startSIPp(t, "-sf", scenario(t, "uac-ivr-agent.xml", "KEY", "1"), "-s", "1000", "-m", "1",
		"-mp", strconv.Itoa(freePort(t)), n.addr)
	waitFor(t, 20*time.Second, "the caller waiting in the sales queue", func() bool {
		q, err := n.engine.Stats("sales")
		return err == nil && q.Waiting == 1
	})
	// Let the caller hear a round of treatment before an agent frees up.
	time.Sleep(2 * time.Second)
	desk := login(t, n, "1002", "pw1002", "1002")
	if code := ctiCall(t, n, "POST", "/v1/agents/1002/state", desk.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	offer := desk.await(t, cti.EventCallOffered)
	if offer.Data == nil || offer.Data.DNIS != "1000" || offer.Data.CallType != "demo" || offer.Data.Variables["pv1"] != "1" {
		t.Fatalf("offer %+v", offer.Data)
	}
	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed\n%s", ok, failed, caller.output())
	}
	agentPhone.wait(10 * time.Second)
	if ok, _ := agentPhone.counts(); ok != 1 {
		t.Fatal("agent 1002's phone did not get the call")
	}
	evs := n.events.ForCall(event.CallID(offer.Call))
	if countKind(evs, event.CallMoved) != 1 {
		t.Fatalf("the caller was not moved from the VRU to the agent: %+v", evs)
	}
	// The caller's BYE sends 1002 to wrap-up; the agent ends it with a
	// wrap-up reason (20, Sale) and is ready for the next call.
	desk.await(t, cti.EventCallEnded)
	waitFor(t, 5*time.Second, "1002 in wrap-up", func() bool { return agentState(t, n, "1002").State == router.WorkReady })
	if code := ctiCall(t, n, "POST", "/v1/agents/1002/state", desk.token, map[string]any{"state": "ready", "reason": 20}, nil); code/100 != 2 {
		t.Fatalf("end wrap-up: %d", code)
	}
	if st := agentState(t, n, "1002"); st.State != router.Ready {
		t.Fatalf("1002 after wrap-up: %s, want ready", st.State)
	}
}
