package event

// Call control events of the call server: an agent's consult call,
// transfer and conference, as the call's legs see them. (The router's
// Agent* events say the same from the agents' side.)
const (
	// CallConsult: the caller was held and the agent's phone connected to
	// the consult target (Leg, at Peer).
	CallConsult Kind = "call.consult"
	// CallConsultEnded: the consult target's leg was released and the
	// caller connected to the agent again (Reason: cancelled, target hung
	// up).
	CallConsultEnded Kind = "call.consult_ended"
	// CallTransferred: the caller was connected to the consult target
	// (Leg) and the agent's leg released.
	CallTransferred Kind = "call.transferred"
	// CallConferenced: the parties (Reason lists the legs) were joined in
	// a conference room (Peer).
	CallConferenced Kind = "call.conferenced"
)

// Courtesy callback events, emitted by the router.
const (
	// CallbackRequested: the caller chose to be called back at Target and
	// was released; the call keeps its place in Queue.
	CallbackRequested Kind = "callback.requested"
	// CallbackFailed: the callback to Target was not answered (Reason);
	// Code counts the tries so far.
	CallbackFailed Kind = "callback.failed"
)
