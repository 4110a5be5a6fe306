package node

import (
	"context"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// CallControl is CTI's call control (cti.CallControl) carried out by the
// call server, with the router kept in step.
type CallControl struct {
	Calls  *callserver.Server
	Engine *router.Engine
	Bridge *RouterBridge // may be nil
}

var _ cti.CallControl = (*CallControl)(nil)

// Hold implements cti.CallControl.
func (c *CallControl) Hold(ctx context.Context, id router.CallID) error {
	if err := c.Calls.Hold(ctx, event.CallID(id)); err != nil {
		return err
	}
	// The media is held: now the agent's state follows (talking → hold).
	if err := c.Engine.Hold(id); err != nil {
		return err
	}
	if c.Bridge != nil {
		c.Bridge.publish(event.CallID(id), cti.EventCallHeld, false)
	}
	return nil
}

// Retrieve implements cti.CallControl.
func (c *CallControl) Retrieve(ctx context.Context, id router.CallID) error {
	if err := c.Calls.Retrieve(ctx, event.CallID(id)); err != nil {
		return err
	}
	if err := c.Engine.Retrieve(id); err != nil {
		return err
	}
	if c.Bridge != nil {
		c.Bridge.publish(event.CallID(id), cti.EventCallRetrieved, false)
	}
	return nil
}

// Release implements cti.CallControl.
func (c *CallControl) Release(ctx context.Context, id router.CallID) error {
	return c.Calls.Release(ctx, event.CallID(id))
}

// BlindTransfer implements cti.CallControl: the caller's media moves to
// dest (RFC 3725) and the agent's leg is released.
func (c *CallControl) BlindTransfer(ctx context.Context, id router.CallID, dest string) error {
	return c.Calls.Move(ctx, event.CallID(id), dest)
}

// Follow implements cti.CallControl: the router's answer to a transfer to
// a queue goes to the call.
func (c *CallControl) Follow(_ context.Context, id router.CallID, in router.Instruction) error {
	if c.Bridge != nil {
		c.Bridge.remember(event.CallID(id), in) // CTI published the offer
	}
	if c.Bridge != nil {
		return c.Calls.Instruct(event.CallID(id), c.Bridge.instruction(in))
	}
	return c.Calls.Instruct(event.CallID(id), Convert(in))
}
