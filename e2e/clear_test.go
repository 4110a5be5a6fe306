package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestClearCallOverCTI: a supervisor clears a call that alice is talking
// on (POST /v1/calls/{id}/clear): the SIPp caller and alice's SIPp phone
// each get BYE, alice goes to wrap-up, and the call's record says cleared
// with the supervisor named on its call.ended. An agent may not clear,
// and an unknown call is 404.
func TestClearCallOverCTI(t *testing.T) {
	n := startTandem(t, withCTI(contactCenter()))
	alicePhone := phone(t, n, "1001", "p1001", "", "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-recv-bye.xml"),
		"-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	sup := supervisor(t, n)
	path := "/v1/calls/" + string(offer.Call) + "/clear"
	if code := ctiCall(t, n, "POST", path, alice.token, nil, nil); code != 403 {
		t.Fatalf("an agent clearing: %d, want 403", code)
	}
	if code := ctiCall(t, n, "POST", "/v1/calls/nosuchcall/clear", sup, nil, nil); code != 404 {
		t.Fatalf("an unknown call: %d, want 404", code)
	}
	var res cti.ClearResponse
	if code := ctiCall(t, n, "POST", path, sup, nil, &res); code != 200 || res.ClearedBy != "supervisor sue" {
		t.Fatalf("clear: %d %+v", code, res)
	}
	sippDone(t, caller, "caller (BYE)")
	sippDone(t, alicePhone, "alice's phone (BYE)")
	alice.await(t, cti.EventCallEnded)
	// wrap_up is 3 s here: work_ready, or ready once it passed.
	waitFor(t, 5*time.Second, "alice freed", func() bool {
		st := agentState(t, n, "alice")
		return (st.State == router.WorkReady || st.State == router.Ready) && st.Call == ""
	})
	ended := callEnded(t, n, event.CallID(offer.Call))
	if ended.Outcome != event.OutcomeCleared || !strings.Contains(ended.Reason, "supervisor sue") {
		t.Fatalf("call ended %q (%s), want cleared by supervisor sue", ended.Outcome, ended.Reason)
	}
	rec := callRecords(t, n, sup, string(offer.Call), func(r callRec) bool {
		l := r.leg("caller")
		return l != nil && l.Disposition != "in_progress"
	})
	rec.want(t, "caller", "cleared")
	if code := ctiCall(t, n, "POST", path, sup, nil, nil); code != 404 {
		t.Fatalf("clearing a call already gone: %d, want 404", code)
	}
}

// TestClearQueuedCall: a call waiting in queue (nobody ready) is cleared:
// the caller's INVITE gets 480, and the queue is empty again.
func TestClearQueuedCall(t *testing.T) {
	n := startTandem(t, withCTI(contactCenter()))
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-expect.xml", "CODE", "480"),
		"-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	var id event.CallID
	waitFor(t, 10*time.Second, "the call queued", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.QueueEnter {
				id = e.Call
				return true
			}
		}
		return false
	})
	sup := supervisor(t, n)
	if code := ctiCall(t, n, "POST", "/v1/calls/"+string(id)+"/clear", sup, nil, nil); code != 200 {
		t.Fatalf("clear: %d", code)
	}
	sippDone(t, caller, "caller (480)")
	if ended := callEnded(t, n, id); ended.Outcome != event.OutcomeCleared {
		t.Fatalf("call ended %q (%s), want cleared", ended.Outcome, ended.Reason)
	}
	st, err := n.engine.Stats("sales")
	if err != nil || st.Waiting != 0 {
		t.Fatalf("sales after the clear: %+v, %v; want nobody waiting", st, err)
	}
}
