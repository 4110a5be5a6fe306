package sipedge

import "errors"

// Errors of Resolve. The call server maps them to SIP responses.
var (
	// ErrNoRoute: no dial-plan pattern matches the label.
	ErrNoRoute = errors.New("sipedge: no dial-plan route")
	// ErrNotRegistered: the label is an extension with no live registration.
	ErrNotRegistered = errors.New("sipedge: extension not registered")
	// ErrAllDown: every destination of the server group is marked down.
	ErrAllDown = errors.New("sipedge: all destinations down")
)
