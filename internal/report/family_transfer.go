package report

import "github.com/tandem-cc/tandem/internal/event"

// The transfer and conference family: a consult transfer (agent.transfer,
// Reason consult) or a conference puts the caller through to the consult
// target (Target, an agent id); that agent's consult leg is joined then
// (and taken as answered if it still rang), so its talk counts for the
// caller. A blind transfer's Target is a queue or a number: nothing to
// join; the transferring agent's leg ends "transferred" (agent family).
func init() {
	registerFamily(&family{
		name: "transfer",
		doc:  "agent.transfer (consult), agent.conference: the consult target's leg joined to the caller",
		rank: 70,
		on: map[event.Kind]func(*build, *event.Event){
			event.AgentTransfer:   joinConsult,
			event.AgentConference: joinConsult,
		},
	})
}

func joinConsult(b *build, e *event.Event) {
	if e.Kind == event.AgentTransfer && e.Reason != "consult" {
		return
	}
	if s := b.agents().last(event.AgentID(e.Target)); s != nil && s.consult && s.end.IsZero() && s.joined.IsZero() {
		s.joined = e.Time
		if s.answer.IsZero() {
			s.answer = e.Time
		}
	}
}
