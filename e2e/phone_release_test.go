package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// TestAbandonWhileAgentPhoneRings is issue #11's false RONA: a caller
// waiting at the VRU is offered to alice, whose phone rings; the caller
// hangs up; a second caller waits. tandem CANCELs the phone's INVITE, and
// the phone answers that INVITE late, or with 486 instead of 487. alice
// must stay ready (no ring-no-answer, no not-ready 32767) and get the
// second call, but only once her phone is done with the first INVITE (its
// final response), or router.PhoneRelease after the abandon when the
// phone is slower than that.
func TestAbandonWhileAgentPhoneRings(t *testing.T) {
	need(t, "sipp")
	for _, tc := range []struct {
		name  string
		slow  time.Duration // the phone's delay from the CANCEL to its final response
		final string
		code  int
	}{
		{"the phone answers the cancelled INVITE 486", 500 * time.Millisecond, "486 Busy Here", 486},
		{"the phone is slower than the bound to 487", router.PhoneRelease + 1500*time.Millisecond, "487 Request Terminated", 487},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Rings long enough that only the caller ends the first offer.
			cfg := strings.Replace(ivrConfig, "ring_timeout: 5s", "ring_timeout: 15s", 1)
			cfg = strings.Replace(cfg, "  wrap_up: 2s\n", "  ring_no_answer: 20s\n  wrap_up: 2s\n", 1)
			n := startTandem(t, fmt.Sprintf(cfg, freePort(t), freePort(t), t.TempDir(), "QT,music"))

			port := freePort(t)
			agentPhone := startUAS(t, port, scenario(t, "uas-phone-release.xml", "SLOW", strconv.Itoa(int(tc.slow.Milliseconds())), "FINAL", tc.final), "-m", "2")
			if ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "register.xml", "USER", "1001", "PASS", "p1001", "CODE", "200", "CONTACT", "127.0.0.1:"+strconv.Itoa(port)), "-m", "1"); ok != 1 || failed != 0 {
				t.Fatalf("register: %d ok, %d failed", ok, failed)
			}
			alice := login(t, n, "alice", "a", "1001")

			atVRU := func(call event.CallID) func() bool {
				return func() bool {
					evs := n.events.ForCall(call)
					return countKind(evs, event.QueueEnter) == 1 && countKind(evs, vxml.KindSessionStarted) == 1
				}
			}
			// The first caller hangs up 6 s after the VRU answers it: by
			// then alice's phone rings with its call.
			first := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-timeout", "60s", "-timeout_error",
				"-sf", scenario(t, "uac-abandon-vru.xml", "WAIT", "6000"), "-s", "4000", "-m", "1")
			call1 := firstCall(t, n)
			waitFor(t, 20*time.Second, "the first caller queued at the VRU", atVRU(call1))
			second := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-timeout", "60s", "-timeout_error",
				"-sf", scenario(t, "uac-move.xml"), "-s", "4000", "-m", "1")
			var call2 event.CallID
			waitFor(t, 10*time.Second, "the second call", func() bool {
				for _, e := range n.events.Events() {
					if e.Kind == event.CallNew && e.Call != call1 {
						call2 = e.Call
						return true
					}
				}
				return false
			})
			waitFor(t, 20*time.Second, "the second caller queued at the VRU", atVRU(call2))
			if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
				t.Fatalf("ready: %d", code)
			}

			first.wait(40 * time.Second)
			if ok, failed := first.counts(); ok != 1 || failed != 0 {
				t.Fatalf("first caller: %d ok, %d failed", ok, failed)
			}
			second.wait(40 * time.Second)
			if ok, failed := second.counts(); ok != 1 || failed != 0 {
				t.Fatalf("second caller (moved to alice): %d ok, %d failed", ok, failed)
			}
			agentPhone.wait(20 * time.Second)
			if ok, failed := agentPhone.counts(); ok != 2 || failed != 0 {
				t.Fatalf("alice's phone: %d ok, %d failed, want both calls through its scenario", ok, failed)
			}

			// Where each thing happened, in the order tandem emitted it.
			evs := n.events.Events()
			phoneLeg := func(call event.CallID) (event.LegID, int) {
				for i, e := range evs {
					if e.Kind == event.LegNew && e.Call == call && strings.Contains(e.Peer, ":"+strconv.Itoa(port)) {
						return e.Leg, i
					}
				}
				t.Fatalf("no leg of %s to alice's phone", call)
				return "", 0
			}
			index := func(what string, match func(event.Event) bool) int {
				for i, e := range evs {
					if match(e) {
						return i
					}
				}
				t.Fatalf("no event: %s", what)
				return 0
			}
			leg1, _ := phoneLeg(call1)
			ringing := index("alice's phone ringing with the first call", func(e event.Event) bool { return e.Kind == event.LegRinging && e.Leg == leg1 })
			ended := index("the first call ended", func(e event.Event) bool { return e.Kind == event.CallEnded && e.Call == call1 })
			final := index("the phone's final response to the cancelled INVITE", func(e event.Event) bool {
				return e.Kind == event.LegFailed && e.Leg == leg1 && e.Code == tc.code
			})
			_, offer2 := phoneLeg(call2)
			if !(ringing < ended && ended < final) {
				t.Fatalf("order: ringing %d, caller gone %d, phone's %d %d: the caller did not hang up while the phone rang", ringing, ended, tc.code, final)
			}
			gap := evs[offer2].Time.Sub(evs[ended].Time)
			switch {
			case tc.slow < router.PhoneRelease && offer2 < final:
				t.Errorf("the second call was sent to alice's phone %s after the abandon, before the phone's %d to the first: the phone was still busy", gap, tc.code)
			case tc.slow > router.PhoneRelease && (gap < router.PhoneRelease-200*time.Millisecond || offer2 > final):
				t.Errorf("the second call was sent to alice's phone %s after the abandon (phone's final at event %d, offer at %d): want it after the %s bound, not before and not waiting for the slow phone",
					gap, final, offer2, router.PhoneRelease)
			}
			t.Logf("second offer %s after the abandon", gap)

			// No ring-no-answer: alice was never made not ready.
			for _, e := range evs {
				if e.Kind == event.AgentRONA || e.Kind == event.AgentState && e.Agent == "alice" && e.ReasonCode == router.RONAReason {
					t.Errorf("ring-no-answer after an abandon: %+v", e)
				}
			}
			if got := countKind(n.events.ForCall(call2), event.CallMoved); got != 1 {
				t.Errorf("the second caller was moved %d times, want once (to alice)", got)
			}
		})
	}
}
