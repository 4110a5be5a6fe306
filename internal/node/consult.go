package node

import (
	"context"
	"errors"
	"time"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

var _ callserver.ConsultTracker = (*RouterBridge)(nil)

// consultOf is a consult call in progress: the reserved target agent
// ("" for a dialed number) and the label rung.
type consultOf struct {
	target router.AgentID
	label  string
}

// setConsult remembers a consult call, for ConsultEnded.
func (b *RouterBridge) setConsult(id event.CallID, target router.AgentID, label string) {
	b.mu.Lock()
	if b.consults == nil {
		b.consults = map[event.CallID]consultOf{}
	}
	b.consults[id] = consultOf{target: target, label: label}
	b.mu.Unlock()
}

// ConsultEnded implements callserver.ConsultTracker (and is how CTI's
// complete and cancel finish): the router's agents follow the consult's
// end, and the desktops hear of it. Completed: the target (an agent) has
// the call and the first agent goes to wrap-up; to a dialed number the
// call goes on without an agent. Not completed: the target is released.
func (b *RouterBridge) ConsultEnded(_ context.Context, id event.CallID, completed bool) {
	b.mu.Lock()
	co, ok := b.consults[id]
	delete(b.consults, id)
	first := b.agents[id]
	if ok && completed {
		if co.target != "" {
			b.agents[id] = co.target
		} else {
			delete(b.agents, id)
		}
	}
	b.mu.Unlock()
	if !ok {
		return
	}
	var err error
	switch {
	case co.target != "":
		err = b.Engine.ConsultEnd(router.CallID(id), completed)
	case completed:
		err = b.Engine.Detach(router.CallID(id), co.label)
	}
	if err != nil && !errors.Is(err, router.ErrUnknownCall) {
		b.Log.Info("router: consult end", "call", string(id), "completed", completed, "error", err)
	}
	if !completed {
		// The call server reconnected the caller and the agent talking (a
		// caller the agent held before consulting is not held again): the
		// agent's state follows the media.
		if err := b.Engine.Retrieve(router.CallID(id)); err == nil {
			b.publish(id, cti.EventCallRetrieved, false)
		}
	}
	if b.Publish == nil {
		return
	}
	gone := co.target // cancelled: the target's part ends
	if completed {
		gone = first // completed: the first agent's part ends
	}
	if gone != "" {
		b.Publish(cti.Event{Type: cti.EventCallEnded, Agent: gone, Call: router.CallID(id), Time: time.Now()})
	}
}

// consultHungUp tells a consult target's desktop that the call ended under
// it (the caller hung up during the consult); the router frees the target
// in End.
func (b *RouterBridge) consultHungUp(id event.CallID) {
	b.mu.Lock()
	co, ok := b.consults[id]
	delete(b.consults, id)
	b.mu.Unlock()
	if ok && co.target != "" && b.Publish != nil {
		b.Publish(cti.Event{Type: cti.EventCallEnded, Agent: co.target, Call: router.CallID(id), Time: time.Now()})
	}
}

// callbacker is the call server's courtesy callback (callserver.Server).
type callbacker interface {
	Callback(id event.CallID, ins callserver.Instruction, number, from string) error
}

var _ callserver.CallbackTracker = (*RouterBridge)(nil)

// callback hands an offer of a courtesy-callback call to the call server,
// which rings the agent and then calls the caller back; the caller sees
// the number it dialed as the calling number.
func (b *RouterBridge) callback(id event.CallID, in router.Instruction) {
	cb, ok := b.Calls.(callbacker)
	if !ok {
		b.Log.Warn("courtesy callback offered but the call server cannot originate calls", "call", string(id))
		return
	}
	if err := cb.Callback(id, b.instruction(in), in.Callback, in.Data.DNIS); err != nil {
		b.Log.Warn("courtesy callback not started", "call", string(id), "error", err)
		// Off the notice's goroutine: Notify must not call into the
		// engine (its notice lock is held while notices are delivered).
		go b.CallbackFailed(context.Background(), id, err.Error())
	}
}

// CallbackFailed implements callserver.CallbackTracker.
func (b *RouterBridge) CallbackFailed(_ context.Context, id event.CallID, why string) {
	b.mu.Lock()
	a := b.agents[id]
	delete(b.agents, id)
	b.mu.Unlock()
	if err := b.Engine.CallbackFailed(router.CallID(id), why); err != nil {
		b.Log.Info("router: callback failed", "call", string(id), "error", err)
	}
	if a != "" && b.Publish != nil {
		b.Publish(cti.Event{Type: cti.EventCallEnded, Agent: a, Call: router.CallID(id), Time: time.Now()})
	}
}
