package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// director is a call-director config: 2000 goes to the server group on
// port A, labels "a" and "b" to groups on ports A and B, 1XXX to phones.
func director(trunkNet string, a, b int) string {
	return fmt.Sprintf(`
sip:
  listen:
    - {transport: udp, address: "127.0.0.1:SIPPORT"}
    - {transport: tcp, address: "127.0.0.1:SIPPORT"}
trunks:
  - {name: gw, networks: ["%s"]}
users:
  - {user: "1001", password: secret1001}
server_groups:
  - name: ga
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
  - name: gb
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
dial_plan:
  - {pattern: "2000", server_group: ga}
  - {pattern: "a", server_group: ga}
  - {pattern: "b", server_group: gb}
  - {pattern: "1XXX", registered: true}
routing:
  static:
    - {dnis: "2000", labels: ["2000"]}
    - {dnis: "2001", labels: ["1001"]}
    - {dnis: "3000", labels: ["a", "b"]}
call_server:
  ring_timeout: 5s
`, trunkNet, a, b)
}

func TestBasicCallByeFromCaller(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	startUAS(t, a, "")
	ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "2000", "-m", "5", "-r", "10")
	if ok != 5 || failed != 0 {
		t.Fatalf("calls: %d ok, %d failed; want 5 ok", ok, failed)
	}
	waitFor(t, 5*time.Second, "calls to end", func() bool { return n.cs.Active() == 0 })
	if got := outcomes(n.events.Events())[event.OutcomeAnswered]; got != 5 {
		t.Errorf("answered calls reported: %d, want 5", got)
	}
}

func TestByeFromCallee(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	uas := startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "300"), "-m", "1")
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-recv-bye.xml"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	uas.wait(10 * time.Second)
	if ok, failed := uas.counts(); ok != 1 || failed != 0 {
		t.Fatalf("callee: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "call to end", func() bool { return n.cs.Active() == 0 })
}

func TestCancelBeforeAnswer(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	uas := startUAS(t, a, scenario(t, "uas-ring.xml"), "-m", "1")
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-cancel.xml"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	uas.wait(15 * time.Second)
	if ok, failed := uas.counts(); ok != 1 || failed != 0 {
		t.Fatalf("callee did not see the CANCEL: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "call to end", func() bool { return n.cs.Active() == 0 })
	if got := outcomes(n.events.Events())[event.OutcomeAbandoned]; got != 1 {
		t.Errorf("abandoned calls reported: %d, want 1", got)
	}
}

func TestFailoverOn486ToNextLabel(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	busy := startUAS(t, a, scenario(t, "uas-code.xml", "CODE", "486"), "-m", "1")
	startUAS(t, b, "")
	ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "3000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	busy.wait(10 * time.Second)
	evs := n.events.Events()
	var saw486 bool
	for _, e := range evs {
		if e.Kind == event.LegFailed && e.Code == 486 {
			saw486 = true
		}
	}
	if !saw486 || countKind(evs, event.CallAnswered) != 1 {
		t.Fatalf("want a leg failed with 486 then an answer; events: %+v", evs)
	}
}

func TestFailoverOn503WithinServerGroup(t *testing.T) {
	bad, good := freePort(t), freePort(t)
	n := startTandem(t, fmt.Sprintf(`
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups:
  - name: g
    heartbeat: {enabled: false}
    destinations:
      - {address: "127.0.0.1:%d", priority: 1}
      - {address: "127.0.0.1:%d", priority: 2}
dial_plan: [{pattern: "2000", server_group: g}]
routing:
  static: [{dnis: "2000", labels: ["2000"]}]
`, bad, good))
	overloaded := startUAS(t, bad, scenario(t, "uas-code.xml", "CODE", "503"), "-m", "1")
	startUAS(t, good, "")
	ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	overloaded.wait(10 * time.Second)
	if ok, _ := overloaded.counts(); ok != 1 {
		t.Fatalf("the first destination was not tried")
	}
}

func TestUnknownNumberGets404(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-expect.xml", "CODE", "404"), "-s", "9999", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("want 404: %d ok, %d failed", ok, failed)
	}
	if got := outcomes(n.events.Events())[event.OutcomeRejected]; got != 1 {
		t.Errorf("rejected calls reported: %d, want 1", got)
	}
}

func TestUntrustedSourceMustAuthenticate(t *testing.T) {
	a, b := freePort(t), freePort(t)
	// 127.0.0.1 is not in the trunk's network: callers must authenticate.
	n := startTandem(t, director("192.0.2.0/24", a, b))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-noauth.xml"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("without credentials want 407 then 403: %d ok, %d failed", ok, failed)
	}
	if n.cs.Active() != 0 || countKind(n.events.Events(), event.CallNew) != 0 {
		t.Fatalf("an unauthenticated INVITE became a call")
	}
	startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "300"), "-m", "1")
	ok, failed = runUAC(t, n.addr, "-sf", scenario(t, "uac-auth.xml", "PASS", "secret1001", "CODE", "200"), "-s", "2000", "-m", "1",
		// SIPp's digest uri is remote_ip:remote_port unless told; tandem
		// wants the Request-URI (RFC 3261 §22.4).
		"-auth_uri", "2000@"+n.addr)
	if ok != 1 || failed != 0 {
		t.Fatalf("with credentials want the call: %d ok, %d failed", ok, failed)
	}
}

