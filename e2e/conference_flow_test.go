package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/conference"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestConferenceThroughCTI: alice takes a call, consults bob, then
// conferences the three through the CTI API: the call server opens three
// legs to a room of the conference bridge and re-INVITEs the caller, alice
// and bob with the bridge's offers, so the room has three parties, both
// agents talking. Hold is refused in a conference; the caller's BYE
// releases every leg (the phones', the bridge's) and both agents wrap up.
func TestConferenceThroughCTI(t *testing.T) {
	need(t, "sipp")
	bridge := freePort(t)
	cfg := strings.Replace(contactCenter(), `dial_plan: [{pattern: "1XXX", registered: true}]`,
		`dial_plan: [{pattern: "1XXX", registered: true}, {pattern: "conf-!", server_group: conference}]`, 1)
	n := startTandem(t, cfg+fmt.Sprintf(`
conference: {listen: "127.0.0.1:%d"}
server_groups:
  - name: conference
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
`, bridge, bridge))
	alicePhone := phone(t, n, "1001", "p1001", scenario(t, "uas-conference-agent.xml"), "-m", "1")
	bobPhone := phone(t, n, "1002", "p1002", scenario(t, "uas-conference-target.xml"), "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-conference.xml"),
		"-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	call := "/v1/agents/alice/calls/" + string(offer.Call)
	bob := login(t, n, "bob", "b", "1002")
	if code := ctiCall(t, n, "POST", "/v1/agents/bob/state", bob.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("bob ready: %d", code)
	}
	if code := ctiCall(t, n, "POST", call+"/conference", alice.token, nil, nil); code != 409 {
		t.Fatalf("conference without a consult: %d, want 409", code)
	}
	if code := ctiCall(t, n, "POST", call+"/consult", alice.token, cti.ConsultRequest{To: "queue", Dest: "support"}, nil); code != 200 {
		t.Fatalf("consult: %d", code)
	}
	if code := ctiCall(t, n, "POST", call+"/conference", alice.token, nil, nil); code/100 != 2 {
		t.Fatalf("conference: %d", code)
	}
	if got := n.Conference.RoomSize(conference.RoomID(offer.Call)); got != 3 {
		t.Fatalf("the call's room has %d parties, want 3", got)
	}
	for _, id := range []string{"alice", "bob"} {
		if s := agentState(t, n, id); s.State != router.Talking {
			t.Fatalf("%s in the conference: %s, want talking", id, s.State)
		}
	}
	if code := ctiCall(t, n, "POST", call+"/hold", alice.token, nil, nil); code != 409 {
		t.Fatalf("hold in a conference: %d, want 409", code)
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
	waitFor(t, 10*time.Second, "the room closed", func() bool { return n.Conference.RoomSize(conference.RoomID(offer.Call)) == 0 })
	if evs := n.events.ForCall(event.CallID(offer.Call)); countKind(evs, event.CallConferenced) != 1 {
		t.Fatalf("events %+v: want one call.conferenced", evs)
	}
	for _, id := range []string{"alice", "bob"} {
		waitFor(t, 10*time.Second, id+" in wrap-up or ready", func() bool {
			s := agentState(t, n, id)
			return s.Call == "" && (s.State == router.WorkReady || s.State == router.Ready)
		})
	}
}
