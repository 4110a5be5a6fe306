package router

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

// Calls is the router's side of its contract with the call server (CVP's
// "new call" / "request instruction" dialogue with the ICM): it implements
// contract.Router and contract.Tracker on the engine, and carries the
// engine's own decisions (NoticeCall) to the call server and the VRU. It
// keeps no state of calls or agents: the engine owns both, and tells the
// agents' desktops of every change through its notices.
type Calls struct {
	e   *Engine
	log *slog.Logger
	// peers is where the router's own decisions go; set once by Attach.
	peers atomic.Pointer[callPeers]
}

type callPeers struct {
	server contract.CallServer
	vru    contract.VRU // may be nil: no IVR service
}

var _ interface {
	contract.Router
	contract.Tracker
} = (*Calls)(nil)

// NewCalls returns the engine's call-server side, subscribed to its
// notices. Attach the call server before calls arrive.
func NewCalls(e *Engine, log *slog.Logger) *Calls {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &Calls{e: e, log: log}
	e.Subscribe(k.notify)
	return k
}

// Attach names the call server (required) and the IVR service (nil for
// none) that carry out the router's decisions. The call server is built
// with Calls as its router, so the two are joined after both exist.
func (k *Calls) Attach(server contract.CallServer, vru contract.VRU) {
	k.peers.Store(&callPeers{server: server, vru: vru})
}

// OfferRing is how long an offer may ring at the call server: a little
// under ring_no_answer, so the call server gives the offer up and reports
// it before the router's own timer takes the agent back (two owners
// deciding the same RONA would leave an agent reserved for a call that went
// elsewhere). Read without the engine's lock: notices use it.
func (k *Calls) OfferRing() time.Duration {
	d := time.Duration(k.e.ring.Load()) - time.Second
	if d < time.Second {
		d = time.Second
	}
	return d
}

// CallInstruction maps a router instruction to the call server's. A VRU
// script goes to the network VRU label with the correlation id appended,
// as CVP does, so the VoiceXML gateway's application can find the call.
func CallInstruction(in Instruction) contract.Instruction {
	switch in.Kind {
	case Connect:
		return contract.Instruction{Labels: in.Labels, Agent: in.Agent}
	case RunScript:
		if len(in.Labels) == 0 {
			return contract.Instruction{Queued: true}
		}
		return contract.Instruction{Labels: []string{in.Labels[0] + in.CorrelationID}}
	case Release:
		return contract.Instruction{RejectCode: in.RejectCode, RejectReason: in.RejectReason}
	default:
		return contract.Instruction{Queued: true}
	}
}

// Carry readies the router's instruction for call id for the call server:
// a VRU script is handed to the IVR service first (before the call server
// sends the caller there), and an offer rings for OfferRing at most.
func (k *Calls) Carry(id CallID, in Instruction) contract.Instruction {
	if in.Kind == RunScript {
		if p := k.peers.Load(); p != nil && p.vru != nil {
			req := contract.RunScript{Call: id, Script: in.VRUScript, Params: in.Params, ECC: in.Data.ECC}
			if err := p.vru.Expect(req); err != nil {
				k.log.Warn("ivr: cannot serve the VRU script", "call", string(id), "script", in.VRUScript, "error", err)
			}
		}
	}
	out := CallInstruction(in)
	if out.Agent != "" {
		out.RingFor = k.OfferRing()
	}
	return out
}

// Route implements contract.Router.
func (k *Calls) Route(ctx context.Context, req RouteRequest) (contract.Instruction, error) {
	in, err := k.e.Route(ctx, req)
	if err != nil {
		return contract.Instruction{}, err
	}
	return k.Carry(req.Call, in), nil
}

// Requery implements contract.Tracker: a failed offer is ring-no-answer
// (the agent goes not ready and the call is requeued at the front); other
// failures take the label node's exits.
func (k *Calls) Requery(_ context.Context, id CallID, why contract.Failure) (contract.Instruction, error) {
	in, err := k.e.Requery(id, why)
	if err != nil {
		return contract.Instruction{}, err
	}
	return k.Carry(id, in), nil
}

// Answered implements contract.Tracker. A connect that was not an offer to
// an agent (a VRU, a server group) is not the router's concern.
func (k *Calls) Answered(_ context.Context, id CallID) {
	if err := k.e.Answered(id); err != nil && !errors.Is(err, ErrCallState) {
		k.log.Info("router: answered", "call", string(id), "error", err)
	}
}

// Ended implements contract.Tracker: abandon while queued, or the agent
// (and a consult target) to wrap-up.
func (k *Calls) Ended(_ context.Context, id CallID) {
	if err := k.e.End(id); err != nil && !errors.Is(err, ErrUnknownCall) {
		k.log.Info("router: end", "call", string(id), "error", err)
	}
}

