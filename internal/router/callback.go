package router

import (
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// Courtesy callback (CVP's): a caller waiting in queue chooses to be
// called back. The script's callback node notes the number (the ANI, or
// call data the caller entered) and releases the caller; the call keeps
// its place in its queues with no SIP call under it. When an agent is
// selected, the offer carries Callback: the call server rings the agent,
// then calls the number and joins the two. If the agent does not answer it
// is ring-no-answer as for any offer; if the caller does not answer, the
// agent is released and the callback tried again after CallbackRetry, up
// to CallbackTries times, then given up.

// Courtesy callback limits.
const (
	CallbackTries = 3
	CallbackRetry = time.Minute
)

// callbackNode is the script's callback node for c.
func (e *Engine) callbackNode(c *call, n *cnode) Instruction {
	number := c.req.ANI
	if n.variable != "" {
		number = e.getVar(c, n.variable)
	}
	if c.phase != queued || !dialable(number) {
		e.log.Info("router: no courtesy callback", "call", string(c.id), "queued", c.phase == queued, "number", number)
		if n.next != none {
			c.pc = n.next
			return e.runScript(c)
		}
		return e.release(c, 480, "no callback number")
	}
	c.callback, c.cbTries = number, 0
	e.emit(c, event.Event{Kind: event.CallbackRequested, Target: number, Queue: queueNames(c)})
	// The caller's call is released; End keeps the call queued (see
	// awaitCallback) because callback is set.
	return Instruction{Kind: Release, RejectCode: 480, RejectReason: "courtesy callback", Data: c.snapshot()}
}

// awaitCallback is End for a queued call with a callback: the caller hung
// up as planned, and the call waits in queue without it.
func (e *Engine) awaitCallback(c *call) bool {
	if c.callback == "" || c.phase != queued || c.callerGone {
		return false
	}
	c.callerGone = true
	return true
}

// CallbackFailed says the caller of a callback offer did not answer (the
// agent did): the agent is ready again, keeping its place, and the call
// tries again after CallbackRetry, or is given up after CallbackTries.
func (e *Engine) CallbackFailed(id CallID, why string) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: callback failed %s: %w", id, ErrUnknownCall)
	}
	if !c.callerGone || c.phase != offered || c.agent == nil {
		return fmt.Errorf("router: callback failed %s: %w (no callback offered)", id, ErrCallState)
	}
	a := c.agent
	a.call, c.agent = nil, nil
	e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "callback not answered")
	c.cbTries++
	e.emit(c, event.Event{Kind: event.CallbackFailed, Target: c.callback, Reason: why, Code: c.cbTries})
	c.phase = inScript
	c.gen++
	if c.cbTries >= CallbackTries {
		e.log.Info("router: courtesy callback given up", "call", string(c.id), "tries", c.cbTries)
		e.end(c)
	} else {
		e.timers.push(timer{at: e.nowNS() + int64(CallbackRetry), kind: timerCallback, c: c, gen: c.gen})
	}
	if a.retired {
		e.logout(a)
	} else {
		_ = e.transition(a, Ready, 0, bySystem)
		e.agentReady(a, false) // it never talked: it keeps its place
	}
	return nil
}

// retryCallback queues a callback again, in its old place.
func (e *Engine) retryCallback(c *call) {
	if len(c.queues) == 0 {
		e.end(c)
		return
	}
	if in, ok := e.enqueue(c, c.queues, c.priority); ok {
		e.noteCall(c, in)
	}
}

// getVar reads a call variable (pv1..pv10) or an ECC variable.
func (e *Engine) getVar(c *call, name string) string {
	if i, ok := callVarIndex(name); ok {
		return c.data.PV[i]
	}
	return c.data.ECC[name]
}

// dialable says whether s looks like a number to call: digits, with an
// optional leading +, 3 to 32 long.
func dialable(s string) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func queueNames(c *call) string {
	out := ""
	for i, q := range c.queues {
		if i > 0 {
			out += ","
		}
		out += string(q.def.name)
	}
	return out
}
