package callserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// A consult call is the agent's second call: the caller is held, the
// agent's phone is connected to the consult target (another agent, a
// dialed number), and the agent then completes the transfer (the caller is
// connected to the target, the agent's leg released), cancels it (the
// target released, the agent back with the caller), or conferences the
// three. Every step is a 3PCC re-INVITE sequence (RFC 3725 flow I) on
// established dialogs: tandem stays signaling only.
//
// In-dialog events during a consult: the target hanging up is a cancel;
// the agent hanging up completes the transfer (as a PBX does); the caller
// hanging up ends everything.

// Errors of the consult calls.
var (
	ErrNoConsult = errors.New("callserver: no consult call in progress")
	ErrConsult   = errors.New("callserver: a consult call is already in progress")
)

// lockForControl takes the call's one-offer-at-a-time token for a call
// control step; check says whether the call's state allows it.
func (s *Server) lockForControl(id event.CallID, check func(c *Call) error) (*Call, error) {
	v, ok := s.calls.Load(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	c := v.(*Call)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ended || !c.answered || c.out == nil:
		return nil, ErrNotReady
	case c.pending:
		return nil, ErrBusy
	case c.conf != nil:
		return nil, ErrConference
	}
	if err := check(c); err != nil {
		return nil, err
	}
	c.pending = true
	return c, nil
}

// reoffer sends leg l a re-INVITE with body and returns the answer, ACKed.
func (s *Server) reoffer(ctx context.Context, l *leg, body []byte) ([]byte, error) {
	req := s.inDialog(l, sip.INVITE)
	withBody(req, stamp(l, body), "application/sdp")
	res, err := s.ask(ctx, l, req)
	if err != nil {
		return nil, fmt.Errorf("re-INVITE %s: %w", l.id, err)
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("re-INVITE %s: %d %s", l.id, res.StatusCode, res.Reason)
	}
	s.sendAck(l, s.ackFor(l, req.CSeq().SeqNo, nil, ""))
	return res.Body(), nil
}

// solicit sends leg l a re-INVITE without SDP, so that l offers its
// session in the 2xx; the ACK carrying the answer is for the caller of
// solicit to send with the returned finish (an empty answer keeps l's
// media as it was, for when the far side refused).
func (s *Server) solicit(ctx context.Context, l *leg) (offer []byte, finish func(answer []byte), err error) {
	req := s.inDialog(l, sip.INVITE)
	withBody(req, nil, "")
	res, err := s.ask(ctx, l, req)
	if err != nil {
		return nil, nil, fmt.Errorf("re-INVITE %s: %w", l.id, err)
	}
	seq := req.CSeq().SeqNo
	if !res.IsSuccess() {
		return nil, nil, fmt.Errorf("re-INVITE %s: %d %s", l.id, res.StatusCode, res.Reason)
	}
	if len(res.Body()) == 0 {
		s.sendAck(l, s.ackFor(l, seq, nil, ""))
		return nil, nil, fmt.Errorf("re-INVITE %s: 2xx without an offer", l.id)
	}
	return res.Body(), func(answer []byte) {
		if len(answer) == 0 {
			// An answer must come (RFC 3264 §5): give l its own session
			// back, put on hold, so it keeps what it had and sends nothing.
			answer, _ = withDirection(res.Body(), "inactive")
		}
		s.sendAck(l, s.ackFor(l, seq, stamp(l, answer), "application/sdp"))
	}, nil
}

