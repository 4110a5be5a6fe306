package ivr

import "errors"

// Sentinel errors of the IVR service; callers match them with errors.Is.
var (
	// ErrBadScript is a run-script string (or its params) that names no
	// micro-app or gives it values it cannot use.
	ErrBadScript = errors.New("ivr: bad run-script")
	// ErrTableFull is an Expect refused because MaxCalls calls are already
	// waiting at the VRU and none has gone idle long enough to be dropped.
	ErrTableFull = errors.New("ivr: call table full")
	// ErrNoRouter is a Server built without Deps.Router.
	ErrNoRouter = errors.New("ivr: deps.router: missing")
)
