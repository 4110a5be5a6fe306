package sipedge

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"
)

func parseCfg(t *testing.T, text string) *Config {
	t.Helper()
	cfg, err := parseConfig(t.Name()+".yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const reloadBefore = `
sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}
trunks: [{name: gw, networks: ["10.0.0.0/8"]}]
users: [{user: "1001", password: a}, {user: "1002", password: b}]
server_groups:
  - {name: g1, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:5001"}, {address: "127.0.0.1:5002"}]}
  - {name: g2, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:5003"}]}
dial_plan:
  - {pattern: "1XXX", registered: true}
  - {pattern: "2XXX", server_group: g1}
  - {pattern: "3XXX", server_group: g2}
`

const reloadAfter = `
sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}
trunks: [{name: gw, networks: ["192.168.0.0/16"]}, {name: new, networks: ["10.1.0.0/16"]}]
users: [{user: "1001", password: a2}]
server_groups:
  - {name: g1, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:5002", priority: 1}, {address: "127.0.0.1:5004", priority: 2}]}
dial_plan:
  - {pattern: "1XXX", registered: true}
  - {pattern: "2XXX", server_group: g1}
  - {pattern: "4XXX", server_group: g1}
`

func newTestEdge(t *testing.T, text string) *Edge {
	t.Helper()
	e, err := New(parseCfg(t, text), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReload: what a reload keeps (surviving destinations' health, the
// registrations of surviving users) and what it drops or replaces.
func TestReload(t *testing.T) {
	e := newTestEdge(t, reloadBefore)
	for _, u := range []string{"1001", "1002"} {
		if r := e.reg.register(u, regReq(t, "c"+u, 1, "600", "sip:"+u+"@127.0.0.1:6"+u[1:])); r.code != 200 {
			t.Fatalf("register %s: %d", u, r.code)
		}
	}
	// 5002 is down (failed calls) before the reload, 5001 up.
	targets, err := e.Resolve("2000")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Addr == "127.0.0.1:5002" {
			for range 3 { // heartbeat.failures' default
				e.Report(tg, false)
			}
		}
	}
	before := targets // resolved before the reload: a call in progress

	if err := e.Reload(parseCfg(t, reloadAfter)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"old trunk network no longer trusted", e.trunkOf("10.2.3.4"), ""},
		{"new trunk trusted", e.trunkOf("10.1.2.3"), "new"},
		{"changed trunk network trusted", e.trunkOf("192.168.1.1"), "gw"},
		{"surviving user keeps registration", len(e.Bindings("1001")), 1},
		{"removed user's registration dropped", len(e.Bindings("1002")), 0},
		{"removed user cannot authenticate", e.hasUser("1002"), false},
		{"surviving user", e.hasUser("1001"), true},
		{"surviving destination keeps its down state", destUp(e, "g1", "127.0.0.1:5002"), "down"},
		{"new destination starts up", destUp(e, "g1", "127.0.0.1:5004"), "up"},
		{"removed destination gone", destUp(e, "g1", "127.0.0.1:5001"), "absent"},
		{"removed group gone", destUp(e, "g2", "127.0.0.1:5003"), "absent"},
		{"removed rule", resolveErr(e, "3000"), ErrNoRoute},
		{"new rule", resolveFirst(e, "4000"), "127.0.0.1:5004"},
		{"trunks listed", fmt.Sprint(e.Trunks()), "[{gw [192.168.0.0/16]} {new [10.1.0.0/16]}]"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}

	// A call resolved before the reload reports to the successor of its
	// destination: 5002 answers, so the new table's 5002 comes up; the
	// removed 5001 is not resurrected by its report.
	for _, tg := range before {
		e.Report(tg, true)
	}
	if got := destUp(e, "g1", "127.0.0.1:5002"); got != "up" {
		t.Errorf("a call's success after the reload: 5002 is %s, want up", got)
	}
	if got := destUp(e, "g1", "127.0.0.1:5001"); got != "absent" {
		t.Errorf("a call's report after the reload: 5001 is %s, want absent", got)
	}
}

// TestReloadRefused: an invalid configuration changes nothing.
func TestReloadRefused(t *testing.T) {
	e := newTestEdge(t, reloadBefore)
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"bad CIDR", func(c *Config) { c.Trunks[0].Networks = []string{"10.0.0.0/33"} }, "trunks[0].networks[0]"},
		{"unknown server group", func(c *Config) { c.DialPlan[2].ServerGroup = "nosuch" }, "dial_plan[2].server_group"},
		{"user twice", func(c *Config) { c.Users = append(c.Users, User{User: "1001", Password: "x"}) }, "users[1].user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// An empty trunks table in the new config: the swap, if it
			// happened, would show.
			cfg := parseCfg(t, reloadAfter)
			tc.change(cfg)
			err := e.Reload(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Reload: %v, want an error naming %s", err, tc.want)
			}
			if e.trunkOf("10.2.3.4") != "gw" || resolveFirst(e, "3000") != "127.0.0.1:5003" || !e.hasUser("1002") {
				t.Error("a refused reload changed the tables")
			}
		})
	}
}

func destUp(e *Edge, group, addr string) string {
	for _, g := range e.ServerGroups() {
		if g.Name != group {
			continue
		}
		for _, d := range g.Destinations {
			if d.Address == addr {
				if d.Up {
					return "up"
				}
				return "down"
			}
		}
	}
	return "absent"
}

func resolveErr(e *Edge, label string) error {
	_, err := e.Resolve(label)
	switch {
	case errors.Is(err, ErrNoRoute):
		return ErrNoRoute
	case errors.Is(err, ErrAllDown):
		return ErrAllDown
	}
	return err
}

func resolveFirst(e *Edge, label string) string {
	ts, err := e.Resolve(label)
	if err != nil || len(ts) == 0 {
		return fmt.Sprint(err)
	}
	return ts[0].Addr
}

type nopHandler struct{}

func (nopHandler) HandleInvite(req *sip.Request, tx sip.ServerTransaction, _ Origin) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil))
}
func (nopHandler) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if !req.IsAck() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call Does Not Exist", nil))
	}
}
func (nopHandler) HandleStrayResponse(*sip.Response) {}

// runEdge runs e until the test ends.
func runEdge(t *testing.T, e *Edge) {
	t.Helper()
	e.Handle(nopHandler{})
	if err := e.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("edge did not stop")
		}
	})
}

// groupsConfig has n server groups, each with one destination at dest
// pinged every 100 ms.
func groupsConfig(n int, dest string) string {
	var b strings.Builder
	b.WriteString("sip: {listen: [{transport: udp, address: \"127.0.0.1:0\"}]}\nserver_groups:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: g%d, heartbeat: {up_interval: 100ms, down_interval: 100ms, timeout: 1s, failures: 1}, destinations: [{address: %q}]}\n", i, dest)
	}
	if n == 0 {
		b.WriteString("  []\n")
	}
	return b.String()
}

// TestReloadHeartbeats: reloads start heartbeats for new destinations and
// stop them for removed ones, with no goroutine left behind, while a
// destination that survives keeps being pinged (and keeps its state).
func TestReloadHeartbeats(t *testing.T) {
	// The destination is another edge, which answers OPTIONS with 200.
	peer := newTestEdge(t, groupsConfig(0, ""))
	runEdge(t, peer)
	dest := peer.Addr("udp")

	e := newTestEdge(t, groupsConfig(0, dest))
	runEdge(t, e)
	// Let the listeners and sipgo's own goroutines settle, then count.
	time.Sleep(200 * time.Millisecond)
	base := runtime.NumGoroutine()

	const n = 20
	for i := range 30 {
		k := n
		if i%2 == 1 {
			k = n / 2
		}
		if err := e.Reload(parseCfg(t, groupsConfig(k, dest))); err != nil {
			t.Fatal(err)
		}
		if got := e.heartbeats(); got != k {
			t.Fatalf("reload %d: %d heartbeats running, want %d", i, got, k)
		}
	}
	if got := runtime.NumGoroutine(); got < base+n/2 {
		t.Errorf("%d goroutines with %d heartbeats, base %d: the heartbeats are not running", got, n/2, base)
	}
	// The surviving destinations are pinged: each answers, so none goes
	// down (failures: 1 would mark it at the first miss).
	waitUntil(t, 5*time.Second, "a heartbeat answered", func() bool { return peerOptions(peer) > 0 })
	for _, g := range e.ServerGroups() {
		for _, d := range g.Destinations {
			if !d.Up {
				t.Errorf("%s %s down though the peer answers", g.Name, d.Address)
			}
		}
	}

	if err := e.Reload(parseCfg(t, groupsConfig(0, dest))); err != nil {
		t.Fatal(err)
	}
	if got := e.heartbeats(); got != 0 {
		t.Fatalf("%d heartbeats after removing every group", got)
	}
	// sipgo keeps a finished UDP transaction for T4 (5 s) to absorb
	// retransmissions; past that the count must be back to where it was.
	waitUntil(t, 15*time.Second, fmt.Sprintf("goroutines back to %d", base), func() bool { return runtime.NumGoroutine() <= base })
}

// peerOptions counts the messages the peer received (the OPTIONS pings).
func peerOptions(e *Edge) float64 {
	var m dto.Metric
	if err := e.mIn.WithLabelValues("udp").Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// TestReloadConcurrent: requests read the tables while reloads replace
// them (run with -race).
func TestReloadConcurrent(t *testing.T) {
	e := newTestEdge(t, reloadBefore)
	cfgs := []*Config{parseCfg(t, reloadBefore), parseCfg(t, reloadAfter)}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if ts, err := e.Resolve("2000"); err == nil {
					for _, tg := range ts {
						e.Report(tg, true)
					}
				}
				_ = e.trunkOf("10.1.2.3")
				_ = e.ServerGroups()
				_ = e.hasUser("1002")
			}
		}()
	}
	for i := range 200 {
		if err := e.Reload(cfgs[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
