package router

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const baseYAML = `
ring_no_answer: 10s
wrap_up: 30s
dialed_numbers:
  - {number: "1000", call_type: sales}
  - {number: "2000", call_type: spanish}
  - {number: "3000", call_type: ivr}
call_types:
  - {name: sales, script: sales}
  - {name: spanish, script: spanish}
  - {name: ivr, script: ivr}
skill_groups: [{name: sales}, {name: support}]
attributes:
  - {name: spanish, type: proficiency}
  - {name: vip, type: boolean}
precision_queues:
  - name: es
    steps:
      - {expr: "spanish >= 8", wait: 20s}
      - {expr: "spanish >= 5", wait: 20s, consider_if: "ani != 'skip'"}
      - {expr: "spanish >= 1"}
agents:
  - {id: a1, extension: "101", password: p, skill_groups: [sales]}
  - {id: a2, extension: "102", password: p, skill_groups: [sales, support]}
  - {id: a3, extension: "103", password: p, skill_groups: [support], attributes: {spanish: 9}}
  - {id: a4, extension: "104", password: p, attributes: {spanish: 6, vip: true}}
  - {id: a5, extension: "105", password: p, attributes: {spanish: 2}}
reason_codes:
  - {code: 1, label: Break, kind: not_ready}
  - {code: 2, label: Shift end, kind: logout}
  - {code: 3, label: Sale, kind: wrap_up}
labels:
  - {name: vru, kind: network_vru, value: "7777"}
  - {name: overflow, kind: server_group, value: "overflow.example"}
ecc_variables:
  - {name: user.account, max_length: 10}
  - {name: user.tags, max_length: 4, array_size: 3}
scripts:
  - name: sales
    nodes:
      - {id: s, type: start, next: vip}
      - {id: vip, type: if, expr: "ani startsWith '9'", "true": qhi, "false": q}
      - {id: qhi, type: queue, skill_groups: [sales], priority: 1, next: music}
      - {id: q, type: queue, skill_groups: [sales], next: music}
      - {id: music, type: run_vru_script, vru_script: "PM,holdmusic", label: vru, next: w}
      - {id: w, type: wait, wait: 30s, next: music}
  - name: spanish
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, precision_queue: es, next: e}
      - {id: e, type: end}
  - name: ivr
    nodes:
      - {id: s, type: start, next: acct}
      - {id: acct, type: set, variable: user.account, value: "'A' + ani", next: menu}
      - {id: menu, type: run_vru_script, vru_script: "M,menu", next: pick, error: rel}
      - {id: pick, type: if, expr: "result.choice == '1'", "true": lab, "false": split}
      - {id: split, type: percent, branches: [{percent: 100, next: rel}]}
      - {id: lab, type: label, labels: [overflow], busy: rel}
      - {id: rel, type: release, code: 486}
`

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time      { return f.t }
func (f *fakeClock) add(d time.Duration) { f.t = f.t.Add(d) }
func mustConfig(t testing.TB, y string) Config {
	t.Helper()
	c, err := ParseConfig([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type harness struct {
	*Engine
	clk     *fakeClock
	notices []Notice
}

func newHarness(t testing.TB, y string) *harness {
	t.Helper()
	h := &harness{clk: &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}}
	e, err := New(mustConfig(t, y), Deps{Now: h.clk.now, Notify: func(n Notice) { h.notices = append(h.notices, n) }})
	if err != nil {
		t.Fatal(err)
	}
	h.Engine = e
	return h
}

func (h *harness) ready(t testing.TB, ids ...AgentID) {
	t.Helper()
	for _, id := range ids {
		if err := h.Login(id, "p", ""); err != nil {
			t.Fatal(err)
		}
		if err := h.SetState(id, Ready, 0); err != nil {
			t.Fatal(err)
		}
		h.clk.add(time.Second)
	}
}

func (h *harness) offers() map[CallID]AgentID {
	out := map[CallID]AgentID{}
	for _, n := range h.notices {
		if n.Kind == NoticeCall && n.Instruction.Kind == Connect && n.Instruction.Agent != "" {
			out[n.Call] = n.Instruction.Agent
		}
	}
	h.notices = nil
	return out
}

func route(t testing.TB, h *harness, id, dnis, ani string) Instruction {
	t.Helper()
	in, err := h.Route(context.Background(), RouteRequest{Call: CallID(id), DNIS: dnis, ANI: ani})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestLongestAvailableAgent(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a2", "a1") // a2 ready first
	in := route(t, h, "c1", "1000", "555")
	if in.Kind != Connect || in.Agent != "a2" || in.Labels[0] != "102" {
		t.Fatalf("first call: %+v, want offer to a2 at 102", in)
	}
	in = route(t, h, "c2", "1000", "555")
	if in.Agent != "a1" {
		t.Fatalf("second call went to %q, want a1", in.Agent)
	}
	// Both reserved: the next call queues and gets treatment.
	in = route(t, h, "c3", "1000", "555")
	if in.Kind != RunScript || in.VRUScript != "PM,holdmusic" || in.Labels[0] != "7777" || in.CorrelationID != "c3" {
		t.Fatalf("queued call: %+v, want run script at the VRU", in)
	}
}

func TestCallsServedByPriorityThenAge(t *testing.T) {
	h := newHarness(t, baseYAML)
	route(t, h, "old", "1000", "555")
	h.clk.add(time.Second)
	route(t, h, "vip", "1000", "999") // priority 1, younger
	h.clk.add(time.Second)
	route(t, h, "new", "1000", "555")
	pos, err := h.Positions("new")
	if err != nil || len(pos) != 1 || pos[0].Position != 3 {
		t.Fatalf("positions of new: %+v %v, want 3rd", pos, err)
	}
	h.ready(t, "a1")
	h.ready(t, "a2")
	if err := h.Login("a4", "p", ""); err != nil {
		t.Fatal(err)
	}
	got := h.offers()
	if got["vip"] != "a1" || got["old"] != "a2" {
		t.Fatalf("offers %v: want vip→a1 then old→a2", got)
	}
	st, _ := h.Stats("sales")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if st.Waiting != 1 || st.Agents[Reserved] != 2 || !st.Oldest.Equal(t0.Add(2*time.Second)) || st.ExpectedWait <= 0 {
		t.Fatalf("stats %+v: want 1 waiting since %v, 2 agents reserved", st, t0.Add(2*time.Second))
	}
	if pos, _ := h.Positions("new"); pos[0].Position != 1 {
		t.Fatalf("new should now be first: %+v", pos)
	}
}

func TestRingNoAnswerRequeuesAtFront(t *testing.T) {
	h := newHarness(t, baseYAML)
	route(t, h, "first", "1000", "555")
	h.clk.add(time.Second)
	route(t, h, "second", "1000", "555")
	h.ready(t, "a1")
	if got := h.offers(); got["first"] != "a1" {
		t.Fatalf("offers %v", got)
	}
	h.clk.add(11 * time.Second)
	h.Tick() // ring-no-answer
	st, _ := h.Agent("a1")
	if st.State != NotReady || st.Reason != RONAReason {
		t.Fatalf("a1 after RONA: %+v", st)
	}
	pos, _ := h.Positions("first")
	if len(pos) != 1 || pos[0].Position != 1 {
		t.Fatalf("first after RONA: %+v, want position 1", pos)
	}
	h.ready(t, "a2")
	if got := h.offers(); got["first"] != "a2" {
		t.Fatalf("after RONA the requeued call should go first: %v", got)
	}
	if err := h.Answered("first"); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.Agent("a2"); st.State != Talking {
		t.Fatalf("a2 %v, want talking", st.State)
	}
	if err := h.Answered("first"); !errors.Is(err, ErrCallState) {
		t.Fatalf("second answer: %v", err)
	}
}

func TestAbandonRemovesEverywhere(t *testing.T) {
	h := newHarness(t, baseYAML)
	route(t, h, "c", "2000", "555") // precision queue es
	h.clk.add(45 * time.Second)
	h.Tick() // widened to all three steps
	if err := h.End("c"); err != nil {
		t.Fatal(err)
	}
	for _, tg := range h.targets {
		if len(tg.calls) != 0 {
			t.Fatalf("target %s still holds %d calls", tg.key, len(tg.calls))
		}
	}
	if st, _ := h.Stats("es"); st.Waiting != 0 {
		t.Fatalf("es waiting %d", st.Waiting)
	}
	if err := h.End("c"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("second end: %v", err)
	}
}

func TestPrecisionQueueWidens(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a5", "a4") // spanish 2 and 6: neither is step 1
	in := route(t, h, "c", "2000", "555")
	if in.Kind != Queued {
		t.Fatalf("step 1 has no ready agent; got %+v", in)
	}
	h.clk.add(19 * time.Second)
	h.Tick()
	if len(h.offers()) != 0 {
		t.Fatal("offered before step 1's wait")
	}
	h.clk.add(time.Second)
	h.Tick()
	if got := h.offers(); got["c"] != "a4" {
		t.Fatalf("step 2 should reach a4 (spanish 6): %v", got)
	}
	// consider_if false skips step 2 and goes straight to the last.
	route(t, h, "d", "2000", "skip")
	h.clk.add(20 * time.Second)
	h.Tick()
	if got := h.offers(); got["d"] != "a5" {
		t.Fatalf("skipped step: want a5 (spanish 2) at step 3, got %v", got)
	}
}

func TestAgentInSeveralQueuesTakesBestCall(t *testing.T) {
	h := newHarness(t, baseYAML)
	y := strings.Replace(baseYAML, "  - {id: q, type: queue, skill_groups: [sales], next: music}",
		"  - {id: q, type: queue, skill_groups: [support], priority: 2, next: music}", 1)
	if err := h.Reload(mustConfig(t, y)); err != nil {
		t.Fatal(err)
	}
	route(t, h, "sales-vip", "1000", "9") // sales prio 1
	h.clk.add(time.Second)
	route(t, h, "support", "1000", "5") // support prio 2, older than nothing
	h.ready(t, "a2")                    // in both
	if got := h.offers(); got["sales-vip"] != "a2" {
		t.Fatalf("a2 should take the priority 1 call: %v", got)
	}
}

func TestWrapUpAndPendingNotReady(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	route(t, h, "c", "1000", "5")
	must(t, h.Answered("c"))
	must(t, h.Hold("c"))
	must(t, h.Retrieve("c"))
	must(t, h.SetState("a1", NotReady, 1)) // pending
	must(t, h.End("c"))
	if st, _ := h.Agent("a1"); st.State != WorkNotReady {
		t.Fatalf("after call: %v, want work_not_ready", st.State)
	}
	route(t, h, "d", "1000", "5")
	h.clk.add(31 * time.Second)
	h.Tick()
	if st, _ := h.Agent("a1"); st.State != NotReady || st.Reason != 1 {
		t.Fatalf("after wrap-up: %+v", st)
	}
	if got := h.offers(); len(got) != 0 {
		t.Fatalf("agent in wrap-up offered a call: %v", got)
	}
	// End wrap-up by hand with a wrap-up reason.
	must(t, h.SetState("a1", Ready, 0))
	if got := h.offers(); got["d"] != "a1" {
		t.Fatalf("ready agent should get d: %v", got)
	}
	must(t, h.Answered("d"))
	must(t, h.End("d"))
	if err := h.SetState("a1", Ready, 1); !errors.Is(err, ErrBadReason) {
		t.Fatalf("not-ready code as wrap-up reason: %v", err)
	}
	must(t, h.SetState("a1", Ready, 3))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAgentTransitionsTable(t *testing.T) {
	// Every (from, to) pair an agent may ask for, against the table.
	type tc struct {
		from, to State
		ok       bool
	}
	cases := []tc{
		{LoggedOut, Ready, false}, {LoggedOut, NotReady, true},
		{NotReady, Ready, true}, {NotReady, LoggedOut, true}, {NotReady, Talking, false},
		{Ready, NotReady, true}, {Ready, LoggedOut, false}, {Ready, Reserved, false},
		{Reserved, Ready, false}, {Talking, Ready, false}, {Hold, Talking, false},
		{WorkReady, Ready, true}, {WorkReady, NotReady, true}, {WorkNotReady, Ready, true},
		{WorkNotReady, LoggedOut, false},
	}
	for _, c := range cases {
		if got := legal(c.from, c.to, byAgent); got != c.ok {
			t.Errorf("agent %s → %s: legal=%v, want %v", c.from, c.to, got, c.ok)
		}
	}
	if !legal(Ready, Reserved, bySystem) || legal(Talking, Reserved, bySystem) {
		t.Error("only a ready agent may be reserved")
	}
	// An illegal request changes nothing.
	h := newHarness(t, baseYAML)
	must(t, h.Login("a1", "p", ""))
	before, _ := h.Agent("a1")
	if err := h.SetState("a1", WorkReady, 0); !errors.Is(err, ErrIllegalState) {
		t.Fatalf("not ready → work ready: %v", err)
	}
	after, _ := h.Agent("a1")
	if before.State != after.State || before.Since != after.Since {
		t.Fatalf("illegal request changed the agent: %+v → %+v", before, after)
	}
	if err := h.Login("a1", "wrong", ""); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("bad password: %v", err)
	}
	if err := h.Login("a2", "p", "101"); err == nil {
		t.Fatal("two agents on one extension")
	}
}

func TestScriptIVRAndRequery(t *testing.T) {
	h := newHarness(t, baseYAML)
	in := route(t, h, "c", "3000", "42")
	if in.Kind != RunScript || in.VRUScript != "M,menu" || in.Data.ECC["user.account"] != "A42" {
		t.Fatalf("ivr: %+v", in)
	}
	in, err := h.Continue("c", map[string]string{"choice": "1"}, false)
	if err != nil || in.Kind != Connect || in.Labels[0] != "overflow.example" {
		t.Fatalf("after menu: %+v %v", in, err)
	}
	in, err = h.Requery("c", RequeryBusy)
	if err != nil || in.Kind != Release || in.RejectCode != 486 {
		t.Fatalf("requery busy: %+v %v", in, err)
	}
	in = route(t, h, "d", "3000", "42")
	in, _ = h.Continue("d", nil, true)
	if in.Kind != Release || in.RejectCode != 486 {
		t.Fatalf("vru error exit: %+v", in)
	}
	if in = route(t, h, "e", "9999", "1"); in.Kind != Release || in.RejectCode != 404 {
		t.Fatalf("unknown number: %+v", in)
	}
}

func TestCallDataLimits(t *testing.T) {
	h := newHarness(t, baseYAML)
	route(t, h, "c", "1000", "5")
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"pv1", "x", true},
		{"pv10", strings.Repeat("x", 40), true},
		{"pv1", strings.Repeat("x", 41), false},
		{"pv11", "x", false},
		{"user.account", "0123456789", true},
		{"user.account", "01234567890", false},
		{"user.tags[2]", "abcd", true},
		{"user.tags[3]", "abcd", false},
		{"user.tags", "abcd", false},
		{"user.nope", "x", false},
	} {
		err := h.SetCallData("c", tc.name, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("set %s=%q: %v, want ok=%v", tc.name, tc.value, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrCallData) {
			t.Errorf("set %s: error %v is not ErrCallData", tc.name, err)
		}
	}
}

func TestConfigRefusedWithPaths(t *testing.T) {
	bad := baseYAML + `
  - name: broken
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [sls], next: gone}
      - {id: orphan, type: end}
      - {id: i, type: if, expr: "ani ==", "true": s}
`
	bad = strings.Replace(bad, "  - {name: user.tags, max_length: 4, array_size: 3}",
		"  - {name: user.tags, max_length: 4, array_size: 3}\n  - {name: big, max_length: 211, array_size: 10}", 1)
	c := mustConfig(t, bad)
	errs := c.Validate()
	want := []string{
		"router.scripts[broken].nodes[q].skill_groups[0]: unknown skill group \"sls\"",
		"router.scripts[broken].nodes[q].next: unknown node \"gone\"",
		"router.scripts[broken].nodes[orphan]: unreachable from the start node",
		"router.scripts[broken].nodes[i].false: exit has no target",
		"router.scripts[broken].nodes[i].expr:",
		"router.ecc_variables[2].name: ECC variable \"big\" must be named user.<something>",
		"router.ecc_variables[2].max_length: max_length 211 out of range",
		"router.ecc_variables: ECC variables take",
	}
	all := ""
	for _, e := range errs {
		all += e.Error() + "\n"
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing error %q in:\n%s", w, all)
		}
	}
	if _, err := New(c, Deps{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("New with a bad config: %v", err)
	}
	if _, err := ParseConfig([]byte("skill_grups: []")); err == nil {
		t.Fatal("unknown key accepted")
	}
}

func TestScriptVersionKeptByCallsInProgress(t *testing.T) {
	h := newHarness(t, baseYAML)
	in := route(t, h, "old", "3000", "1")
	if in.Kind != RunScript {
		t.Fatal(in)
	}
	y := strings.Replace(baseYAML, `"true": lab, "false": split`, `"true": split, "false": lab`, 1)
	must(t, h.Reload(mustConfig(t, y)))
	in, _ = h.Continue("old", map[string]string{"choice": "1"}, false)
	if in.Kind != Connect {
		t.Fatalf("call in progress should finish on its version: %+v", in)
	}
	route(t, h, "new", "3000", "1")
	in, _ = h.Continue("new", map[string]string{"choice": "1"}, false)
	if in.Kind != Release {
		t.Fatalf("new call should run the new version: %+v", in)
	}
}

func TestTimeOfDayNode(t *testing.T) {
	y := `
dialed_numbers: [{number: "1", call_type: t}]
call_types: [{name: t, script: t}]
labels: [{name: open, kind: server_group, value: open}, {name: closed, kind: server_group, value: closed}, {name: hol, kind: server_group, value: hol}]
scripts:
  - name: t
    nodes:
      - {id: s, type: start, next: tod}
      - id: tod
        type: time
        time_zone: Europe/Paris
        holidays: ["2026-12-25"]
        holiday: h
        windows: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00", next: o}]
        next: c
      - {id: o, type: label, labels: [open]}
      - {id: c, type: label, labels: [closed]}
      - {id: h, type: label, labels: [hol]}
`
	h := newHarness(t, y)
	for i, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), "open"},   // Monday 09:30 Paris
		{time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC), "closed"}, // 08:30 Paris
		{time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC), "closed"}, // Saturday
		{time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC), "hol"},  // Friday, holiday
		{time.Date(2026, 7, 6, 14, 59, 0, 0, time.UTC), "open"},  // 16:59 CEST
		{time.Date(2026, 7, 6, 15, 0, 0, 0, time.UTC), "closed"}, // 17:00 CEST
	} {
		h.clk.t = tc.at
		in := route(t, h, string(rune('a'+i)), "1", "")
		if in.Labels[0] != tc.want {
			t.Errorf("%v: %v, want %s", tc.at, in.Labels, tc.want)
		}
	}
}

// The seam the cmd/tandem adapter wraps: the same shape as callserver.Router
// with the router's own types.
var _ interface {
	Route(context.Context, RouteRequest) (Instruction, error)
} = (*Engine)(nil)
