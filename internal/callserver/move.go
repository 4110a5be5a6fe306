package callserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// Errors of Move.
var (
	ErrNoCall   = errors.New("callserver: no such call")
	ErrNotReady = errors.New("callserver: call not answered or already ending")
	ErrBusy     = errors.New("callserver: another offer is in progress")
)

// Move connects the caller of call id to label and releases the leg it is
// connected to now: RFC 3725 flow I. The new leg gets an INVITE without SDP;
// its offer goes to the caller in a re-INVITE; the caller's answer goes back
// in the new leg's ACK; then the old leg gets BYE. If anything fails before
// the caller accepts, the caller stays with the old leg.
func (s *Server) Move(ctx context.Context, id event.CallID, label string) error {
	return s.move(ctx, id, label, s.cfg.RingTimeout.D())
}

// move is Move with the time the new leg may ring.
func (s *Server) move(ctx context.Context, id event.CallID, label string, ringFor time.Duration) error {
	v, ok := s.calls.Load(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	c := v.(*Call)
	c.mu.Lock()
	switch {
	case c.ended || !c.answered:
		c.mu.Unlock()
		return ErrNotReady
	case c.pending:
		c.mu.Unlock()
		return ErrBusy
	case c.conf != nil:
		c.mu.Unlock()
		return ErrConference
	case c.consult != nil:
		c.mu.Unlock()
		return ErrConsult
	}
	c.pending = true
	c.moving = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		gone := c.moving && c.outGone && c.out != nil && !c.ended
		c.moving, c.outGone = false, false
		c.pending = false
		c.mu.Unlock()
		if gone {
			// The leg the caller was on hung up during a move that then
			// failed: nothing is left to carry the caller's media.
			c.end("moved-from leg ended and the move failed", event.OutcomeAnswered, c.in, nil)
		}
	}()

	// The move stops when the caller hangs up as well as when ctx ends.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	nl, res, err := s.dialLate(ctx, c, label, ringFor)
	if err != nil {
		return fmt.Errorf("callserver: move %s: %w", id, err)
	}
	inviteSeq := nl.cseq.Load()
	offer, offerType := res.Body(), contentType(res)

	reinv := s.inDialog(c.in, sip.INVITE)
	withBody(reinv, stamp(c.in, offer), offerType)
	ans, err := s.ask(ctx, c.in, reinv)
	if err != nil || !ans.IsSuccess() {
		// The new leg answered and waits for its ACK: give it one, then
		// release it. What becomes of the caller depends on why.
		s.sendAck(nl, s.ackFor(nl, inviteSeq, nil, ""))
		go s.bye(nl, "move failed")
		if errors.Is(err, ErrDialogGone) {
			// RFC 3261 §12.2.1.2: the caller's dialog is gone (481, 408,
			// no answer). Nobody is left to move: end the call on every
			// leg, so the router frees the queue entry, the reservation
			// and the agent, instead of offering a call with no caller.
			c.lostIn(err)
			return fmt.Errorf("callserver: move %s to %s: %w", id, label, err)
		}
		// The caller is there but refused the new session (488, 491,
		// 5xx): a failed re-INVITE leaves its session as it was (RFC 3261
		// §14.1), so it stays with the leg it is on.
		why := ""
		if err != nil {
			why = err.Error()
		} else {
			why = fmt.Sprintf("caller answered %d %s", ans.StatusCode, ans.Reason)
		}
		return fmt.Errorf("callserver: move %s to %s: re-INVITE to caller: %s", id, label, why)
	}
	s.sendAck(c.in, s.ackFor(c.in, reinv.CSeq().SeqNo, nil, ""))

	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		s.sendAck(nl, s.ackFor(nl, inviteSeq, ans.Body(), contentType(ans)))
		go s.bye(nl, "call ended during move")
		return ErrNotReady
	}
	old := c.out
	c.out = nl
	c.farSDP, c.nearSDP, c.held = offer, ans.Body(), false
	c.phoneHeld = false // a new party: the old phone's hold went with it
	c.mu.Unlock()
	s.dialogs.Store(nl.key(), nl)
	s.sendAck(nl, s.ackFor(nl, inviteSeq, stamp(nl, ans.Body()), contentType(ans)))
	s.dialogs.Delete(old.key())
	c.mu.Lock()
	oldGone := c.outGone
	c.moving, c.outGone = false, false
	c.mu.Unlock()
	if !oldGone {
		go s.bye(old, "moved")
	}
	s.emit(event.Event{Kind: event.CallMoved, Call: c.id, Leg: nl.id, Reason: "from " + string(old.id) + " to " + label})
	c.log.Info("moved", "from", old.id, "to", nl.id, "label", label)
	return nil
}

// dialLate sends an INVITE without SDP to the destinations of label in
// turn until one answers, as the first step of RFC 3725 flow I, and returns
// the answered leg (its 2xx, which carries the offer, not yet ACKed). ctx
// ending abandons the dial and releases a leg that answered meanwhile.
func (s *Server) dialLate(ctx context.Context, c *Call, label string, ringFor time.Duration) (*leg, *sip.Response, error) {
	targets, err := s.edge.Resolve(label)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", label, err)
	}
	last := "no destination"
	for _, t := range targets {
		l, r, err := c.dial(ctx, t, nil, "", false, ringFor)
		if ctx.Err() != nil {
			if l != nil {
				s.sendAck(l, s.ackFor(l, l.cseq.Load(), nil, ""))
				go s.bye(l, "abandoned")
			}
			return nil, nil, ctx.Err()
		}
		if err == nil && r.IsSuccess() {
			s.edge.Report(t, true)
			if len(r.Body()) == 0 {
				// A 2xx to a late offer must carry the offer (RFC 3261
				// §13.2.1).
				s.sendAck(l, s.ackFor(l, l.cseq.Load(), nil, ""))
				go s.bye(l, "no offer in 2xx")
				return nil, nil, fmt.Errorf("%s answered without SDP", label)
			}
			return l, r, nil
		}
		switch {
		case err != nil:
			last = err.Error()
			s.edge.Report(t, false)
		case r.StatusCode == 503 || r.StatusCode == 408:
			last = fmt.Sprintf("%d %s", r.StatusCode, r.Reason)
			s.edge.Report(t, false)
		default:
			last = fmt.Sprintf("%d %s", r.StatusCode, r.Reason)
		}
	}
	return nil, nil, fmt.Errorf("no destination of %s answered (last: %s)", label, last)
}
