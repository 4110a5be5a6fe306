package router

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/tandem-cc/tandem/internal/event"
)

// Reporting events. The engine builds them under mu (where it decides) into
// pendingEv and hands them to Deps.Events after mu is released, in order,
// with the notices: the call path never waits on the sink while holding
// the engine.

// emit queues an event of the call c (nil for agent-only events).
func (e *Engine) emit(c *call, ev event.Event) {
	if e.events == nil {
		return
	}
	ev.Time = e.now()
	if c != nil {
		ev.Call = event.CallID(c.id)
		if ev.CallType == "" {
			ev.CallType = c.data.CallType
		}
	}
	e.pendingEv = append(e.pendingEv, ev)
}

// emitDecision records the instruction the script yielded and the nodes it
// passed to get there (the route call detail).
func (e *Engine) emitDecision(c *call, in Instruction) {
	if e.events == nil {
		c.path = c.path[:0]
		return
	}
	ev := event.Event{Kind: event.RouteDecision, Script: c.script.name, Node: strings.Join(c.path, ">"),
		Reason: in.Kind.String(), Agent: event.AgentID(in.Agent)}
	c.path = c.path[:0]
	switch in.Kind {
	case Connect:
		ev.Target = strings.Join(in.Labels, ",")
	case RunScript:
		ev.Target = in.VRUScript
	case Release:
		ev.Target = strconv.Itoa(in.RejectCode)
		ev.Code = in.RejectCode
	case Queued:
		names := make([]string, len(c.queues))
		for i, q := range c.queues {
			names[i] = string(q.def.name)
		}
		ev.Target = strings.Join(names, ",")
	}
	e.emit(c, ev)
}

// emitCallData records the call's data as the router last saw it.
func (e *Engine) emitCallData(c *call) {
	if e.events == nil {
		return
	}
	d := c.snapshot()
	e.emit(c, event.Event{Kind: event.CallData, Data: &event.Data{
		ANI: d.ANI, DNIS: d.DNIS, SIPCallID: c.req.SIPCallID, PV: d.PV, ECC: d.ECC,
	}})
}

// emitIVRResult records a micro-app's result (Continue).
func (e *Engine) emitIVRResult(c *call, result map[string]string, failed bool) {
	if e.events == nil {
		return
	}
	v := url.Values{}
	for k, s := range result {
		v.Set(k, s)
	}
	why := "ok"
	if failed {
		why = "error"
	}
	e.emit(c, event.Event{Kind: event.IVRResult, Script: c.vru, Target: v.Encode(), Reason: why})
}

// emitAgent records an agent event about call c (nil: none).
func (e *Engine) emitAgent(c *call, a *agent, k event.Kind, queue, reason string) {
	e.agentCall(c, a, k)
	if e.events == nil {
		return
	}
	e.emit(c, event.Event{Kind: k, Agent: event.AgentID(a.id), Queue: queue, Reason: reason})
}

// offerQueue is the queue an agent was chosen from for c: the first of c's
// targets the agent serves (c is still queued when it is asked).
func offerQueue(c *call, a *agent) string {
	for _, qe := range c.entries {
		if _, ok := qe.t.members[a]; ok {
			return string(qe.t.queue.def.name)
		}
	}
	for _, t := range a.targets {
		for _, q := range c.queues {
			if t.queue == q {
				return string(q.def.name)
			}
		}
	}
	if len(c.queues) > 0 {
		return string(c.queues[0].def.name)
	}
	return ""
}

// flushEvents hands the pending events to the sink; called with notifyMu
// held and mu released.
func (e *Engine) flushEvents(out []event.Event) {
	for _, ev := range out {
		e.events.Emit(ev)
	}
}

// emitWrapUp records the end of a's wrap-up of its last call; reason is a
// wrap-up reason only when the agent went ready with one.
func (e *Engine) emitWrapUp(a *agent, to State, reason int) {
	if e.events == nil || a.lastCall == "" {
		return
	}
	if to != Ready {
		reason = 0
	}
	e.pendingEv = append(e.pendingEv, event.Event{Kind: event.AgentWrapUp, Time: e.now(), Call: event.CallID(a.lastCall),
		Agent: event.AgentID(a.id), ReasonCode: reason})
	a.lastCall = ""
}