// OfferReleased implements contract.Tracker: the agent's phone is done
// with an offer, so the router may offer the agent the next call.
func (k *Calls) OfferReleased(_ context.Context, id CallID, agent AgentID) {
	k.e.Released(id, agent)
}

// PhoneHold implements contract.Tracker: a hold pressed on the agent's
// phone is a hold in the router (agent state, reporting's hold time, the
// desktop's call_held / call_retrieved), as a desktop hold is. A call the
// router does not see as the agent's talking (or held) call is left alone.
func (k *Calls) PhoneHold(_ context.Context, id CallID, held bool) {
	var err error
	if held {
		err = k.e.Hold(id)
	} else {
		err = k.e.Retrieve(id)
	}
	if err != nil && !errors.Is(err, ErrCallState) && !errors.Is(err, ErrUnknownCall) {
		k.log.Info("router: hold from the agent's phone", "call", string(id), "held", held, "error", err)
	}
}

// ConsultEnded implements contract.Tracker (and is how CTI's complete and
// cancel finish); see Engine.ConsultEnded.
func (k *Calls) ConsultEnded(_ context.Context, id CallID, completed bool) {
	if err := k.e.ConsultEnded(id, completed); err != nil && !errors.Is(err, ErrUnknownCall) && !errors.Is(err, ErrCallState) {
		k.log.Info("router: consult end", "call", string(id), "completed", completed, "error", err)
	}
}

// CallbackFailed implements contract.Tracker.
func (k *Calls) CallbackFailed(_ context.Context, id CallID, why string) {
	if err := k.e.CallbackFailed(id, why); err != nil {
		k.log.Info("router: callback failed", "call", string(id), "error", err)
	}
}

// TransferTo implements contract.Tracker: a transfer a phone (or the VRU)
// asks for with REFER goes through the router as a CTI consult and
// complete do. A target that is an agent's extension reserves that agent
// (an agent who is not ready refuses the transfer with 486, as a busy
// phone would); any other number is dialed through the dial plan. The
// transferring agent goes to wrap-up when the caller is through
// (TransferEnded). A call without an agent (at the VRU) reserves nobody.
func (k *Calls) TransferTo(_ context.Context, id CallID, target string, attended bool) (contract.Instruction, error) {
	in, err := k.e.TransferTo(id, target, attended)
	switch {
	case errors.Is(err, ErrNoAgent):
		return contract.Instruction{RejectCode: 486, RejectReason: "Busy Here"}, nil
	case err != nil:
		k.log.Info("router: transfer", "call", string(id), "target", target, "error", err)
		return contract.Instruction{Labels: []string{target}}, nil
	}
	return k.Carry(id, in), nil
}

// TransferAnswered implements contract.Tracker: a reserved target agent is
// talking.
func (k *Calls) TransferAnswered(_ context.Context, id CallID) {
	if target, _, ok := k.e.Consulting(id); !ok || target == "" {
		return
	}
	if err := k.e.ConsultAnswered(id); err != nil {
		k.log.Info("router: transfer answered", "call", string(id), "error", err)
	}
}

// TransferEnded implements contract.Tracker as a consult's end:
// completed, the first agent goes to wrap-up and a target agent has the
// call; not, a reserved target is released.
func (k *Calls) TransferEnded(ctx context.Context, id CallID, completed bool) {
	k.ConsultEnded(ctx, id, completed)
}

// notify carries the engine's own decisions to the call server (and VRU
// scripts to the IVR service). It runs as a notice subscriber: it must
// not call into the engine; Instruct only queues the instruction or starts
// a goroutine.
func (k *Calls) notify(n Notice) {
	if n.Kind != NoticeCall {
		return
	}
	p := k.peers.Load()
	if p == nil {
		k.log.Warn("router decision with no call server attached", "call", string(n.Call))
		return
	}
	if n.Instruction.Callback != "" {
		k.callback(p.server, n.Call, n.Instruction)
		return
	}
	if err := p.server.Instruct(n.Call, k.Carry(n.Call, n.Instruction)); err != nil {
		k.log.Info("router decision for a call that is gone", "call", string(n.Call), "error", err)
	}
}

// callback hands an offer of a courtesy-callback call to the call server,
// which rings the agent and then calls the caller back; the caller sees
// the number it dialed as the calling number.
func (k *Calls) callback(server contract.CallServer, id CallID, in Instruction) {
	if err := server.Callback(id, k.Carry(id, in), in.Callback, in.Data.DNIS); err != nil {
		k.log.Warn("courtesy callback not started", "call", string(id), "error", err)
		// Off the notice's goroutine: a subscriber must not call into the
		// engine (its notice lock is held while notices are delivered).
		go k.CallbackFailed(context.Background(), id, err.Error())
	}
}
