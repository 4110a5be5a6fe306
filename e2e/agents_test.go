package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// contactCenter is a config with two agent phones (1001 alice, 1002 bob)
// registered to tandem, the router queuing 3000 to skill group sales and
// 3100 to support.
func contactCenter() string {
	return `
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users:
  - {user: "1001", password: p1001}
  - {user: "1002", password: p1002}
dial_plan: [{pattern: "1XXX", registered: true}]
call_server:
  ring_timeout: 2s
router:
  ring_no_answer: 20s
  wrap_up: 3s
  dialed_numbers:
    - {number: "3000", call_type: sales}
    - {number: "3100", call_type: support}
  call_types:
    - {name: sales, script: sales}
    - {name: support, script: support}
  skill_groups: [{name: sales}, {name: support}]
  agents:
    - {id: alice, extension: "1001", password: a, skill_groups: [sales]}
    - {id: bob, extension: "1002", password: b, skill_groups: [sales, support]}
  scripts:
    - name: sales
      nodes:
        - {id: s, type: start, next: q}
        - {id: q, type: queue, skill_groups: [sales], next: e}
        - {id: e, type: end}
    - name: support
      nodes:
        - {id: s, type: start, next: q}
        - {id: q, type: queue, skill_groups: [support], next: e}
        - {id: e, type: end}
`
}

// phone registers extension ext (password pass) for a SIPp UAS on a free
// port running scenarioFile ("" for the built-in answering UAS).
func phone(t *testing.T, n *node, ext, pass, scenarioFile string, extra ...string) *sipp {
	t.Helper()
	port := freePort(t)
	uas := startUAS(t, port, scenarioFile, extra...)
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "register.xml", "USER", ext, "PASS", pass, "CODE", "200", "CONTACT", "127.0.0.1:"+strconv.Itoa(port)), "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("register %s: %d ok, %d failed", ext, ok, failed)
	}
	return uas
}

// ready logs an agent in and makes it ready through the CTI API, as its
// desktop would.
func ready(t *testing.T, n *node, id, pass, ext string) {
	t.Helper()
	var lr cti.LoginResponse
	code := ctiCall(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: router.AgentID(id), Password: pass, Extension: ext}, &lr)
	if code != 200 {
		t.Fatalf("login %s: %d", id, code)
	}
	if code := ctiCall(t, n, "POST", "/v1/agents/"+id+"/state", lr.Token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("%s ready: %d", id, code)
	}
}

