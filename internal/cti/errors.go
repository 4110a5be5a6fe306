package cti

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tandem-cc/tandem/internal/router"
)

// Sentinel errors of the CTI edge; each is wrapped with what and where, so
// test with errors.Is. Router sentinels pass through unchanged and are
// mapped to HTTP status codes in one place, statusOf.
var (
	ErrConfig       = errors.New("cti: invalid configuration")
	ErrUnauthorized = errors.New("missing, unknown or expired token")
	ErrForbidden    = errors.New("forbidden")
	ErrBadRequest   = errors.New("bad request")
	ErrConflict     = errors.New("not allowed in the current state")
	ErrNotFound     = errors.New("not found")
	ErrShutdown     = errors.New("cti: server is shutting down")
	// ErrTooManyFailures: logins that keep failing must wait (429).
	ErrTooManyFailures = errors.New("too many failed logins; try again later")
	// ErrSlowConsumer is why a WebSocket whose send queue overflowed was
	// closed: Notify must never wait for a client.
	ErrSlowConsumer = errors.New("cti: slow consumer: send queue full")
)

// fieldError is a 400 that names the offending request field.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }
func (e *fieldError) Unwrap() error { return ErrBadRequest }

func badField(field, format string, a ...any) error {
	return &fieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// statusOf maps an error to its HTTP status. Router sentinels keep their
// meaning: an illegal state change is a conflict (409), not bad input.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized), errors.Is(err, router.ErrBadPassword):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrBadRequest), errors.Is(err, router.ErrBadReason), errors.Is(err, router.ErrCallData):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, router.ErrUnknownAgent), errors.Is(err, router.ErrUnknownCall), errors.Is(err, router.ErrUnknownQueue):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict), errors.Is(err, router.ErrIllegalState), errors.Is(err, router.ErrCallState), errors.Is(err, router.ErrNoAgent):
		return http.StatusConflict
	case errors.Is(err, ErrTooManyFailures):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrShutdown):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
