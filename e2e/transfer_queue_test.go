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

// TestBlindTransferBackToQueue runs the demo: a SIPp caller presses 1 and
// reaches sales agent 1001; 1001 sets call data and transfers the call to
// the support queue, where nobody is ready, so the call server moves the
// caller back to the VRU for the transfer treatment (QT); when 1006 goes
// ready the caller is moved to 1006's phone, whose desktop pops the call
// with the data 1001 set.
func TestBlindTransferBackToQueue(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	n := startDemo(t)
	firstPhone := phone(t, n, "1001", "pw1001", "", "-m", "1")
	nextPhone := phone(t, n, "1006", "pw1006", "", "-m", "1")
	first := login(t, n, "1001", "pw1001", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/1001/state", first.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("1001 ready: %d", code)
	}
	caller := startSIPp(t, "-sf", scenario(t, "uac-ivr-transfer.xml", "KEY", "1"), "-s", "1000", "-m", "1",
		"-mp", strconv.Itoa(freePort(t)), n.addr)
	offer := first.await(t, cti.EventCallOffered)
	first.await(t, cti.EventCallAnswered)
	call := "/v1/agents/1001/calls/" + string(offer.Call)
	if code := ctiCall(t, n, "POST", call+"/data", first.token, cti.CallDataRequest{Variables: map[string]string{"pv5": "wants support"}}, nil); code/100 != 2 {
		t.Fatalf("call data: %d", code)
	}
	var tr cti.TransferResponse
	if code := ctiCall(t, n, "POST", call+"/transfer", first.token, cti.TransferRequest{To: "queue", Dest: "support"}, &tr); code != 200 || tr.Instruction != "run_script" {
		t.Fatalf("transfer: %d %+v, want the caller sent to treatment", code, tr)
	}
	waitFor(t, 15*time.Second, "the caller back at the VRU, waiting in support", func() bool {
		q, err := n.engine.Stats("support")
		moves := countKind(n.events.ForCall(event.CallID(offer.Call)), event.CallMoved)
		return err == nil && q.Waiting == 1 && moves == 2
	})
	if s := agentState(t, n, "1001"); s.Call != "" || (s.State != router.WorkReady && s.State != router.Ready) {
		t.Fatalf("1001 after the transfer: %+v, want wrap-up with no call", s)
	}
	next := login(t, n, "1006", "pw1006", "1006")
	if code := ctiCall(t, n, "POST", "/v1/agents/1006/state", next.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("1006 ready: %d", code)
	}
	popped := next.await(t, cti.EventCallOffered)
	if popped.Call != offer.Call || popped.Data == nil || popped.Data.Variables["pv5"] != "wants support" || popped.Data.Variables["pv1"] != "1" {
		t.Fatalf("1006 popped %+v", popped.Data)
	}
	caller.wait(40 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed\n%s", ok, failed, caller.output())
	}
	for who, p := range map[string]*sipp{"1001": firstPhone, "1006": nextPhone} {
		p.wait(10 * time.Second)
		if ok, failed := p.counts(); ok != 1 || failed != 0 {
			t.Fatalf("%s's phone: %d ok, %d failed", who, ok, failed)
		}
	}
	if moves := countKind(n.events.ForCall(event.CallID(offer.Call)), event.CallMoved); moves != 3 {
		t.Fatalf("%d moves, want 3 (VRU → 1001 → VRU → 1006)", moves)
	}
}
