package report

import (
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The hold family: an agent's hold and retrieve make the hold time of its
// agent leg (and the caller's); a call that ends on hold is held until its
// end. It ranks before the agent family, so an agent's call end closes the
// hold before the leg is closed.
func init() {
	registerFamily(&family{
		name: "hold",
		doc:  "agent.hold, agent.retrieve, agent.call_end: the hold time of the agent TCD, the caller TCD and the interval rows",
		rank: 55,
		on: map[event.Kind]func(*build, *event.Event){
			event.AgentHold: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && s.holdStart.IsZero() {
					s.holdStart = e.Time
				}
			},
			event.AgentRetrieve: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && !s.holdStart.IsZero() {
					s.hold += e.Time.Sub(s.holdStart)
					s.holdStart = time.Time{}
				}
			},
			event.AgentCallEnd: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && s.end.IsZero() && !s.holdStart.IsZero() {
					s.hold += e.Time.Sub(s.holdStart)
					s.holdStart = time.Time{}
				}
			},
		},
	})
}