// connectLegs joins the media of two established legs: a offers (solicited
// with a re-INVITE without SDP), b answers. It returns a's offer and b's
// answer. On failure a is given an answer that holds it.
func (s *Server) connectLegs(ctx context.Context, a, b *leg) (offer, answer []byte, err error) {
	offer, finish, err := s.solicit(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	answer, err = s.reoffer(ctx, b, offer)
	if err != nil {
		finish(nil)
		return nil, nil, err
	}
	finish(answer)
	return offer, answer, nil
}

// Consult puts the caller of call id on hold and connects the agent's
// phone to label (another agent's extension, a dialed number), ringing at
// most ringFor. If the target does not answer, the caller is taken off
// hold and connected to the agent again.
func (s *Server) Consult(ctx context.Context, id event.CallID, label string, ringFor time.Duration) error {
	c, err := s.lockForControl(id, func(c *Call) error {
		if c.consult != nil {
			return ErrConsult
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer c.clearPending()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	if ringFor <= 0 {
		ringFor = s.cfg.RingTimeout.D()
	}

	c.mu.Lock()
	in, agent, far, wasHeld := c.in, c.out, c.farSDP, c.held
	c.mu.Unlock()
	if !wasHeld {
		// The caller keeps the agent's session, sendonly: on hold.
		held, err := withDirection(far, "sendonly")
		if err == nil {
			_, err = s.reoffer(ctx, in, held)
		}
		if err != nil {
			c.lostIn(err) // the caller gone ends the call
			return fmt.Errorf("callserver: consult %s: hold the caller: %w", id, err)
		}
	}
	nl, res, err := s.dialLate(ctx, c, label, ringFor)
	if err != nil {
		s.reconnect(c, "consult failed")
		return fmt.Errorf("callserver: consult %s to %s: %w", id, label, err)
	}
	inviteSeq := nl.cseq.Load()
	ans, err := s.reoffer(ctx, agent, res.Body())
	if err != nil {
		s.sendAck(nl, s.ackFor(nl, inviteSeq, nil, ""))
		go s.bye(nl, "consult failed")
		if !c.lostIn(err) {
			s.reconnect(c, "consult failed")
		}
		return fmt.Errorf("callserver: consult %s: the agent's phone: %w", id, err)
	}
	s.sendAck(nl, s.ackFor(nl, inviteSeq, stamp(nl, ans), "application/sdp"))
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		go s.bye(nl, "call ended during consult")
		return ErrNotReady
	}
	c.consult = nl
	c.held = true
	c.mu.Unlock()
	s.dialogs.Store(nl.key(), nl)
	s.emit(event.Event{Kind: event.CallConsult, Call: c.id, Leg: nl.id, Peer: label})
	c.log.Info("consult", "leg", nl.id, "label", label)
	return nil
}

// CompleteConsult connects the caller to the consult target and releases
// the agent's leg: the transfer is done.
func (s *Server) CompleteConsult(ctx context.Context, id event.CallID) error {
	c, err := s.lockForControl(id, needConsult)
	if err != nil {
		return err
	}
	defer c.clearPending()
	err = s.complete(ctx, c, true)
	c.lostIn(err)
	return err
}

// CancelConsult releases the consult target and connects the caller to the
// agent again.
func (s *Server) CancelConsult(ctx context.Context, id event.CallID) error {
	c, err := s.lockForControl(id, needConsult)
	if err != nil {
		return err
	}
	defer c.clearPending()
	c.mu.Lock()
	target := c.consult
	c.consult = nil
	c.mu.Unlock()
	s.dialogs.Delete(target.key())
	go s.bye(target, "consult cancelled")
	s.emit(event.Event{Kind: event.CallConsultEnded, Call: c.id, Leg: target.id, Reason: "cancelled"})
	err = s.reconnectLocked(ctx, c)
	c.lostIn(err)
	return err
}

func needConsult(c *Call) error {
	if c.consult == nil {
		return ErrNoConsult
	}
	return nil
}

// complete connects the caller to the consult target and releases the
// agent's leg (byeAgent false when the agent already hung up). The caller
// holds c's pending token.
func (s *Server) complete(ctx context.Context, c *Call, byeAgent bool) error {
	c.mu.Lock()
	in, agent, target := c.in, c.out, c.consult
	c.mu.Unlock()
	offer, answer, err := s.connectLegs(ctx, target, in)
	if err != nil {
		return fmt.Errorf("callserver: complete the transfer of %s: %w", c.id, err)
	}
	c.mu.Lock()
	c.out, c.consult = target, nil
	c.farSDP, c.nearSDP, c.held = offer, answer, false
	c.mu.Unlock()
	s.dialogs.Delete(agent.key())
	if byeAgent {
		go s.bye(agent, "transferred")
	}
	s.emit(event.Event{Kind: event.CallTransferred, Call: c.id, Leg: target.id, Reason: "consult completed"})
	c.log.Info("transfer completed", "from", agent.id, "to", target.id)
	return nil
}

// reconnect connects the caller to the agent again after a consult that
// did not happen or ended; it takes the pending token itself when free.
func (s *Server) reconnect(c *Call, why string) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*64*sip.T1)
	defer cancel()
	if err := s.reconnectLocked(ctx, c); err != nil {
		c.log.Warn("caller not reconnected to the agent; releasing", "why", why, "error", err)
		if !c.lostIn(err) {
			c.hangup("reconnect failed")
		}
	}
}

func (s *Server) reconnectLocked(ctx context.Context, c *Call) error {
	c.mu.Lock()
	in, agent := c.in, c.out
	c.mu.Unlock()
	offer, answer, err := s.connectLegs(ctx, agent, in)
	if err != nil {
		return fmt.Errorf("callserver: reconnect %s: %w", c.id, err)
	}
	c.mu.Lock()
	c.farSDP, c.nearSDP, c.held = offer, answer, false
	c.mu.Unlock()
	return nil
}

// consultBye handles a BYE on a call with a consult in progress, from the
// target (a cancel) or the agent (completes the transfer). It reports
// whether it took the BYE.
func (s *Server) consultBye(c *Call, l *leg) bool {
	c.mu.Lock()
	target, agent := c.consult, c.out
	c.mu.Unlock()
	if target == nil || (l != target && l != agent) {
		return false
	}
	go func() {
		// Wait for the step in progress (a re-INVITE) to finish.
		deadline := time.Now().Add(2 * 64 * sip.T1)
		for {
			c.mu.Lock()
			if c.ended || c.consult != target {
				c.mu.Unlock()
				return
			}
			if !c.pending {
				c.pending = true
				c.mu.Unlock()
				break
			}
			c.mu.Unlock()
			if time.Now().After(deadline) {
				c.hangup("consult stuck")
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		defer c.clearPending()
		tracker := s.tracker
		ctx, cancel := context.WithTimeout(c.ctx, 2*64*sip.T1)
		defer cancel()
		if l == target {
			c.mu.Lock()
			c.consult = nil
			c.mu.Unlock()
			s.dialogs.Delete(target.key())
			s.emit(event.Event{Kind: event.CallConsultEnded, Call: c.id, Leg: target.id, Reason: "target hung up"})
			if err := s.reconnectLocked(ctx, c); err != nil {
				c.log.Warn("caller not reconnected after the consult target hung up", "error", err)
				if !c.lostIn(err) {
					c.hangup("reconnect failed")
				}
				return
			}
			if tracker != nil {
				tracker.ConsultEnded(ctx, c.id, false)
			}
			return
		}
		if err := s.complete(ctx, c, false); err != nil {
			c.log.Warn("transfer not completed after the agent hung up", "error", err)
			if !c.lostIn(err) {
				c.hangup("transfer failed")
			}
			return
		}
		if tracker != nil {
			tracker.ConsultEnded(ctx, c.id, true)
		}
	}()
	return true
}
