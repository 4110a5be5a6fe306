package router

import (
	"sync/atomic"

	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/event"
)

// subscribers are whoever hears the engine's notices: the call server's
// side of the contract (Calls) for the router's own decisions, CTI for the
// agents' states and calls. They are called in order, under notifyMu,
// after mu is released; none may call back into the engine before
// returning.
type subscribers struct {
	// fns is replaced whole (copy on write) by Subscribe, read by deliver.
	fns atomic.Pointer[[]func(Notice)]
}

func (s *subscribers) deliver(n Notice) {
	if p := s.fns.Load(); p != nil {
		for _, f := range *p {
			f(n)
		}
	}
}

// any says whether anyone listens: agent call notices are not built for
// nobody (the benchmarks, the planner).
func (s *subscribers) any() bool {
	p := s.fns.Load()
	return p != nil && len(*p) > 0
}

// Subscribe adds f to the engine's notice subscribers: f hears every
// notice made after it returns, in order (NoticeCall, NoticeAgent,
// NoticeAgentCall). It is called after the engine's lock is released and
// must not call back into the engine before returning: hand off to a
// goroutine or channel, or only queue work (see Deps.Notify).
func (e *Engine) Subscribe(f func(Notice)) {
	if f == nil {
		return
	}
	// Under notifyMu, so a delivery in progress finishes with the list it
	// started with and the next one sees f.
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	var fns []func(Notice)
	if p := e.subs.fns.Load(); p != nil {
		fns = append(fns, *p...)
	}
	fns = append(fns, f)
	e.subs.fns.Store(&fns)
}

// agentCallOf maps the reporting event of an agent's part in a call to the
// agent call event its desktop hears. The router records each of these at
// one place (emitAgent, and the two offers), so the desktop and the
// reports cannot disagree about what happened.
func agentCallOf(k event.Kind) (contract.AgentCallEvent, bool) {
	switch k {
	case event.AgentOffer:
		return contract.Offered, true
	case event.AgentAnswered:
		return contract.Answered, true
	case event.AgentHold:
		return contract.Held, true
	case event.AgentRetrieve:
		return contract.Retrieved, true
	case event.AgentCallEnd, event.AgentRONA:
		// Ring-no-answer ends the agent's part as surely as a hang-up:
		// the offer it was popped is gone.
		return contract.Ended, true
	}
	return 0, false
}

// agentCall queues the agent call notice of a's part in c for event kind
// k. Call with e.mu held.
func (e *Engine) agentCall(c *call, a *agent, k event.Kind) {
	what, ok := agentCallOf(k)
	if !ok || c == nil || !e.subs.any() {
		return
	}
	n := Notice{Kind: NoticeAgentCall, Call: c.id, Agent: a.id, CallEvent: what, Time: e.now()}
	if what == contract.Offered {
		n.Instruction.Data = c.snapshot()
	}
	e.pending = append(e.pending, n)
}
