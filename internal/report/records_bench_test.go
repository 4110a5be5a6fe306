package report

import (
	"testing"

	"github.com/tandem-cc/tandem/internal/event"
)

// BenchmarkBuildCall derives the records of one typical answered call (18
// events: an IVR step, a queue, an offer, a hold, its SIP legs, wrap-up
// and call data), what Derive does once per call.
func BenchmarkBuildCall(b *testing.B) {
	cfg := RecordConfig{}
	cfg.defaults()
	leg := func(l string) func(*event.Event) { return func(e *event.Event) { e.Leg = event.LegID(l) } }
	evs := flow("b1",
		step{0, event.CallNew, leg("in")}, step{0, event.RouteRequest, func(e *event.Event) { e.Data = &event.Data{ANI: "555", DNIS: "1000"} }},
		step{1, event.IVRResult, func(e *event.Event) { e.Script, e.Target, e.Reason = "M", "choice=1", "ok" }},
		step{2, event.RouteDecision, func(e *event.Event) { e.Script, e.Node, e.Reason, e.Target = "sales", "s>q", "queued", "sales" }},
		step{2, event.QueueEnter, queueF("sales", "")}, step{30, event.QueueLeave, queueF("sales", "offered")},
		step{30, event.AgentOffer, agentF("a1", "sales", "")}, step{30, event.LegNew, leg("a1")},
		step{34, event.LegAnswered, leg("a1")}, step{34, event.AgentAnswered, agentF("a1", "sales", "")},
		step{60, event.AgentHold, agentF("a1", "sales", "")}, step{90, event.AgentRetrieve, agentF("a1", "sales", "")},
		step{200, event.AgentCallEnd, agentF("a1", "sales", "")}, step{200, event.LegEnded, leg("a1")},
		step{200, event.LegEnded, leg("in")}, step{200, event.CallEnded, outcomeF(event.OutcomeAnswered)},
		step{230, event.AgentWrapUp, agentF("a1", "sales", "")}, step{230, event.CallData, func(e *event.Event) { e.Data = &event.Data{ANI: "555", DNIS: "1000"} }})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := buildCall(evs, &cfg)
		if !r.ended || len(r.tcd) != 4 {
			b.Fatalf("records %+v", r)
		}
	}
}
