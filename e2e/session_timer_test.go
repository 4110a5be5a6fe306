package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
)

// startTimerNode runs the call director with session timers made short
// for the test: call_server.session_expires and min_se are set on the
// parsed config, below the 90 s floor that Validate keeps for real
// deployments (RFC 4028 §5), so a test waits seconds, not minutes.
func startTimerNode(t *testing.T, a, b int, interval, minSE time.Duration) *node {
	t.Helper()
	port := freePort(t)
	yaml := strings.ReplaceAll(director("127.0.0.0/8", a, b), "SIPPORT", strconv.Itoa(port))
	cfg, err := config.Parse(t.Name()+".yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.CallServer.SessionExpires = config.Duration(interval)
	cfg.CallServer.MinSE = config.Duration(minSE)
	return startNode(t, cfg, port)
}

// eventTime returns when the call's first event of kind k happened.
func eventTime(t *testing.T, evs []event.Event, k event.Kind) time.Time {
	t.Helper()
	for _, e := range evs {
		if e.Kind == k {
			return e.Time
		}
	}
	t.Fatalf("no %s event", k)
	return time.Time{}
}

// TestSessionTimerCallerStopsRefreshing: a caller asks for a 4 s session
// timer that it refreshes itself, and never does. tandem grants it
// (Session-Expires 4;refresher=uac, Require: timer) and, with no refresh by
// 4 s less min(32 s, 4/3 s), BYEs both legs: the call is released within
// the interval and reported session_expired.
func TestSessionTimerCallerStopsRefreshing(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTimerNode(t, a, b, 20*time.Second, 2*time.Second)
	callee := startUAS(t, a, "", "-m", "1")
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf",
		scenario(t, "uac-timer-silent.xml", "SE", "4", "WAIT", "15000"), "-s", "2000", "-m", "1", "-timeout", "30s", "-timeout_error")
	sippDone(t, caller, "caller (granted the timer, then BYE)")
	sippDone(t, callee, "callee (BYE)")
	var id event.CallID
	waitFor(t, 10*time.Second, "the call to end", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.CallEnded {
				id = e.Call
				return true
			}
		}
		return false
	})
	evs := n.events.ForCall(id)
	ended := evs[len(evs)-1]
	for _, e := range evs {
		if e.Kind == event.CallEnded {
			ended = e
		}
	}
	if ended.Outcome != event.OutcomeSessionExpired {
		t.Fatalf("call ended %q (%s), want session_expired", ended.Outcome, ended.Reason)
	}
	held := ended.Time.Sub(eventTime(t, evs, event.CallAnswered))
	if held < 2*time.Second || held >= 4*time.Second {
		t.Fatalf("released %v after answer, want within the 4 s interval and not before its 2.67 s expiry margin", held)
	}
	waitFor(t, 5*time.Second, "no call left", func() bool { return n.cs.Active() == 0 })
}

// TestSessionTimerTooSmallGets422: an interval below min_se is refused
// with 422 and our Min-SE (RFC 4028 §8.1), and no call is made.
func TestSessionTimerTooSmallGets422(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTimerNode(t, a, b, 20*time.Second, 2*time.Second)
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-timer-small.xml", "MINSE", "2"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller expecting 422 with Min-SE 2: %d ok, %d failed", ok, failed)
	}
	if c := countKind(n.events.Events(), event.CallNew); c != 0 {
		t.Fatalf("%d calls made for a refused interval", c)
	}
}

// TestSessionTimerRefreshThenDeadCallee: the callee grants a 4 s timer
// that tandem refreshes (refresher=uac). tandem re-INVITEs it at half the
// interval; the first refresh is answered, the second meets 481 (the
// callee lost the dialog): the caller gets BYE and the call is reported
// session_expired.
func TestSessionTimerRefreshThenDeadCallee(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTimerNode(t, a, b, 20*time.Second, 2*time.Second)
	callee := startUAS(t, a, scenario(t, "uas-timer-refresh.xml", "SE", "4", "WAIT", "10000"), "-m", "1")
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf",
		scenario(t, "uac-recv-bye.xml"), "-s", "2000", "-m", "1", "-timeout", "30s", "-timeout_error")
	sippDone(t, callee, "callee (offered the timer, refreshed once, then 481)")
	sippDone(t, caller, "caller (BYE)")
	var ended event.Event
	waitFor(t, 10*time.Second, "the call to end", func() bool {
		for _, e := range n.events.Events() {
			if e.Kind == event.CallEnded {
				ended = e
				return true
			}
		}
		return false
	})
	if ended.Outcome != event.OutcomeSessionExpired {
		t.Fatalf("call ended %q (%s), want session_expired", ended.Outcome, ended.Reason)
	}
	held := ended.Time.Sub(eventTime(t, n.events.ForCall(ended.Call), event.CallAnswered))
	if held < 3*time.Second || held > 8*time.Second {
		t.Fatalf("released %v after answer, want after the second refresh (about 4 s)", held)
	}
}

// TestSessionTimerCallerRefreshes: the caller refreshes its 4 s timer
// once with a re-INVITE offering its session unchanged; tandem answers it
// with the timer itself, and the callee (SIPp's built-in UAS, which fails
// on any re-INVITE) is never re-INVITEd. The call lasts past the first
// interval's expiry margin and ends with the caller's BYE.
func TestSessionTimerCallerRefreshes(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTimerNode(t, a, b, 20*time.Second, 2*time.Second)
	callee := startUAS(t, a, "", "-m", "1")
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf",
		scenario(t, "uac-timer-refresh.xml", "SE", "4"), "-s", "2000", "-m", "1", "-timeout", "30s", "-timeout_error")
	sippDone(t, caller, "caller (refreshed, then BYE)")
	sippDone(t, callee, "callee (no re-INVITE, BYE)")
	waitFor(t, 5*time.Second, "no call left", func() bool { return n.cs.Active() == 0 })
	if got := outcomes(n.events.Events()); got[event.OutcomeAnswered] != 1 || got[event.OutcomeSessionExpired] != 0 {
		t.Fatalf("outcomes %v, want one answered call", got)
	}
}