func agentState(t *testing.T, n *node, id string) router.AgentStatus {
	t.Helper()
	st, err := n.engine.Agent(router.AgentID(id))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// routedTo returns the agents the calls were offered to, in order.
func routedTo(n *node) []string {
	var out []string
	for _, e := range n.events.Events() {
		if e.Kind == event.CallRouted {
			if _, a, ok := strings.Cut(e.Reason, "agent="); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func TestLongestAvailableAgentAndWrapUp(t *testing.T) {
	n := startTandem(t, contactCenter())
	phone(t, n, "1001", "p1001", "")
	phone(t, n, "1002", "p1002", "")
	ready(t, n, "alice", "a", "1001")
	ready(t, n, "bob", "b", "1002") // alice has waited longer
	ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "3000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("first call: %d ok, %d failed", ok, failed)
	}
	// alice took it and is in wrap-up: the next call goes to bob.
	waitFor(t, 5*time.Second, "alice in wrap-up", func() bool { return agentState(t, n, "alice").State == router.WorkReady })
	ok, failed = runUAC(t, n.addr, "-sn", "uac", "-s", "3000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("second call: %d ok, %d failed", ok, failed)
	}
	if got := routedTo(n); fmt.Sprint(got) != "[alice bob]" {
		t.Fatalf("calls offered to %v, want [alice bob]", got)
	}
	// Wrap-up ends by itself after wrap_up.
	waitFor(t, 10*time.Second, "alice ready after wrap-up", func() bool { return agentState(t, n, "alice").State == router.Ready })
}

func TestRingNoAnswerRequeuesToNextAgent(t *testing.T) {
	n := startTandem(t, contactCenter())
	phone(t, n, "1001", "p1001", scenario(t, "uas-ring.xml")) // alice never answers
	phone(t, n, "1002", "p1002", "")
	ready(t, n, "alice", "a", "1001")
	done := make(chan [2]int, 1)
	go func() {
		ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "3000", "-m", "1")
		done <- [2]int{ok, failed}
	}()
	// alice rings for ring_timeout, goes not ready (32767), and the call
	// waits at the front of the queue until bob is ready.
	waitFor(t, 10*time.Second, "alice not ready after RONA", func() bool {
		st := agentState(t, n, "alice")
		return st.State == router.NotReady && st.Reason == 32767
	})
	ready(t, n, "bob", "b", "1002")
	select {
	case r := <-done:
		if r[0] != 1 || r[1] != 0 {
			t.Fatalf("caller: %d ok, %d failed", r[0], r[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("call never reached bob")
	}
	if got := routedTo(n); fmt.Sprint(got) != "[alice bob]" {
		t.Fatalf("offered to %v, want [alice bob]", got)
	}
}

func TestAbandonWhileQueued(t *testing.T) {
	n := startTandem(t, contactCenter())
	// Nobody is ready: the caller hears ringback (180) and gives up.
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-cancel.xml"), "-s", "3000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "the call to leave", func() bool { return n.cs.Active() == 0 })
	st, err := n.engine.Stats("sales")
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting != 0 {
		t.Fatalf("%d calls still waiting after the caller abandoned", st.Waiting)
	}
	if got := outcomes(n.events.Events())[event.OutcomeAbandoned]; got != 1 {
		t.Fatalf("abandoned calls: %d", got)
	}
	// The queue works after: an agent who comes ready is not offered a
	// ghost call.
	phone(t, n, "1001", "p1001", "")
	ready(t, n, "alice", "a", "1001")
	if st := agentState(t, n, "alice"); st.State != router.Ready {
		t.Fatalf("alice is %v, want ready", st.State)
	}
}

func TestBlindTransferToSkillGroup(t *testing.T) {
	n := startTandem(t, contactCenter())
	phone(t, n, "1001", "p1001", "")
	bobPhone := phone(t, n, "1002", "p1002", "", "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-move.xml"), "-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	// alice sets call data, then transfers the caller to support, where bob
	// is ready; the data goes with the call to bob's desktop.
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/data", alice.token,
		cti.CallDataRequest{Variables: map[string]string{"pv3": "order 42"}}, nil); code/100 != 2 {
		t.Fatalf("set call data: %d", code)
	}
	bob := login(t, n, "bob", "b", "1002")
	if code := ctiCall(t, n, "POST", "/v1/agents/bob/state", bob.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("bob ready: %d", code)
	}
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
		cti.TransferRequest{To: "queue", Dest: "support"}, nil); code/100 != 2 {
		t.Fatalf("transfer: %d", code)
	}
	popped := bob.await(t, cti.EventCallOffered)
	if popped.Call != offer.Call || popped.Data == nil || popped.Data.Variables["pv3"] != "order 42" {
		t.Fatalf("bob's desktop popped %+v", popped)
	}
	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	bobPhone.wait(10 * time.Second)
	if ok, _ := bobPhone.counts(); ok != 1 {
		t.Fatal("bob's phone did not get the transferred call")
	}
	waitFor(t, 5*time.Second, "alice in wrap-up or ready", func() bool {
		s := agentState(t, n, "alice").State
		return s == router.WorkReady || s == router.Ready
	})
	if countKind(n.events.ForCall(event.CallID(offer.Call)), event.CallMoved) != 1 {
		t.Fatal("the caller's media was not moved to bob")
	}
}
