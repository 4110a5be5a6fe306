package report

import "errors"

// Sentinel errors of the reporting store, wrapped with context.
var (
	// ErrConfig: the store or writer configuration is invalid.
	ErrConfig = errors.New("report: invalid config")
	// ErrSpooled: Flush or Close could not reach the store; the events are
	// durable in the spool and will be written when the store is back.
	ErrSpooled = errors.New("report: events held in spool, store unavailable")
	// ErrClosed: the writer is closed.
	ErrClosed = errors.New("report: writer closed")
)
