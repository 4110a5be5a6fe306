package router

import "errors"

// Sentinel errors; each is wrapped with what and where, so test with errors.Is.
var (
	ErrConfig       = errors.New("router: invalid configuration")
	ErrUnknownAgent = errors.New("unknown agent")
	// ErrNoAgent: a consult call's target is not ready (consults do not
	// queue).
	ErrNoAgent       = errors.New("no agent ready")
	ErrUnknownCall   = errors.New("unknown call")
	ErrUnknownQueue  = errors.New("unknown queue")
	ErrBadPassword   = errors.New("wrong password")
	ErrIllegalState  = errors.New("illegal agent state change")
	ErrBadReason     = errors.New("unknown reason code")
	ErrCallState     = errors.New("call is not in a state that allows this")
	ErrCallData      = errors.New("call data refused")
	ErrUnknownNumber = errors.New("unknown dialed number")
)
