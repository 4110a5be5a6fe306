package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/router"
)

// CallControl is CTI's call control (cti.CallControl) carried out by the
// call server, with the router kept in step. It holds no state: the call
// server owns the SIP side, the router the agents' side and what the
// desktops hear (its notices).
type CallControl struct {
	Calls  *callserver.Server
	Engine *router.Engine
	// Router is the router's side of the contract with the call server:
	// how long a consult may ring, how its end is reported.
	Router *router.Calls
	// ConferenceLabel + the call id is where a conference room is dialed.
	ConferenceLabel string
}

var _ cti.CallControl = (*CallControl)(nil)

// Hold implements cti.CallControl.
func (c *CallControl) Hold(ctx context.Context, id router.CallID) error {
	if err := conflict(c.Calls.Hold(ctx, id)); err != nil {
		return err
	}
	// The media is held: now the agent's state follows (talking → hold).
	return c.Engine.Hold(id)
}

// Retrieve implements cti.CallControl.
func (c *CallControl) Retrieve(ctx context.Context, id router.CallID) error {
	if err := conflict(c.Calls.Retrieve(ctx, id)); err != nil {
		return err
	}
	return c.Engine.Retrieve(id)
}

// Release implements cti.CallControl.
func (c *CallControl) Release(ctx context.Context, id router.CallID) error {
	return c.Calls.Release(ctx, id)
}

// BlindTransfer implements cti.CallControl: the caller's media moves to
// dest (RFC 3725) and the agent's leg is released; the agent goes to
// wrap-up and the call goes on without one.
func (c *CallControl) BlindTransfer(ctx context.Context, id router.CallID, dest string) error {
	if err := conflict(c.Calls.Move(ctx, id, dest)); err != nil {
		return err
	}
	return c.Engine.Detach(id, dest)
}

// Consult implements cti.CallControl: the router reserves the target agent
// (for an agent or a queue) or notes the dialed number, then the call
// server holds the caller and rings the target from the agent's phone. A
// target that does not answer is given back.
func (c *CallControl) Consult(ctx context.Context, id router.CallID, to cti.ConsultTarget) (router.AgentID, error) {
	in, err := c.Engine.Consult(id, router.ConsultTarget{Agent: to.Agent, Queue: router.QueueName(to.Queue), Number: to.Number})
	if err != nil {
		return "", err
	}
	if err := conflict(c.Calls.Consult(ctx, id, in.Labels[0], c.Router.OfferRing())); err != nil {
		_ = c.Engine.ConsultEnd(id, false)
		return "", err
	}
	if in.Agent != "" {
		if err := c.Engine.ConsultAnswered(id); err != nil {
			return "", err
		}
	}
	return in.Agent, nil
}

// CompleteConsult implements cti.CallControl: the caller goes to the
// consult target and the agent to wrap-up.
func (c *CallControl) CompleteConsult(ctx context.Context, id router.CallID) error {
	if err := conflict(c.Calls.CompleteConsult(ctx, id)); err != nil {
		return err
	}
	c.Router.ConsultEnded(ctx, id, true)
	return nil
}

// CancelConsult implements cti.CallControl: the target is released and
// the agent has the caller back.
func (c *CallControl) CancelConsult(ctx context.Context, id router.CallID) error {
	if err := conflict(c.Calls.CancelConsult(ctx, id)); err != nil {
		return err
	}
	c.Router.ConsultEnded(ctx, id, false)
	return nil
}

// Conference implements cti.CallControl: the caller, the agent and the
// consult target are joined in a room of the conference bridge; both
// agents stay on the call until they leave it.
func (c *CallControl) Conference(ctx context.Context, id router.CallID) error {
	if c.ConferenceLabel == "" {
		return fmt.Errorf("cti: conference: no conference label configured: %w", cti.ErrConflict)
	}
	if err := conflict(c.Calls.Conference(ctx, id, c.ConferenceLabel+string(id))); err != nil {
		return err
	}
	return c.Engine.Conference(id)
}

// Follow implements cti.CallControl: the router's answer to a transfer to
// a queue goes to the call.
func (c *CallControl) Follow(_ context.Context, id router.CallID, in router.Instruction) error {
	return c.Calls.Instruct(id, c.Router.Carry(id, in))
}

// conflict marks the call server's refusals that are about the call's
// state (no consult, one in progress, another offer running, the call not
// answered) as CTI conflicts (409), not server errors.
func conflict(err error) error {
	// ErrDialogGone: a party's dialog was found gone and the call ended
	// (the router heard it); the request has nothing left to act on.
	for _, e := range []error{callserver.ErrNoConsult, callserver.ErrConsult, callserver.ErrBusy, callserver.ErrNotReady, callserver.ErrConference, callserver.ErrDialogGone, callserver.ErrPhoneHeld} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", cti.ErrConflict, err)
		}
	}
	return err
}

// Clear implements cti.CallControl: the call server ends the call on every
// leg and tells the router (Tracker.Ended), which releases the queue
// entry, the reservation or the agent. A call only the router holds (a
// courtesy callback waiting for an agent) has no SIP side to clear.
func (c *CallControl) Clear(ctx context.Context, id router.CallID, by string) error {
	err := c.Calls.Clear(ctx, id, by)
	if !errors.Is(err, callserver.ErrNoCall) {
		return err
	}
	if _, perr := c.Engine.Positions(id); errors.Is(perr, router.ErrUnknownCall) {
		return fmt.Errorf("cti: clear call %s: %w", id, cti.ErrNotFound)
	}
	return fmt.Errorf("cti: clear call %s: no SIP call to clear (a courtesy callback waiting?): %w", id, cti.ErrConflict)
}
