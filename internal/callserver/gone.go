package callserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// A dialog can vanish at the far end without a BYE: a phone rebooted, a
// gateway lost its state, a caller's UA forgot the call. tandem learns it
// when an in-dialog request it sends is answered 481 or 408, or gets no
// answer at all (RFC 3261 §12.2.1.2; a timeout counts as 408, §8.1.3.1),
// or when a session timer runs out (RFC 4028 §10, timer.go). A call whose
// leg is gone is ended on every leg then and there, and the router is told
// (Tracker.Ended), so no queue entry, reservation or talking agent is left
// behind a call nobody is on.

// ErrDialogGone: a leg's dialog no longer exists at its peer; the call
// has been ended. Errors wrapping it are *GoneError, which names the leg.
var ErrDialogGone = errors.New("callserver: a leg's dialog is gone")

// GoneError says which leg's dialog was found gone, and how.
type GoneError struct {
	Leg event.LegID
	// Side is caller, callee (the agent, the VRU, a dialed number) or
	// consult (the agent's consult target).
	Side string
	Why  string
	leg  *leg
	// answered481 says the peer itself said it has no such dialog, so a
	// BYE to it would only get 481 again.
	answered481 bool
}

func (e *GoneError) Error() string {
	return fmt.Sprintf("callserver: %s leg %s gone: %s", e.Side, e.Leg, e.Why)
}

// Unwrap makes errors.Is(err, ErrDialogGone) true.
func (e *GoneError) Unwrap() error { return ErrDialogGone }

// dialogGone reports whether the outcome of an in-dialog request says the
// dialog is gone at the peer. parent is the context the request was made
// under: a wait that tandem itself gave up (a CTI request cancelled, the
// call ending) says nothing about the peer.
func dialogGone(parent context.Context, res *sip.Response, err error) bool {
	if err != nil {
		if parent.Err() != nil {
			return false
		}
		return errors.Is(err, sip.ErrTransactionTimeout) || errors.Is(err, sip.ErrTransactionTransport) ||
			errors.Is(err, errNoFinal) || errors.Is(err, context.DeadlineExceeded)
	}
	return res != nil && (res.StatusCode == 481 || res.StatusCode == 408)
}

// ask sends req, an in-dialog request of leg l, and waits at most 64*T1
// (Timer B) for its final response. When the outcome says l's dialog is
// gone the error is a *GoneError; other failures come back as they were.
func (s *Server) ask(ctx context.Context, l *leg, req *sip.Request) (*sip.Response, error) {
	rctx, cancel := context.WithTimeout(ctx, 64*sip.T1)
	defer cancel()
	res, err := s.request(rctx, req)
	if dialogGone(ctx, res, err) {
		g := &GoneError{Leg: l.id, Side: l.call.sideOf(l), leg: l}
		if err != nil {
			g.Why = fmt.Sprintf("%s got no answer: %v", req.Method, err)
		} else {
			g.Why = fmt.Sprintf("%s answered %d %s", req.Method, res.StatusCode, res.Reason)
			g.answered481 = res.StatusCode == 481
		}
		return res, g
	}
	return res, err
}

// sideOf names l's part in the call, for logs and reports.
func (c *Call) sideOf(l *leg) string {
	if l.inbound {
		return "caller"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l == c.consult {
		return "consult"
	}
	return "callee"
}

// lostIn ends the call if err says one of its legs is gone, and reports
// whether it did (or the call had already ended).
func (c *Call) lostIn(err error) bool {
	var g *GoneError
	if !errors.As(err, &g) || g.leg == nil || g.leg.call != c {
		return false
	}
	c.lose(g, event.OutcomeDialogGone)
	return true
}

// lose ends the call because leg g.leg is gone: every other leg gets BYE
// (the gone one too unless it answered 481: a dialog that timed out may
// still exist behind a broken path, and RFC 4028 §10 asks for a BYE), the
// router hears Ended, and the call is reported with outcome. The one
// exception is the agent's consult target: the caller and the agent are
// still there, so the consult ends as if the target had hung up (the
// agent has the caller back).
func (c *Call) lose(g *GoneError, outcome event.Outcome) {
	s := c.srv
	l := g.leg
	c.mu.Lock()
	ended := c.ended
	isConsult := l == c.consult && c.conf == nil
	in, out := c.in, c.out
	c.mu.Unlock()
	if ended {
		return
	}
	c.log.Warn("dialog gone", "leg", l.id, "side", g.Side, "why", g.Why, "outcome", outcome)
	s.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: l.id, Code: 481, Reason: "dialog gone: " + g.Why, Side: g.Side})
	if !g.answered481 {
		go s.bye(l, "dialog gone")
	}
	s.dialogs.Delete(l.key())
	if isConsult {
		s.consultBye(c, l)
		return
	}
	byeIn, byeOut := in, out
	if l == in {
		byeIn = nil
	}
	if l == out {
		byeOut = nil
	}
	c.end(g.Side+" leg gone: "+g.Why, outcome, byeIn, byeOut)
}
