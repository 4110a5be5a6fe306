package callserver

import (
	"context"
	"fmt"

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

// Instruction is the router's answer: connect to labels in order, or reject.
type Instruction struct {
	Labels []string
	// RejectCode, when not 0, is the SIP status the caller gets (e.g. 404).
	RejectCode   int
	RejectReason string
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
