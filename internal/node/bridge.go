// Package node composes tandem's roles into one process. Each role stays
// ignorant of the others; the small adapters that join them live here, so
// cmd/tandem and the end-to-end tests build the same process.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// Instructor is the call server's side of the bridge: where the router's
// own decisions go.
type Instructor interface {
	Instruct(id event.CallID, ins callserver.Instruction) error
}

// RouterBridge lets the call server route through the routing engine: it
// implements callserver.Router and callserver.Tracker on a router.Engine,
// and turns the engine's call notices into Instruct calls. It is CVP's
// "new call" / "request instruction" dialogue with the ICM, in process.
type RouterBridge struct {
	Engine *router.Engine
	Log    *slog.Logger
	// Calls receives the router's own decisions; set it before calls arrive.
	Calls Instructor
	// AgentNotices, if set, also receives every notice (for CTI).
	AgentNotices func(router.Notice)
	// Publish, if set, receives the call events of agents' calls that only
	// the call server sees (offers it got as answers, answered, ended).
	Publish func(cti.Event)
	// RunScript, if set, hears every VRU script the router asks for, before
	// the call server sends the call to the VRU (the IVR service's Expect).
	RunScript func(id event.CallID, in router.Instruction)

	mu     sync.Mutex // guards agents and consults
	agents map[event.CallID]router.AgentID
	// consults are the agents' consult calls in progress (consult.go).
	consults map[event.CallID]consultOf

	// offerRing is how long an offer may ring at the call server: a little
	// under the router's ring_no_answer, so the call server gives the
	// offer up and reports it before the router's own timer takes the
	// agent back (two owners deciding the same RONA would leave an agent
	// reserved for a call that went elsewhere). Kept here, not asked of the
	// engine, because Notify must not call into the engine.
	offerRing atomic.Int64
}

// SyncRing takes ring_no_answer from the engine; call it after New and
// after every reload.
func (b *RouterBridge) SyncRing() {
	d := b.Engine.RingNoAnswer() - time.Second
	if d < time.Second {
		d = time.Second
	}
	b.offerRing.Store(int64(d))
}

// instruction is Convert plus the ring time of an offer.
func (b *RouterBridge) instruction(in router.Instruction) callserver.Instruction {
	out := Convert(in)
	if out.Agent != "" {
		out.RingFor = time.Duration(b.offerRing.Load())
	}
	return out
}

// remember notes which agent a call was offered to, so the call's later
// events reach that agent's desktop, and hands VRU scripts to the IVR
// service.
func (b *RouterBridge) remember(id event.CallID, in router.Instruction) bool {
	if in.Kind == router.RunScript && b.RunScript != nil {
		b.RunScript(id, in)
	}
	if in.Kind != router.Connect || in.Agent == "" {
		return false
	}
	b.mu.Lock()
	if b.agents == nil {
		b.agents = map[event.CallID]router.AgentID{}
	}
	b.agents[id] = in.Agent
	b.mu.Unlock()
	return true
}

// offered remembers the agent and tells CTI of the offer.
func (b *RouterBridge) offered(id event.CallID, in router.Instruction) {
	if b.remember(id, in) && b.Publish != nil {
		b.Publish(cti.Event{Type: cti.EventCallOffered, Agent: in.Agent, Call: router.CallID(id), Data: cti.CallDataOf(in.Data), Time: time.Now()})
	}
}

func (b *RouterBridge) publish(id event.CallID, typ cti.EventType, forget bool) {
	b.mu.Lock()
	a, ok := b.agents[id]
	if forget {
		delete(b.agents, id)
	}
	b.mu.Unlock()
	if ok && b.Publish != nil {
		b.Publish(cti.Event{Type: typ, Agent: a, Call: router.CallID(id), Time: time.Now()})
	}
}

// NewRouter builds the routing engine from the router section of a tandem
// config and a bridge to it (set the bridge's Calls before calls arrive).
func NewRouter(section *yaml.Node, log *slog.Logger) (*router.Engine, *RouterBridge, error) {
	data, err := yaml.Marshal(section)
	if err != nil {
		return nil, nil, fmt.Errorf("router: %w", err)
	}
	return NewRouterFrom(data, log)
}

// NewRouterFrom is NewRouter for a router configuration document.
func NewRouterFrom(doc []byte, log *slog.Logger) (*router.Engine, *RouterBridge, error) {
	return NewRouterWithEvents(doc, log, nil)
}

// NewRouterWithEvents is NewRouterFrom with a sink for the engine's
// reporting events (routing decisions, queues, offers, agent states).
func NewRouterWithEvents(doc []byte, log *slog.Logger, events event.Sink) (*router.Engine, *RouterBridge, error) {
	cfg, err := router.ParseConfig(doc)
	if err != nil {
		return nil, nil, err
	}
	b := &RouterBridge{Log: log}
	e, err := router.New(cfg, router.Deps{Log: log, Notify: b.Notify, Events: events})
	if err != nil {
		return nil, nil, fmt.Errorf("config invalid: %w", err)
	}
	b.Engine = e
	b.SyncRing()
	return e, b, nil
}

