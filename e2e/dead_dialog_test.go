package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// byeAnswered is a scenario chunk: receive tandem's BYE and answer 200.
const byeAnswered = `<recv request="BYE" timeout="20000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>`

// goneCaller starts a SIPp caller to 3000 that answers the first
// re-INVITE tandem sends it with code: 481 (it forgot the call) or 408
// (it could not answer; tandem then BYEs what may be left of it).
func goneCaller(t *testing.T, n *node, code int) *sipp {
	reason, after := "Call/Transaction Does Not Exist", ""
	if code == 408 {
		reason, after = "Request Timeout", byeAnswered
	}
	return startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf",
		scenario(t, "uac-reinvite-code.xml", "CODE", strconv.Itoa(code), "REASON", reason, "AFTER", after),
		"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
}

// callEnded waits for the call's call.ended event and returns it.
func callEnded(t *testing.T, n *node, id event.CallID) event.Event {
	t.Helper()
	var ended event.Event
	waitFor(t, 40*time.Second, "call.ended of "+string(id), func() bool {
		for _, e := range n.events.ForCall(id) {
			if e.Kind == event.CallEnded {
				ended = e
				return true
			}
		}
		return false
	})
	return ended
}

// TestBlindTransferCallerGone: alice blind-transfers her call to a number
// (bob's phone), which answers; the caller's dialog is gone (its re-INVITE
// answered 481, or 408). The call ends on every leg at once - bob's phone
// and alice's get BYE - alice is not left talking on a dead call (she goes
// to wrap-up), the desktop's transfer is refused with 409, and the call is
// reported dialog_gone.
func TestBlindTransferCallerGone(t *testing.T) {
	for _, code := range []int{481, 408} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			n := startTandem(t, withCTI(contactCenter()))
			alicePhone := phone(t, n, "1001", "p1001", "", "-m", "1")
			bobPhone := phone(t, n, "1002", "p1002", "", "-m", "1")
			alice := login(t, n, "alice", "a", "1001")
			if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
				t.Fatalf("alice ready: %d", code)
			}
			caller := goneCaller(t, n, code)
			offer := alice.await(t, cti.EventCallOffered)
			alice.await(t, cti.EventCallAnswered)
			var eb cti.ErrorBody
			if got := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
				cti.TransferRequest{To: "number", Dest: "1002"}, &eb); got != 409 {
				t.Fatalf("transfer with the caller gone: %d %q, want 409", got, eb.Error)
			}
			ended := callEnded(t, n, event.CallID(offer.Call))
			if ended.Outcome != event.OutcomeDialogGone {
				t.Fatalf("call ended %q (%s), want dialog_gone", ended.Outcome, ended.Reason)
			}
			sippDone(t, caller, "caller")
			sippDone(t, alicePhone, "alice's phone (BYE)")
			sippDone(t, bobPhone, "bob's phone (answered, then BYE)")
			if st := agentState(t, n, "alice"); st.State == router.Talking || st.Call != "" {
				t.Fatalf("alice is %s on %q after the call ended", st.State, st.Call)
			}
			waitFor(t, 5*time.Second, "no call left", func() bool { return n.cs.Active() == 0 })
			rec := callRecords(t, n, supervisor(t, n), string(offer.Call), func(r callRec) bool {
				l := r.leg("caller")
				return l != nil && l.Disposition != "in_progress"
			})
			rec.want(t, "caller", "dialog_gone")
		})
	}
}

// TestTransferToQueueCallerGone is the case: alice transfers her
// call to the support queue, where bob is ready; bob's phone answers, and
// the re-INVITE that moves the caller to him meets a dead dialog (481).
// The call ends at once: bob's phone gets BYE and bob is ready again (no
// ring-no-answer), the call is not offered again to anyone, alice goes to
// wrap-up, and nothing is left queued.
func TestTransferToQueueCallerGone(t *testing.T) {
	n := startTandem(t, withCTI(contactCenter()))
	alicePhone := phone(t, n, "1001", "p1001", "", "-m", "1")
	bobPhone := phone(t, n, "1002", "p1002", "", "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := goneCaller(t, n, 481)
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	bob := login(t, n, "bob", "b", "1002")
	if code := ctiCall(t, n, "POST", "/v1/agents/bob/state", bob.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("bob ready: %d", code)
	}
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
		cti.TransferRequest{To: "queue", Dest: "support"}, nil); code/100 != 2 {
		t.Fatalf("transfer: %d", code)
	}
	id := event.CallID(offer.Call)
	if ended := callEnded(t, n, id); ended.Outcome != event.OutcomeDialogGone {
		t.Fatalf("call ended %q (%s), want dialog_gone", ended.Outcome, ended.Reason)
	}
	sippDone(t, caller, "caller")
	sippDone(t, alicePhone, "alice's phone")
	sippDone(t, bobPhone, "bob's phone")
	waitFor(t, 5*time.Second, "bob ready again", func() bool { return agentState(t, n, "bob").State == router.Ready })
	if st := agentState(t, n, "alice"); st.State == router.Talking || st.Call != "" {
		t.Fatalf("alice is %s on %q", st.State, st.Call)
	}
	evs := n.events.ForCall(id)
	if c := countKind(evs, event.AgentRONA); c != 0 {
		t.Fatalf("%d ring-no-answer on a call whose caller was gone", c)
	}
	if c := countKind(evs, event.AgentOffer); c != 2 {
		t.Fatalf("%d offers, want 2 (alice, then bob once)", c)
	}
	if _, err := n.engine.Positions(router.CallID(id)); err == nil {
		t.Fatal("the router still holds the call")
	}
}

// TestBlindTransferRefusedKeepsCaller: the caller is alive but the number
// refuses (486): nothing moved, so the caller stays with alice, who is
// still talking, and the call goes on until the caller hangs up.
func TestBlindTransferRefusedKeepsCaller(t *testing.T) {
	n := startTandem(t, withCTI(contactCenter()))
	alicePhone := phone(t, n, "1001", "p1001", "", "-m", "1")
	phone(t, n, "1002", "p1002", scenario(t, "uas-code.xml", "CODE", "486"))
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf",
		scenario(t, "uac-hangup-after.xml", "HOLD", "4000"), "-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
		cti.TransferRequest{To: "number", Dest: "1002"}, nil); code/100 == 2 {
		t.Fatalf("a transfer to a busy number passed: %d", code)
	}
	if st := agentState(t, n, "alice"); st.State != router.Talking || st.Call != offer.Call {
		t.Fatalf("alice is %s on %q after a refused transfer, want talking on the call", st.State, st.Call)
	}
	if n.cs.Active() != 1 {
		t.Fatalf("%d calls up after a refused transfer, want the caller's", n.cs.Active())
	}
	sippDone(t, caller, "caller (hangs up itself)")
	sippDone(t, alicePhone, "alice's phone")
	if ended := callEnded(t, n, event.CallID(offer.Call)); ended.Outcome != event.OutcomeAnswered {
		t.Fatalf("call ended %q (%s), want answered", ended.Outcome, ended.Reason)
	}
}
