package callserver

import (
	"context"
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
)

// Router decides where a new call goes. It is the one seam between the call
// server and the routing engine (CVP's "new call" route request to the ICM):
// plain data in and out, so a router can run in process or across a network.
type Router interface {
	Route(ctx context.Context, req RouteRequest) (Instruction, error)
}

// RouteRequest is what the call server knows of a new call.
type RouteRequest struct {
	Call event.CallID
	// DNIS is the dialed number (Request-URI user), ANI the caller (From user).
	DNIS, ANI string
	// SIPCallID is the inbound dialog's Call-ID.
	SIPCallID string
	// Headers holds the inbound INVITE's headers a script may look at,
	// by canonical name (only the first value of each).
	Headers map[string]string
	// Trunk or User says where the call came from.
	Trunk, User string
}

// Instruction is the router's answer: connect to labels in order, wait in
// queue, or reject.
type Instruction struct {
	Labels []string
	// Agent names the agent the router reserved when Labels ring an agent's
	// phone; a failure of those labels is ring-no-answer.
	Agent string
	// RingFor, when set and shorter than call_server.ring_timeout, is how
	// long the labels may ring: an offer must be given up before the
	// router's own ring-no-answer timer takes the agent back.
	RingFor time.Duration
	// Queued says there is nothing to connect yet: the caller waits where it
	// is (ringback before answer, the VRU after) until Server.Instruct.
	Queued bool
	// RejectCode, when not 0, is the SIP status the caller gets (e.g. 404),
	// or ends an answered call.
	RejectCode   int
	RejectReason string
}

// Tracker is implemented by a router that follows a call after its route
// request (UCCE's router does; the static table does not). The call server
// reports what became of each instruction.
type Tracker interface {
	// Requery says the labels of the last instruction failed (code is the
	// SIP status, 480 for no answer within ring_timeout); the answer is what
	// to do next.
	Requery(ctx context.Context, call event.CallID, code int) (Instruction, error)
	// Answered says the labels connected (the agent is talking).
	Answered(ctx context.Context, call event.CallID)
	// Ended says the call is over, whoever hung up.
	Ended(ctx context.Context, call event.CallID)
}

// OfferTracker is implemented by a router that holds an agent's phone busy
// after an offer to it ends on tandem's side (the caller hung up while it
// rang), until the phone has let go of the INVITE: offering the agent the
// next call before that sends a second INVITE to a phone still ringing with
// the first, which answers 486.
type OfferTracker interface {
	// OfferReleased says the INVITE that offered call to agent's phone is
	// over without connecting the call: a final response came (487 to our
	// CANCEL, or any other), a 2xx that crossed the CANCEL was ACKed and
	// ended with BYE, or the transaction failed or was given up.
	OfferReleased(ctx context.Context, call event.CallID, agent string)
}

// PhoneHoldTracker is implemented by a router that follows the agent's own
// phone putting the call on hold: a re-INVITE from the agent's leg whose
// offer is sendonly or inactive (or c=0.0.0.0), relayed and accepted, is
// the agent holding, as a desktop hold is (RFC 3264 §8.4).
type PhoneHoldTracker interface {
	// PhoneHold says the agent's phone put call on hold (held) or took it
	// off hold.
	PhoneHold(ctx context.Context, call event.CallID, held bool)
}

// StaticRouter routes by a dialed-number table from the config. It stands
// in until the router role takes over.
type StaticRouter struct {
	table map[string][]string
}

// NewStaticRouter builds the table from routing.static.
func NewStaticRouter(routes []config.StaticRoute) *StaticRouter {
	r := &StaticRouter{table: map[string][]string{}}
	for _, s := range routes {
		r.table[s.DNIS] = append([]string(nil), s.Labels...)
	}
	return r
}

// Route implements Router: unknown numbers get 404.
func (r *StaticRouter) Route(_ context.Context, req RouteRequest) (Instruction, error) {
	labels, ok := r.table[req.DNIS]
	if !ok {
		return Instruction{RejectCode: 404, RejectReason: "Not Found"}, nil
	}
	return Instruction{Labels: labels}, nil
}

// String names the router in logs.
func (r *StaticRouter) String() string { return fmt.Sprintf("static(%d numbers)", len(r.table)) }
