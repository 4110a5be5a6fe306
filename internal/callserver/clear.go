package callserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// Clear ends call id on every leg because an administrator or supervisor
// asked (UCCE's "clear call"): a call that is stuck, abusive, or that
// nobody can reach any more. Each leg is released as its state requires:
// an answered call's legs get BYE (the caller, the agent or VRU, a consult
// target, conference bridge legs); a call still in setup gets a final
// response to the caller's INVITE (480, with a Reason saying it was
// cleared) and its ringing outbound INVITE a CANCEL. The router hears
// Ended (the queue entry and any reservation go, an agent goes to wrap-up
// or ready), and the call is reported with outcome cleared and who did it.
func (s *Server) Clear(_ context.Context, id event.CallID, by string) error {
	v, ok := s.calls.Load(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	c := v.(*Call)
	why := "cleared by " + strings.TrimSpace(by)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	answered := c.answered
	if !answered {
		// The setup goroutine owns the caller's INVITE: it sees the call's
		// context end, cancels what rings, and answers the caller (abandon
		// reads clearedBy).
		c.clearedBy = why
	}
	in, out := c.in, c.out
	c.mu.Unlock()
	c.log.Info("clearing the call", "by", by, "answered", answered)
	if !answered {
		c.cancel()
		return nil
	}
	c.end(why, event.OutcomeCleared, in, out)
	return nil
}

// clearedInSetup answers the caller's INVITE of a call cleared before it
// was answered and ends the call; it reports whether the call was cleared.
// The setup goroutine calls it where a caller's CANCEL would be handled.
func (c *Call) clearedInSetup() bool {
	c.mu.Lock()
	why := c.clearedBy
	c.mu.Unlock()
	if why == "" {
		return false
	}
	s := c.srv
	reason := sipReason(480, why)
	if err := s.respond(c.in, c.in.invite, c.in.inviteTx, 480, "Temporarily Unavailable", nil, "", reason); err != nil {
		c.log.Debug("final response to a cleared call failed", "error", err)
	}
	s.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: c.in.id, Code: 480, Reason: why, Side: "tandem"})
	c.end(why, event.OutcomeCleared, nil, nil)
	return true
}

// sipReason is a Reason header (RFC 3326) with a SIP cause and a text.
func sipReason(cause int, text string) sip.Header {
	return sip.NewHeader("Reason", fmt.Sprintf(`SIP;cause=%d;text="%s"`, cause, strings.ReplaceAll(text, `"`, "'")))
}
