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

var _ callserver.TransferTracker = (*RouterBridge)(nil)

// TransferTo implements callserver.TransferTracker: a transfer a phone (or
// the VRU) asks for with REFER goes through the router as a CTI consult
// and complete does. A target that is an agent's extension reserves that
// agent (an agent who is not ready refuses the transfer with 486, as a
// busy phone would); any other number is dialed through the dial plan.
// The transferring agent goes to wrap-up when the caller is through
// (TransferEnded). A call without an agent (at the VRU) reserves nobody.
func (b *RouterBridge) TransferTo(_ context.Context, id event.CallID, target string, attended bool) (callserver.Instruction, error) {
	b.mu.Lock()
	_, hasAgent := b.agents[id]
	b.mu.Unlock()
	ins := callserver.Instruction{Labels: []string{target}}
	if !hasAgent {
		return ins, nil
	}
	if !attended {
		if agent, ok := b.Engine.AgentAt(target); ok {
			in, err := b.Engine.Consult(router.CallID(id), router.ConsultTarget{Agent: agent})
			switch {
			case err == nil:
				if b.Publish != nil {
					b.Publish(cti.Event{Type: cti.EventCallOffered, Agent: in.Agent, Call: router.CallID(id), Data: cti.CallDataOf(in.Data), Time: time.Now()})
				}
				b.setConsult(id, in.Agent, target)
				ins = b.instruction(in)
				return ins, nil
			case errors.Is(err, router.ErrNoAgent):
				return callserver.Instruction{RejectCode: 486, RejectReason: "Busy Here"}, nil
			}
			b.Log.Info("router: transfer to an agent's extension", "call", string(id), "target", target, "error", err)
		}
	}
	b.setConsult(id, "", target)
	return ins, nil
}

// TransferAnswered implements callserver.TransferTracker: a reserved
// target agent is talking.
func (b *RouterBridge) TransferAnswered(_ context.Context, id event.CallID) {
	b.mu.Lock()
	co, ok := b.consults[id]
	b.mu.Unlock()
	if !ok || co.target == "" {
		return
	}
	if err := b.Engine.ConsultAnswered(router.CallID(id)); err != nil {
		b.Log.Info("router: transfer answered", "call", string(id), "error", err)
		return
	}
	if b.Publish != nil {
		b.Publish(cti.Event{Type: cti.EventCallAnswered, Agent: co.target, Call: router.CallID(id), Time: time.Now()})
	}
}

// TransferEnded implements callserver.TransferTracker as a consult's end:
// completed, the first agent goes to wrap-up and a target agent has the
// call; not, a reserved target is released.
func (b *RouterBridge) TransferEnded(ctx context.Context, id event.CallID, completed bool) {
	b.ConsultEnded(ctx, id, completed)
}
