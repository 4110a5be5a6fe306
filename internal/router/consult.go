package router

import (
	"errors"
	"fmt"

	"github.com/tandem-cc/tandem/internal/event"
)

// A consult call (an agent's second call about a connected call, before a
// consult transfer or a conference) reserves its target agent as an offer
// does, so the router offers that agent nothing else meanwhile. The call
// keeps its agent until the consult completes; then the target becomes
// the call's agent and the first agent goes to wrap-up.

// A consult to a dialed number reserves nobody, but the router still keeps
// it with the call (consultLabel): its end decides whether the agent leaves
// the call (completed: the call goes on without an agent) or has the caller
// back, and no other consult may start meanwhile.

// ConsultTarget names who a consult call is for: an agent by id, the
// longest-available agent of a queue (a skill group or precision queue),
// or a dialed number.
type ConsultTarget struct {
	Agent  AgentID
	Queue  QueueName
	Number string
}

// Consult reserves the target of a consult call on call id (connected):
// the returned instruction is a Connect to the target agent's extension.
// A target that is not ready, or a queue with nobody ready, is refused
// with ErrNoAgent: a consult call does not wait in queue.
func (e *Engine) Consult(id CallID, to ConsultTarget) (Instruction, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return Instruction{}, fmt.Errorf("router: consult %s: %w", id, ErrUnknownCall)
	}
	return e.consultLocked(c, to)
}

// consultLocked is Consult with e.mu held.
func (e *Engine) consultLocked(c *call, to ConsultTarget) (Instruction, error) {
	id := c.id
	if c.phase != connected || c.agent == nil {
		return Instruction{}, fmt.Errorf("router: consult %s: %w (not connected)", id, ErrCallState)
	}
	if c.consult != nil || c.consultLabel != "" {
		return Instruction{}, fmt.Errorf("router: consult %s: %w (a consult is in progress)", id, ErrCallState)
	}
	var b *agent
	switch {
	case to.Number != "":
		c.consultLabel = to.Number
		return Instruction{Kind: Connect, Labels: []string{to.Number}, Data: c.snapshot()}, nil
	case to.Agent != "":
		b = e.agents[to.Agent]
		if b == nil {
			return Instruction{}, fmt.Errorf("router: consult %s to agent %s: %w", id, to.Agent, ErrUnknownAgent)
		}
		if b == c.agent {
			return Instruction{}, fmt.Errorf("router: consult %s: an agent cannot consult itself: %w", id, ErrCallState)
		}
		if b.state != Ready {
			return Instruction{}, fmt.Errorf("router: consult %s to agent %s (%s): %w", id, b.id, b.state, ErrNoAgent)
		}
		if b.phoneHeld != "" {
			return Instruction{}, fmt.Errorf("router: consult %s to agent %s (its phone is still releasing call %s): %w", id, b.id, b.phoneHeld, ErrNoAgent)
		}
	case to.Queue != "":
		q := e.queues[to.Queue]
		if q == nil {
			return Instruction{}, fmt.Errorf("router: consult %s to %s: %w", id, to.Queue, ErrUnknownQueue)
		}
		for _, t := range q.steps {
			if len(t.ready) > 0 && (b == nil || agentBefore(t.ready[0].a, b)) {
				b = t.ready[0].a
			}
		}
		if b == nil {
			return Instruction{}, fmt.Errorf("router: consult %s to %s: %w", id, to.Queue, ErrNoAgent)
		}
	default:
		return Instruction{}, fmt.Errorf("router: consult %s: no target: %w", id, ErrCallState)
	}
	if err := e.transition(b, Reserved, 0, bySystem); err != nil {
		return Instruction{}, err
	}
	b.call, c.consult, c.consultQ = c, b, string(to.Queue)
	e.agentCall(c, b, event.AgentOffer)
	e.emit(c, event.Event{Kind: event.AgentOffer, Agent: event.AgentID(b.id), Queue: c.consultQ, Target: b.ext, Reason: "consult"})
	return Instruction{Kind: Connect, Labels: []string{b.ext}, Agent: b.id, Data: c.snapshot()}, nil
}

// ConsultAnswered says the consult target answered: it is talking.
func (e *Engine) ConsultAnswered(id CallID) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: consult answered %s: %w", id, ErrUnknownCall)
	}
	if c.consult == nil || c.consult.state != Reserved {
		return fmt.Errorf("router: consult answered %s: %w", id, ErrCallState)
	}
	if err := e.transition(c.consult, Talking, 0, bySystem); err != nil {
		return err
	}
	e.emitAgent(c, c.consult, event.AgentAnswered, c.consultQ, "consult")
	return nil
}

// ConsultEnd ends the consult of call id. Completed: the target becomes
// the call's agent and the first agent goes to wrap-up (a consult
// transfer). Not completed: the target is released (back to ready if it
// never answered, to wrap-up if it talked) and the first agent keeps the
// call.
func (e *Engine) ConsultEnd(id CallID, completed bool) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: consult end %s: %w", id, ErrUnknownCall)
	}
	return e.consultEnd(c, completed)
}

