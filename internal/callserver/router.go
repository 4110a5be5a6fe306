package callserver

import (
	"context"
	"fmt"

	"github.com/tandem-cc/tandem/internal/contract"
)

// The call server's boundary with the router is the contract's (package
// contract): plain data in and out, so a router can run in process or
// across a network. The names below are the contract's, under the names
// the call server has always used.

// Router decides where a new call goes (CVP's "new call" route request to
// the ICM). It is the one seam the call server needs: the static table
// implements only this.
type Router = contract.Router

// RouteRequest is what the call server knows of a new call.
type RouteRequest = contract.RouteRequest

// Instruction is the router's answer: connect to labels in order, wait in
// queue, or reject.
type Instruction = contract.Instruction

// Tracker is a router that follows a call after its route request (UCCE's
// router does; the static table does not), given to New as Deps.Tracker:
// the call server reports what became of each instruction, and of the
// agent's phone (offer released, a hold pressed on it), consults,
// callbacks and transfers, in the contract's terms.
type Tracker = contract.Tracker

// failureOf says in the router's terms why labels failed, from the SIP
// status the last of them gave (480 for no answer within ring_timeout).
func failureOf(code int) contract.Failure {
	switch code {
	case 480, 408:
		return contract.NoAnswer
	case 486, 600, 603:
		return contract.Busy
	}
	return contract.Error
}

// StaticRouter routes by a dialed-number table from the config. It stands
// in until the router role takes over.
type StaticRouter struct {
	table map[string][]string
}

// NewStaticRouter builds the table from routing.static.
func NewStaticRouter(routes []StaticRoute) *StaticRouter {
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
