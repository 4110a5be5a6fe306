package plan

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// Three router documents that differ where a plan must see the difference:
// a wait node before the queue, and a second skill group the call is also
// queued to.
const (
	docDirect = `
dialed_numbers: [{number: "100", call_type: ct}]
call_types: [{name: ct, script: s}]
skill_groups: [{name: g}, {name: h}]
agents: [{id: "a1", extension: "201", password: pw, skill_groups: [h]}]
scripts:
  - name: s
    nodes:
      - {id: start, type: start, next: q}
      - {id: q, type: queue, skill_groups: [g], next: e}
      - {id: e, type: end}
`
	docWait = `
dialed_numbers: [{number: "100", call_type: ct}]
call_types: [{name: ct, script: s}]
skill_groups: [{name: g}, {name: h}]
agents: [{id: "a1", extension: "201", password: pw, skill_groups: [h]}]
scripts:
  - name: s
    nodes:
      - {id: start, type: start, next: w}
      - {id: w, type: wait, wait: 30s, next: q}
      - {id: q, type: queue, skill_groups: [g, h], next: e}
      - {id: e, type: end}
`
	docTwo = `
dialed_numbers: [{number: "100", call_type: ct}]
call_types: [{name: ct, script: s}]
skill_groups: [{name: g}, {name: h}]
agents: [{id: "a1", extension: "201", password: pw, skill_groups: [h]}]
scripts:
  - name: s
    nodes:
      - {id: start, type: start, next: q}
      - {id: q, type: queue, skill_groups: [g, h], next: e}
      - {id: e, type: end}
`
)

// liveFirstCall drives one call through router.Engine the way the node
// does (router.Calls and the call server): the agent logs in and goes
// ready over CTI, the call server routes the call, the router's notices
// bring the offer, the engine's clock is ticked as Engine.Run ticks it. It
// returns how long after the route request the agent was offered the call
// (or -1 if never within a minute), and the queue the offer came from.
func liveFirstCall(t *testing.T, doc string) (time.Duration, string) {
	cfg, err := router.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var notices []router.Notice
	var queue string
	e, err := router.New(cfg, router.Deps{
		Now:    func() time.Time { return now },
		Notify: func(n router.Notice) { notices = append(notices, n) },
		Events: eventFunc(func(kind event.Kind, q string) {
			if kind == event.AgentOffer {
				queue = q
			}
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Login("a1", "pw", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.SetState("a1", router.Ready, 0); err != nil {
		t.Fatal(err)
	}
	start := now
	in, err := e.Route(context.Background(), router.RouteRequest{Call: "c1", DNIS: "100", ANI: "5550001"})
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 600; step++ {
		if in.Kind == router.Connect && in.Agent != "" {
			if err := e.Answered("c1"); err != nil {
				t.Fatal(err)
			}
			return now.Sub(start), queue
		}
		now = now.Add(100 * time.Millisecond)
		e.Tick()
		for _, n := range notices {
			if n.Kind == router.NoticeCall && n.Call == "c1" {
				in = n.Instruction
			}
		}
		notices = notices[:0]
	}
	return -1, ""
}

// plannedFirstCall plans a quarter hour with the same document and its
// one agent (the document's own, logged in all day) and returns the same
// two things for the first call.
func plannedFirstCall(t *testing.T, doc string) (time.Duration, string) {
	spec := Spec{Talk: Dist{Kind: DistFixed, Mean: Duration(time.Second)},
		Traffic: []Traffic{{DNIS: "100", Calls: []float64{4}}}}
	res, err := Run([]byte(doc), spec, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Calls) == 0 {
		t.Fatal("the plan made no call")
	}
	c := res.Calls[0]
	if c.Offered.IsZero() {
		return -1, ""
	}
	return c.Offered.Sub(c.Arrive), c.Queue
}

// TestSamePlanAsLive: the planner routes with the router document live
// calls are routed by, so a change to it shows in both the same way.
func TestSamePlanAsLive(t *testing.T) {
	for _, tc := range []struct {
		name      string
		doc       string
		wantDelay time.Duration // −1: never offered
		wantQueue string
	}{
		// Queued to g, which has no agent: nobody is offered the call.
		{"direct to an empty group", docDirect, -1, ""},
		// A second skill group with the ready agent: offered at once.
		{"second skill group", docTwo, 0, "h"},
		// A wait node first: offered 30 s later (on the 100 ms tick).
		{"wait node", docWait, 30 * time.Second, "h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			liveDelay, liveQ := liveFirstCall(t, tc.doc)
			planDelay, planQ := plannedFirstCall(t, tc.doc)
			t.Logf("live: offered after %v from %q; plan: %v from %q", liveDelay, liveQ, planDelay, planQ)
			near := func(d time.Duration) bool {
				if tc.wantDelay < 0 {
					return d < 0
				}
				return d >= tc.wantDelay && d <= tc.wantDelay+time.Duration(tickEvery)
			}
			if !near(liveDelay) || liveQ != tc.wantQueue {
				t.Errorf("live: offered after %v from %q, want %v from %q", liveDelay, liveQ, tc.wantDelay, tc.wantQueue)
			}
			if !near(planDelay) || planQ != tc.wantQueue {
				t.Errorf("plan: offered after %v from %q, want %v from %q", planDelay, planQ, tc.wantDelay, tc.wantQueue)
			}
		})
	}
}

// eventFunc is an event.Sink of a function of the kind and queue.
type eventFunc func(kind event.Kind, queue string)

func (f eventFunc) Emit(e event.Event) { f(e.Kind, e.Queue) }

func demoDoc() []byte { return config.DemoRouter() }
