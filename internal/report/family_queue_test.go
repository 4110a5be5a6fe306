package report

import (
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// A call that waits in queue through several decisions (hold music
// played again after each wait node) has all of its wait counted: the
// caller's queue time is the whole wait, and each decision has the part
// that followed it.
func TestQueueTimeAcrossDecisions(t *testing.T) {
	cfg := RecordConfig{}
	cfg.defaults()
	dec := func(reason string) func(*event.Event) {
		return func(e *event.Event) { e.Reason, e.Script, e.Node = reason, "sales", "q>music" }
	}
	cases := []struct {
		name      string
		steps     []step
		queue     int   // caller's queue time, s
		decisions []int // each RCD's queue time, s
	}{
		{"queued, music twice, answered at 50", []step{
			{0, event.CallNew, nil}, {0, event.RouteRequest, nil}, {0, event.QueueEnter, queueF("sales", "")},
			{0, event.RouteDecision, dec("run_script")}, {10, event.RouteDecision, dec("run_script")},
			{40, event.RouteDecision, dec("queued")}, {50, event.QueueLeave, queueF("sales", "offered")},
			{50, event.AgentOffer, agentF("a1", "sales", "")}, {53, event.AgentAnswered, agentF("a1", "sales", "")},
			{90, event.AgentCallEnd, agentF("a1", "sales", "")}, {90, event.CallEnded, outcomeF(event.OutcomeAnswered)},
			{90, event.CallData, nil}}, 50, []int{10, 30, 10}},
		{"a decision before queueing has none", []step{
			{0, event.CallNew, nil}, {0, event.RouteRequest, nil}, {0, event.RouteDecision, dec("run_script")},
			{5, event.QueueEnter, queueF("sales", "")}, {5, event.RouteDecision, dec("queued")},
			{25, event.RouteDecision, dec("queued")}, {30, event.QueueLeave, queueF("sales", "abandoned")},
			{30, event.CallEnded, outcomeF(event.OutcomeAbandoned)}, {30, event.CallData, nil}}, 25, []int{0, 20, 5}},
		{"in two queues at once, counted once", []step{
			{0, event.CallNew, nil}, {0, event.QueueEnter, queueF("sales", "")}, {0, event.RouteDecision, dec("queued")},
			{10, event.QueueEnter, queueF("support", "")}, {10, event.RouteDecision, dec("queued")},
			{20, event.QueueLeave, queueF("sales", "abandoned")}, {20, event.QueueLeave, queueF("support", "abandoned")},
			{20, event.CallEnded, outcomeF(event.OutcomeAbandoned)}, {20, event.CallData, nil}}, 20, []int{10, 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := buildCall(flow("q1", c.steps...), &cfg)
			if got := r.tcd[0].QueueTime; got != time.Duration(c.queue)*time.Second {
				t.Errorf("caller queue time %v, want %ds", got, c.queue)
			}
			if len(r.rcd) != len(c.decisions) {
				t.Fatalf("%d decisions, want %d", len(r.rcd), len(c.decisions))
			}
			for i, want := range c.decisions {
				if got := r.rcd[i].Queue; got != time.Duration(want)*time.Second {
					t.Errorf("decision %d queue time %v, want %ds", i+1, got, want)
				}
			}
		})
	}
}