// consultEnd is ConsultEnd with e.mu held.
func (e *Engine) consultEnd(c *call, completed bool) error {
	id := c.id
	b := c.consult
	if b == nil {
		if label := c.consultLabel; label != "" {
			c.consultLabel = ""
			if completed {
				return e.detach(c, label)
			}
			return nil
		}
		return fmt.Errorf("router: consult end %s: %w (no consult)", id, ErrCallState)
	}
	if !completed {
		e.releaseConsult(c, "consult cancelled")
		return nil
	}
	if b.state == Reserved {
		if err := e.transition(b, Talking, 0, bySystem); err != nil {
			return err
		}
	}
	a := c.agent
	c.consult = nil
	e.emit(c, event.Event{Kind: event.AgentTransfer, Agent: event.AgentID(a.id), Queue: c.offerQ, Target: string(b.id), Reason: "consult"})
	e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "transferred")
	a.call, a.lastCall = nil, c.id
	e.afterCall(a)
	c.agent, c.offerQ = b, c.consultQ
	c.started = e.nowNS()
	return nil
}

// releaseConsult lets the consult target of c go: ready again if it
// never answered, wrap-up if it talked. Called with e.mu held.
func (e *Engine) releaseConsult(c *call, why string) {
	c.consultLabel = ""
	b := c.consult
	if b == nil {
		return
	}
	c.consult, b.call = nil, nil
	if b.state == Reserved {
		e.emitAgent(c, b, event.AgentCallEnd, c.consultQ, why)
		if b.retired {
			e.logout(b)
			return
		}
		_ = e.transition(b, Ready, 0, bySystem)
		e.agentReady(b, false) // it never took the call: it keeps its place
		return
	}
	e.emitAgent(c, b, event.AgentCallEnd, c.consultQ, why)
	b.lastCall = c.id
	e.afterCall(b)
}

// Detach says the call's agent has left a call that goes on without an
// agent (transferred to a dialed number, blind or after a consult): the
// agent goes to wrap-up; the call stays known, with its data, until End.
func (e *Engine) Detach(id CallID, target string) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: detach %s: %w", id, ErrUnknownCall)
	}
	return e.detach(c, target)
}

// detach is Detach with e.mu held.
func (e *Engine) detach(c *call, target string) error {
	id := c.id
	a := c.agent
	if c.phase != connected || a == nil {
		return fmt.Errorf("router: detach %s: %w (no agent on the call)", id, ErrCallState)
	}
	e.releaseConsult(c, "transferred")
	e.emit(c, event.Event{Kind: event.AgentTransfer, Agent: event.AgentID(a.id), Queue: c.offerQ, Target: target})
	e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "transferred")
	c.agent, a.call, a.lastCall = nil, nil, c.id
	e.afterCall(a)
	return nil
}

// Conference says the agent joined its consult target and the caller in a
// conference: both agents stay on the call (talking) until they leave,
// which ConsultEnd reports: the first agent leaving hands the call to the
// target (completed), the target leaving does not.
func (e *Engine) Conference(id CallID) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: conference %s: %w", id, ErrUnknownCall)
	}
	if c.agent == nil || c.consult == nil {
		return fmt.Errorf("router: conference %s: %w (no consult)", id, ErrCallState)
	}
	if c.consult.state == Reserved {
		if err := e.transition(c.consult, Talking, 0, bySystem); err != nil {
			return err
		}
	}
	e.emit(c, event.Event{Kind: event.AgentConference, Agent: event.AgentID(c.agent.id), Queue: c.offerQ, Target: string(c.consult.id)})
	return nil
}

// ConsultEnded is the call server's word that the consult of call id is
// over (a consult transfer completed, a consult cancelled, an agent left a
// conference, a REFER's transfer done): completed, the target has the
// call (an agent) or the call goes on without an agent (a number), and
// the first agent goes to wrap-up; not completed, a target agent is
// released and the agent, who has the caller back and talking, leaves
// hold if it was there. A call with no consult changes nothing
// (ErrCallState): the report may come twice, from CTI and from the SIP
// side.
func (e *Engine) ConsultEnded(id CallID, completed bool) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: consult ended %s: %w", id, ErrUnknownCall)
	}
	if c.consult == nil && c.consultLabel == "" {
		return fmt.Errorf("router: consult ended %s: %w (no consult)", id, ErrCallState)
	}
	err := e.consultEnd(c, completed)
	if !completed && c.agent != nil && c.agent.state == Hold && c.phase == connected {
		// The call server reconnected the caller and the agent talking (a
		// caller the agent held before consulting is not held again): the
		// agent's state follows the media.
		e.emitAgent(c, c.agent, event.AgentRetrieve, c.offerQ, "")
		if terr := e.transition(c.agent, Talking, 0, bySystem); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	return err
}

// Consulting reports what the consult of call id is: the reserved target
// agent ("" for none or a number) and the dialed number of a consult to a
// number; ok is false when the call has no consult.
func (e *Engine) Consulting(id CallID) (target AgentID, number string, ok bool) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return "", "", false
	}
	if c.consult != nil {
		return c.consult.id, "", true
	}
	return "", c.consultLabel, c.consultLabel != ""
}
