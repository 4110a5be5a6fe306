package node

import (
	"log/slog"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/ivr"
	"github.com/tandem-cc/tandem/internal/router"
)

// ivrRouter is the IVR service's view of the router (ivr.Router): a
// micro-app's result goes to Engine.Continue; another VRU script stays in
// the same VoiceXML session, anything else is the call server's to carry
// out while the caller holds at the VRU.
type ivrRouter struct {
	engine *router.Engine
	router *router.Calls
	calls  contract.CallServer
	log    *slog.Logger
}

// Continue implements ivr.Router.
func (r ivrRouter) Continue(res contract.ScriptResult) (ivr.Next, error) {
	id, call := res.Call, string(res.Call)
	in, err := r.engine.Continue(id, res.Values, res.Failed)
	if err != nil {
		return ivr.Next{}, err
	}
	switch in.Kind {
	case router.RunScript:
		return ivr.Next{Kind: ivr.RunScript, Script: in.VRUScript, Params: ivr.MicroAppParams(in.Params, in.Data.ECC)}, nil
	case router.Release:
		return ivr.Next{Kind: ivr.Release}, nil
	case router.Connect:
		// Instruct only queues the move; the engine's lock is not held.
		if err := r.calls.Instruct(id, r.router.Carry(id, in)); err != nil {
			r.log.Info("router decision for a call that is gone", "call", call, "error", err)
		}
	}
	return ivr.Next{Kind: ivr.Leave}, nil
}

// ivrQueue is the IVR service's view of the router's queues (ivr.Queue):
// a call queued to several groups is announced its shortest expected wait
// (and the position that goes with it), the one most likely to serve it.
type ivrQueue struct{ engine *router.Engine }

// Position implements ivr.Queue.
func (q ivrQueue) Position(call string) (int, time.Duration, bool) {
	ps, err := q.engine.Positions(router.CallID(call))
	if err != nil || len(ps) == 0 {
		return 0, 0, false
	}
	best := ps[0]
	for _, p := range ps[1:] {
		if p.ExpectedWait < best.ExpectedWait || p.ExpectedWait == best.ExpectedWait && p.Position < best.Position {
			best = p
		}
	}
	return best.Position, best.ExpectedWait, true
}
