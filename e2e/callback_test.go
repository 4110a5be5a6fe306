package e2e

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestCourtesyCallback runs the demo's courtesy callback: a SIPp caller
// from 4441234 dials 1000, presses 1 (sales, where nobody is ready), hears
// queue treatment, presses 9, hears the confirmation and is released. The
// call keeps its place in the sales queue. Then agent 1003 goes ready: the
// call server rings the agent's phone first, then calls 4441234 through
// the "pstn" server group (a SIPp UAS standing for the PSTN gateway) with
// the agent's offer, and joins them. The desktop pops the call with the
// caller's data; the agent releases it.
func TestCourtesyCallback(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_9.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	pstnPort := freePort(t)
	pstn := startUAS(t, pstnPort, "", "-m", "1")
	n := startDemo(t, func(cfg *config.Config) {
		cfg.ServerGroups = append(cfg.ServerGroups, config.ServerGroup{Name: "pstn",
			Heartbeat:    config.Heartbeat{Enabled: new(bool)},
			Destinations: []config.Destination{{Address: "127.0.0.1:" + strconv.Itoa(pstnPort), Transport: "udp", Priority: 1, Weight: 1}}})
		cfg.DialPlan = append(cfg.DialPlan, config.DialRule{Pattern: "444XXXX", ServerGroup: "pstn"})
	})
	agentPhone := phone(t, n, "1003", "pw1003", "", "-m", "1")
	caller := startSIPp(t, "-sf", scenario(t, "uac-callback.xml", "ANI", "4441234"), "-s", "1000", "-m", "1",
		"-mp", strconv.Itoa(freePort(t)), n.addr)
	caller.wait(40 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed\n%s", ok, failed, caller.output())
	}
	// The caller is gone; the call waits in queue for its callback.
	waitFor(t, 10*time.Second, "the callback waiting in the sales queue", func() bool {
		q, err := n.engine.Stats("sales")
		return err == nil && q.Waiting == 1
	})
	var id event.CallID
	for _, e := range n.events.Events() {
		if e.Kind == event.CallbackRequested && e.Target == "4441234" {
			id = e.Call
		}
	}
	if id == "" {
		t.Fatal("no callback.requested event for 4441234")
	}
	desk := login(t, n, "1003", "pw1003", "1003")
	if code := ctiCall(t, n, "POST", "/v1/agents/1003/state", desk.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	offer := desk.await(t, cti.EventCallOffered)
	if offer.Call != router.CallID(id) || offer.Data == nil || offer.Data.ANI != "4441234" || offer.Data.Variables["pv1"] != "1" {
		t.Fatalf("offer %+v (data %+v), want the callback of %s with its IVR data", offer, offer.Data, id)
	}
	desk.await(t, cti.EventCallAnswered)
	if st := agentState(t, n, "1003"); st.State != router.Talking || st.Call != router.CallID(id) {
		t.Fatalf("agent %+v, want talking on the callback", st)
	}
	if code := ctiCall(t, n, "POST", "/v1/agents/1003/calls/"+string(id)+"/release", desk.token, nil, nil); code/100 != 2 {
		t.Fatalf("release: %d", code)
	}
	for who, p := range map[string]*sipp{"agent phone": agentPhone, "pstn (the caller called back)": pstn} {
		p.wait(10 * time.Second)
		if ok, failed := p.counts(); ok != 1 || failed != 0 {
			t.Fatalf("%s: %d ok, %d failed\n%s", who, ok, failed, p.output())
		}
	}
	waitFor(t, 5*time.Second, "the call over", func() bool {
		_, err := n.engine.Positions(router.CallID(id))
		return errors.Is(err, router.ErrUnknownCall) // a call not queued has no position either
	})
}
