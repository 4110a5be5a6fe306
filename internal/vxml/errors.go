package vxml

import "errors"

// Sentinel errors of the package. Document-level failures are not Go errors:
// they become VoiceXML events (error.badfetch, error.semantic...) that the
// document's handlers see; these are for callers and for the layers below.
var (
	// ErrMalformed wraps XML syntax errors; the interpreter maps it to
	// error.badfetch.
	ErrMalformed = errors.New("malformed document")
	// ErrFetchTimeout is returned when fetchtimeout expires.
	ErrFetchTimeout = errors.New("fetch timed out")
	// ErrHangup is returned by Platform methods when the caller has gone; the
	// interpreter throws connection.disconnect.hangup.
	ErrHangup = errors.New("caller hung up")
	// ErrTooManyTransitions ends a session that loops without waiting for the
	// caller (Config.MaxTransitions).
	ErrTooManyTransitions = errors.New("too many transitions without input")
	// ErrFileFromRemote refuses a file: URI named by an http(s) document.
	ErrFileFromRemote = errors.New("file URI from a remote document")
	// ErrSessionReused is returned by a second Run of the same Session.
	ErrSessionReused = errors.New("vxml: session already run")
	// ErrNoPlatform is returned by NewSession without a Platform.
	ErrNoPlatform = errors.New("vxml.platform: required")

	// errScript is returned (wrapped) for any ECMAScript failure; the
	// interpreter turns it into error.semantic.
	errScript = errors.New("ecmascript")
	// errNoMatch is a grammar's answer to input it does not accept.
	errNoMatch = errors.New("no match")
)
