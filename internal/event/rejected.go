package event

import "time"

// CallRejected: an INVITE that would have started a call was refused with
// a final response before it became one, by the SIP edge (403 bad
// credentials, 400 digest for another Request-URI, 503 too many failed
// authentications or draining, or a request RFC 3261 §8.2 refuses) or by
// the call server (503 at call_server.max_calls or draining, 482 a loop,
// 483 no hop left, 400 a malformed Session-Expires). It is the only event
// of its call: Call is a new id given to the refusal, Code the final
// status sent, Reason why (a short phrase a report can group on, then
// detail), Peer the source address, Data the dialed number, the caller
// and the SIP Call-ID. UCCE and CVP count such calls ("calls rejected")
// though they never reach a call type.
//
// A digest challenge (401/407, stale or not) is not a rejection: it is the
// first half of a normal handshake, and the INVITE that answers it is the
// call. Nor is 422 (Session Interval Too Small): the caller retries at
// once with the interval asked for. A router's release of a call it took
// is not one either: that call has call.new and call.ended (outcome
// rejected) and counts in its call type.
const CallRejected Kind = "call.rejected"

// Rejection reasons: the first word of a call.rejected's Reason, so a
// report can group refusals without parsing free text.
const (
	RejectAuth      = "auth"       // 403: credentials wrong (after a challenge)
	RejectAuthLimit = "auth_limit" // 503: too many failed authentications from the source
	RejectDraining  = "draining"   // 503: the node is stopping
	RejectMaxCalls  = "max_calls"  // 503: call_server.max_calls calls in progress
	RejectLoop      = "loop"       // 482 or 483: the INVITE would loop
	RejectInvalid   = "invalid"    // 4xx: a request RFC 3261 §8.2 (or RFC 4028) refuses
)

// Rejected returns the call.rejected event of a refused INVITE, under a
// new call id. why is one of the Reject* words; detail says more (the
// reason phrase sent, the limit reached), and may be empty.
func Rejected(now time.Time, code int, why, detail, peer string, d Data) Event {
	reason := why
	if detail != "" {
		reason += ": " + detail
	}
	return Event{Time: now, Kind: CallRejected, Call: NewCallID(now), Code: code, Reason: reason, Peer: peer, Data: &d}
}
