package contract

import (
	"context"
	"time"
)

// RouteRequest is what the call server knows of a new call when it asks
// where it goes (CVP's "new call" route request to the ICM).
type RouteRequest struct {
	Call CallID
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

// Instruction is what the call server is told to do with a call: connect
// to labels in order, wait in queue, or reject.
type Instruction struct {
	Labels []string
	// Agent names the agent the router reserved when Labels ring an agent's
	// phone; a failure of those labels is ring-no-answer.
	Agent AgentID
	// RingFor, when set and shorter than call_server.ring_timeout, is how
	// long the labels may ring: an offer must be given up before the
	// router's own ring-no-answer timer takes the agent back.
	RingFor time.Duration
	// Queued says there is nothing to connect yet: the caller waits where it
	// is (ringback before answer, the VRU after) until the router instructs
	// the call again.
	Queued bool
	// RejectCode, when not 0, is the SIP status the caller gets (e.g. 404),
	// or ends an answered call.
	RejectCode   int
	RejectReason string
}

// Failure says, in the router's terms, why the labels of an instruction
// failed: the call server maps what the far end answered (a SIP status, a
// timeout) to one of these; the router decides what it means (UCCE's
// requery exits of a label node; ring-no-answer for an offer).
type Failure uint8

// Failures.
const (
	// NoAnswer: nobody answered in time (480, 408, ring_timeout).
	NoAnswer Failure = iota + 1
	// Busy: the target refused the call (486, 600, 603).
	Busy
	// Error: any other failure.
	Error
)

func (f Failure) String() string {
	switch f {
	case NoAnswer:
		return "no_answer"
	case Busy:
		return "busy"
	case Error:
		return "error"
	}
	return "none"
}

// Router decides where a new call goes. It is the one seam the call server
// needs: the static table implements only this.
type Router interface {
	Route(ctx context.Context, req RouteRequest) (Instruction, error)
}

// Tracker is the rest of the call server's side of the conversation, for a
// router that follows a call after its route request (UCCE's router does;
// the static table does not): the call server reports what became of each
// instruction, and of the agent's part in the call, as it happens on the
// SIP side. The router owns every consequence (agent states, reservations,
// the agents' desktops hear of it through its notices).
type Tracker interface {
	// Requery says the labels of the last instruction failed; the answer
	// is what to do next.
	Requery(ctx context.Context, call CallID, why Failure) (Instruction, error)
	// Answered says the labels connected (the agent is talking).
	Answered(ctx context.Context, call CallID)
	// Ended says the call is over, whoever hung up.
	Ended(ctx context.Context, call CallID)
	// OfferReleased says the INVITE that offered call to agent's phone is
	// over without connecting the call: a final response came (487 to our
	// CANCEL, or any other), a 2xx that crossed the CANCEL was ACKed and
	// ended with BYE, or the transaction failed or was given up. Until
	// then the router offers that phone nothing else.
	OfferReleased(ctx context.Context, call CallID, agent AgentID)
	// PhoneHold says the agent's phone put call on hold (held) or took it
	// off hold: a re-INVITE from the agent's leg whose offer is sendonly or
	// inactive (or c=0.0.0.0), relayed and accepted (RFC 3264 §8.4).
	PhoneHold(ctx context.Context, call CallID, held bool)
	// ConsultEnded says the consult of call ended: completed (the target
	// has the caller) or not (the agent has the caller back).
	ConsultEnded(ctx context.Context, call CallID, completed bool)
	// CallbackFailed says the caller of a courtesy callback did not answer
	// (the agent did).
	CallbackFailed(ctx context.Context, call CallID, why string)
	// TransferTo says where a transfer of call to target (a REFER's
	// Refer-To user: a number or an extension) goes. A RejectCode refuses
	// it. attended says the target is already connected (joined by
	// Replaces): nothing is dialed and nobody is reserved.
	TransferTo(ctx context.Context, call CallID, target string, attended bool) (Instruction, error)
	// TransferAnswered says the transfer's target answered.
	TransferAnswered(ctx context.Context, call CallID)
	// TransferEnded says the transfer is over: completed when the caller is
	// with the target and the transferring party left.
	TransferEnded(ctx context.Context, call CallID, completed bool)
}

// CallServer is the router's way back to the call server, for what the
// router decides without being asked in the same exchange.
type CallServer interface {
	// Instruct hands a call an instruction the router made by itself: an
	// offer to an agent who became ready, the script going on, a release.
	Instruct(call CallID, ins Instruction) error
	// Callback starts a courtesy callback: ins rings the agent, then number
	// is called and the two joined; from is the calling number the caller
	// sees. It returns at once; a caller who does not answer is reported
	// with Tracker.CallbackFailed.
	Callback(call CallID, ins Instruction, number, from string) error
}