// Route implements callserver.Router.
func (b *RouterBridge) Route(ctx context.Context, req callserver.RouteRequest) (callserver.Instruction, error) {
	in, err := b.Engine.Route(ctx, router.RouteRequest{
		Call: router.CallID(req.Call), DNIS: req.DNIS, ANI: req.ANI, SIPCallID: req.SIPCallID,
		Headers: req.Headers, Trunk: req.Trunk, User: req.User,
	})
	if err != nil {
		return callserver.Instruction{}, err
	}
	b.offered(req.Call, in)
	return b.instruction(in), nil
}

// Convert maps a router instruction to the call server's. A VRU script goes
// to the network VRU label with the correlation id appended, as CVP does,
// so the VoiceXML gateway's application can find the call.
func Convert(in router.Instruction) callserver.Instruction {
	switch in.Kind {
	case router.Connect:
		return callserver.Instruction{Labels: in.Labels, Agent: string(in.Agent)}
	case router.RunScript:
		if len(in.Labels) == 0 {
			return callserver.Instruction{Queued: true}
		}
		return callserver.Instruction{Labels: []string{in.Labels[0] + in.CorrelationID}}
	case router.Release:
		return callserver.Instruction{RejectCode: in.RejectCode, RejectReason: in.RejectReason}
	default:
		return callserver.Instruction{Queued: true}
	}
}

// Requery implements callserver.Tracker: a failed offer is ring-no-answer
// (the agent goes not ready and the call is requeued at the front); other
// failures take the label node's exits.
func (b *RouterBridge) Requery(_ context.Context, id event.CallID, code int) (callserver.Instruction, error) {
	why := router.RequeryError
	switch code {
	case 480, 408:
		why = router.RequeryNoAnswer
	case 486, 600, 603:
		why = router.RequeryBusy
	}
	in, err := b.Engine.Requery(router.CallID(id), why)
	if err != nil {
		return callserver.Instruction{}, err
	}
	b.offered(id, in)
	return b.instruction(in), nil
}

// Answered implements callserver.Tracker. A connect that was not an offer
// to an agent (a VRU, a server group) is not the router's concern.
func (b *RouterBridge) Answered(_ context.Context, id event.CallID) {
	if err := b.Engine.Answered(router.CallID(id)); err != nil {
		if !errors.Is(err, router.ErrCallState) {
			b.Log.Info("router: answered", "call", string(id), "error", err)
		}
		return
	}
	b.publish(id, cti.EventCallAnswered, false)
}

// Ended implements callserver.Tracker: abandon while queued, or the agent
// to wrap-up.
func (b *RouterBridge) Ended(_ context.Context, id event.CallID) {
	if err := b.Engine.End(router.CallID(id)); err != nil && !errors.Is(err, router.ErrUnknownCall) {
		b.Log.Info("router: end", "call", string(id), "error", err)
	}
	b.publish(id, cti.EventCallEnded, true)
	b.consultHungUp(id)
}

var (
	_ callserver.OfferTracker     = (*RouterBridge)(nil)
	_ callserver.PhoneHoldTracker = (*RouterBridge)(nil)
)

// OfferReleased implements callserver.OfferTracker: the agent's phone is
// done with an offer, so the router may offer the agent the next call.
func (b *RouterBridge) OfferReleased(_ context.Context, id event.CallID, agent string) {
	b.Engine.Released(router.CallID(id), router.AgentID(agent))
}

// PhoneHold implements callserver.PhoneHoldTracker: a hold pressed on the
// agent's phone is a hold in the router (agent state, reporting's hold
// time) and on the desktop (call_held / call_retrieved), as a desktop hold
// is. A call the router does not see as the agent's talking (or held) call
// is left alone.
func (b *RouterBridge) PhoneHold(_ context.Context, id event.CallID, held bool) {
	var err error
	typ := cti.EventCallHeld
	if held {
		err = b.Engine.Hold(router.CallID(id))
	} else {
		typ = cti.EventCallRetrieved
		err = b.Engine.Retrieve(router.CallID(id))
	}
	if err != nil {
		if !errors.Is(err, router.ErrCallState) && !errors.Is(err, router.ErrUnknownCall) {
			b.Log.Info("router: hold from the agent's phone", "call", string(id), "held", held, "error", err)
		}
		return
	}
	b.publish(id, typ, false)
}

// Notify is the engine's Deps.Notify. It must not call back into the
// engine; Instruct only queues the instruction or starts a goroutine.
func (b *RouterBridge) Notify(n router.Notice) {
	if n.Kind == router.NoticeCall {
		// CTI publishes the router's own offers itself; just remember them.
		b.remember(event.CallID(n.Call), n.Instruction)
	}
	if n.Kind == router.NoticeCall && n.Instruction.Callback != "" {
		b.callback(event.CallID(n.Call), n.Instruction)
	} else if n.Kind == router.NoticeCall && b.Calls != nil {
		if err := b.Calls.Instruct(event.CallID(n.Call), b.instruction(n.Instruction)); err != nil {
			b.Log.Info("router decision for a call that is gone", "call", string(n.Call), "error", err)
		}
	}
	if b.AgentNotices != nil {
		b.AgentNotices(n)
	}
}
