package callserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/tandem-cc/tandem/internal/event"
)

// ErrPhoneHeld: the agent's phone holds the call; only the phone can take
// it off hold (tandem re-offering sendrecv would contradict the phone's
// own state).
var ErrPhoneHeld = errors.New("callserver: the call is held at the agent's phone; retrieve it there")

// Hold puts an answered call on hold from tandem's side (an agent's CTI
// hold): both parties get a re-INVITE offering the other's session with
// a=sendonly, so neither hears the other (RFC 3264 §8.4). Retrieve offers
// them sendrecv again.
func (s *Server) Hold(ctx context.Context, id event.CallID) error {
	return s.setHold(ctx, id, true)
}

// Retrieve takes a call off hold.
func (s *Server) Retrieve(ctx context.Context, id event.CallID) error {
	return s.setHold(ctx, id, false)
}

// Release ends an answered call from tandem's side (both parties get BYE)
// or cancels one still in setup.
func (s *Server) Release(_ context.Context, id event.CallID) error {
	v, ok := s.calls.Load(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	v.(*Call).hangup("released")
	return nil
}

func (s *Server) setHold(ctx context.Context, id event.CallID, hold bool) error {
	v, ok := s.calls.Load(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	c := v.(*Call)
	c.mu.Lock()
	switch {
	case c.ended || !c.answered || c.out == nil:
		c.mu.Unlock()
		return ErrNotReady
	case c.pending:
		c.mu.Unlock()
		return ErrBusy
	case c.conf != nil:
		// The parties' sessions are the bridge's: a hold here would
		// re-offer the wrong one (a conference party holds from its phone).
		c.mu.Unlock()
		return ErrConference
	case c.consult != nil:
		c.mu.Unlock()
		return ErrConsult // the caller is already held
	case c.phoneHeld:
		c.mu.Unlock()
		return ErrPhoneHeld
	case c.held == hold:
		c.mu.Unlock()
		return nil
	}
	c.pending = true
	in, out := c.in, c.out
	far, near := c.farSDP, c.nearSDP
	c.mu.Unlock()
	defer c.clearPending()

	dir := "sendrecv"
	if hold {
		dir = "sendonly"
	}
	for _, x := range []struct {
		l    *leg
		body []byte
	}{{in, far}, {out, near}} {
		body, err := withDirection(x.body, dir)
		if err != nil {
			return fmt.Errorf("callserver: hold %s: %w", id, err)
		}
		req := s.inDialog(x.l, sip.INVITE)
		withBody(req, stamp(x.l, body), "application/sdp")
		res, err := s.ask(ctx, x.l, req)
		if err != nil {
			// A party whose dialog is gone ends the call (gone.go).
			c.lostIn(err)
			return fmt.Errorf("callserver: hold %s: re-INVITE %s: %w", id, x.l.id, err)
		}
		if !res.IsSuccess() {
			return fmt.Errorf("callserver: hold %s: %s answered %d", id, x.l.id, res.StatusCode)
		}
		s.sendAck(x.l, s.ackFor(x.l, req.CSeq().SeqNo, nil, ""))
	}
	c.mu.Lock()
	c.held = hold
	c.mu.Unlock()
	kind := event.LegResumed
	if hold {
		kind = event.LegHeld
	}
	s.emit(event.Event{Kind: kind, Call: c.id, Leg: out.id, Side: "tandem"})
	return nil
}

// withDirection returns the session description body with every media
// stream's direction set to dir and the origin version raised, as a new
// offer must (RFC 3264 §8).
func withDirection(body []byte, dir string) ([]byte, error) {
	var d sdp.SessionDescription
	if err := d.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("sdp: %w", err)
	}
	d.Origin.SessionVersion++
	d.Attributes = dropDirection(d.Attributes)
	for _, m := range d.MediaDescriptions {
		m.Attributes = append(dropDirection(m.Attributes), sdp.Attribute{Key: dir})
	}
	return d.Marshal()
}

func dropDirection(attrs []sdp.Attribute) []sdp.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			continue
		}
		out = append(out, a)
	}
	return out
}