func TestRegisterAndCallExtension(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	phone := freePort(t)
	contact := "127.0.0.1:" + strconv.Itoa(phone)
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "register.xml", "USER", "1001", "PASS", "wrong", "CODE", "403", "CONTACT", contact), "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("wrong password want 403: %d ok, %d failed", ok, failed)
	}
	if len(n.edge.Bindings("1001")) != 0 {
		t.Fatal("a wrong password registered")
	}
	ok, failed = runUAC(t, n.addr, "-sf", scenario(t, "register.xml", "USER", "1001", "PASS", "secret1001", "CODE", "200", "CONTACT", contact), "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("right password want 200: %d ok, %d failed", ok, failed)
	}
	if bs := n.edge.Bindings("1001"); len(bs) != 1 || bs[0].Contact.Port != phone {
		t.Fatalf("bindings after REGISTER: %+v", bs)
	}
	startUAS(t, phone, "")
	ok, failed = runUAC(t, n.addr, "-sn", "uac", "-s", "2001", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("call to the registered extension: %d ok, %d failed", ok, failed)
	}
}

func TestTwoHundredCallsAtHundredPerSecond(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	startUAS(t, a, "")
	ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "2000", "-m", "200", "-r", "100", "-l", "400")
	if ok != 200 || failed != 0 {
		t.Fatalf("calls: %d ok, %d failed; want 200 ok", ok, failed)
	}
	waitFor(t, 10*time.Second, "calls to end", func() bool { return n.cs.Active() == 0 })
	if got := outcomes(n.events.Events())[event.OutcomeAnswered]; got != 200 {
		t.Errorf("answered calls reported: %d, want 200", got)
	}
}

func TestMoveCallerToAnotherLeg(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	first := startUAS(t, a, "", "-m", "1")
	second := startUAS(t, b, "", "-m", "1")
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-move.xml"), "-s", "2000", "-m", "1", "-timeout", "30s", "-timeout_error")

	var id event.CallID
	waitFor(t, 10*time.Second, "the call to be answered", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.CallAnswered {
				id = e.Call
				return true
			}
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.cs.Move(ctx, id, "b"); err != nil {
		t.Fatalf("move: %v", err)
	}
	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	first.wait(10 * time.Second)
	second.wait(10 * time.Second)
	if ok, _ := first.counts(); ok != 1 {
		t.Errorf("first callee was not released with BYE")
	}
	if ok, _ := second.counts(); ok != 1 {
		t.Errorf("second callee did not get the call and its BYE")
	}
	if countKind(n.events.ForCall(id), event.CallMoved) != 1 {
		t.Errorf("no call.moved event")
	}
	waitFor(t, 5*time.Second, "call to end", func() bool { return n.cs.Active() == 0 })
}

// TestCallJourneyIsStored: every event of a call reaches the durable store
// (SQLite by default) in order, from call.new to call.ended.
func TestCallJourneyIsStored(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	startUAS(t, a, "")
	if ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "2000", "-m", "1"); ok != 1 || failed != 0 {
		t.Fatalf("call: %d ok, %d failed", ok, failed)
	}
	var id event.CallID
	for _, e := range n.events.Events() {
		if e.Kind == event.CallNew {
			id = e.Call
		}
	}
	var journey []event.Event
	waitFor(t, 5*time.Second, "the journey in the store", func() bool {
		var err error
		journey, err = n.Reports.CallJourney(context.Background(), id)
		return err == nil && countKind(journey, event.CallEnded) == 1
	})
	if journey[0].Kind != event.CallNew || journey[0].Seq != 1 {
		t.Fatalf("journey starts with %+v", journey[0])
	}
	for i := 1; i < len(journey); i++ {
		if journey[i].Seq != journey[i-1].Seq+1 || journey[i].ID == "" {
			t.Fatalf("journey out of order or without ids: %+v", journey)
		}
	}
	if countKind(journey, event.CallAnswered) != 1 {
		t.Fatalf("no answer in the journey: %+v", journey)
	}
}
