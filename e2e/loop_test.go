package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
)

// loopNode is a director whose number 5000 is routed to the server group
// "next" at next (host:port) over UDP, its own SIP port being port.
func loopNode(port int, next string) string {
	return fmt.Sprintf(`
sip:
  listen:
    - {transport: udp, address: "127.0.0.1:%d"}
trunks:
  - {name: lo, networks: ["127.0.0.0/8"]}
server_groups:
  - name: next
    heartbeat: {enabled: false}
    destinations: [{address: "%s"}]
dial_plan:
  - {pattern: "5000", server_group: next}
routing:
  static:
    - {dnis: "5000", labels: ["5000"]}
call_server:
  ring_timeout: 5s
  max_calls: 10000
`, port, next)
}

func startLoopNode(t *testing.T, port int, next string) *node {
	t.Helper()
	cfg, err := config.Parse(t.Name()+".yaml", []byte(loopNode(port, next)))
	if err != nil {
		t.Fatal(err)
	}
	return startNode(t, cfg, port)
}

// legCodes counts the final codes of failed legs.
func legCodes(evs []event.Event) map[int]int {
	m := map[int]int{}
	for _, e := range evs {
		if e.Kind == event.LegFailed {
			m[e.Code]++
		}
	}
	return m
}

// A label whose route leads back to the same tandem: the INVITE that comes
// back carries the call's own X-Tandem-Call-ID and is refused with 482 at
// its first turn, so one INVITE from the caller makes exactly one call.
func TestLoopBackToItselfIs482(t *testing.T) {
	port := freePort(t)
	n := startLoopNode(t, port, "127.0.0.1:"+strconv.Itoa(port))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-expect.xml", "CODE", "482"), "-s", "5000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed; want the call refused with 482", ok, failed)
	}
	waitFor(t, 5*time.Second, "the call to end", func() bool { return n.cs.Active() == 0 })
	evs := n.events.Events()
	if c := countKind(evs, event.CallNew); c != 1 {
		t.Fatalf("%d calls created by one looping INVITE, want 1", c)
	}
	if got := legCodes(evs)[482]; got != 1 {
		t.Fatalf("legs refused with 482: %d, want 1 (%v)", got, legCodes(evs))
	}
	if o := outcomes(evs); o[event.OutcomeFailed] != 1 {
		t.Fatalf("outcomes %v, want the one call failed", o)
	}
}

// Two nodes that route the same number to each other: each node's id
// check sees only the other's ids, so Max-Forwards has to end it. It goes
// down by one per pass; the node that gets it at 1 answers 483, which
// every call in the chain hands back to its caller. A caller sending
// Max-Forwards 10 makes exactly 9 calls (one per hop that could forward).
func TestLoopBetweenTwoNodesEndsAt483(t *testing.T) {
	pa, pb := freePort(t), freePort(t)
	a := startLoopNode(t, pa, "127.0.0.1:"+strconv.Itoa(pb))
	b := startLoopNode(t, pb, "127.0.0.1:"+strconv.Itoa(pa))
	const mf = 10
	ok, failed := runUAC(t, a.addr, "-sf", scenario(t, "uac-hops.xml", "CODE", "483", "MF", strconv.Itoa(mf)), "-s", "5000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed; want the call refused with 483", ok, failed)
	}
	waitFor(t, 10*time.Second, "the calls to end", func() bool { return a.cs.Active() == 0 && b.cs.Active() == 0 })
	ea, eb := a.events.Events(), b.events.Events()
	ca, cb := countKind(ea, event.CallNew), countKind(eb, event.CallNew)
	if ca != 5 || cb != 4 {
		t.Fatalf("calls created: %d on a, %d on b; want 5 and 4 (Max-Forwards %d, one less per hop)", ca, cb, mf)
	}
	// Every leg failed with the 483 the last node answered.
	if got := legCodes(ea)[483] + legCodes(eb)[483]; got != ca+cb {
		t.Fatalf("legs refused with 483: %d, want %d (a %v, b %v)", got, ca+cb, legCodes(ea), legCodes(eb))
	}
	if o := outcomes(ea); o[event.OutcomeFailed] != ca {
		t.Fatalf("a's outcomes %v, want %d failed", o, ca)
	}
}

// An INVITE that arrives with Max-Forwards 1 could only be forwarded with
// 0: tandem answers 483 itself and makes no call; one with 0 is refused by
// the edge (RFC 3261 §16.3); one with 2 is dialed on with 1.
func TestMaxForwardsAtTheDoor(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	for _, mf := range []string{"0", "1"} {
		ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-hops.xml", "CODE", "483", "MF", mf), "-s", "2000", "-m", "1")
		if ok != 1 || failed != 0 {
			t.Fatalf("Max-Forwards %s: %d ok, %d failed; want 483", mf, ok, failed)
		}
	}
	if c := countKind(n.events.Events(), event.CallNew); c != 0 {
		t.Fatalf("%d calls created for INVITEs with no hop left, want 0", c)
	}
	// With 2 the leg to the destination goes out with 1.
	msgs := filepath.Join(t.TempDir(), "uas-messages.log")
	uas := startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "100"), "-m", "1", "-trace_msg", "-message_file", msgs)
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-headers.xml", "FROM", "<sip:caller@127.0.0.1>", "MF", "2", "HEADERS", "      Subject: two hops"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("Max-Forwards 2: %d ok, %d failed; want the call", ok, failed)
	}
	uas.wait(10 * time.Second)
	inv := receivedInvite(t, msgs)
	if mf := inv.MaxForwards(); mf == nil || mf.Val() != 1 {
		t.Fatalf("the leg dialed for an INVITE with Max-Forwards 2 carried %v, want 1", inv.GetHeader("Max-Forwards"))
	}
}
