package report

import "github.com/tandem-cc/tandem/internal/event"

// The route family: each routing decision is an RCD record, numbered in
// the call; its queue time is the queue family's.
func init() {
	registerFamily(&family{
		name: "route",
		doc:  "route.decision: one RCD record each (script, nodes passed, decision, target)",
		rank: 50,
		on: map[event.Kind]func(*build, *event.Event){
			event.RouteDecision: func(b *build, e *event.Event) {
				b.r.rcd = append(b.r.rcd, RCD{Call: b.id, N: len(b.r.rcd) + 1, Time: e.Time, CallType: e.CallType,
					Script: e.Script, Node: e.Node, Decision: e.Reason, Target: e.Target})
			},
		},
	})
}
