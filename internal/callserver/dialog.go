package callserver

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/tandem-cc/tandem/internal/event"
)

// HandleInDialog implements sipedge.CallHandler for requests inside a
// dialog: they are matched by Call-ID and To tag (tandem's own tag).
func (s *Server) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	tag, _ := req.To().Params.Get("tag")
	v, ok := s.dialogs.Load(dialogKey(req.CallID().Value(), tag))
	if !ok {
		if !req.IsAck() {
			// RFC 3261 §12.2.2: a request for a dialog we do not know.
			s.reject(req, tx, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	l := v.(*leg)
	c := l.call
	switch req.Method {
	case sip.ACK:
		select {
		case l.acks <- req:
		default: // a retransmitted ACK nobody waits for
		}
	case sip.BYE:
		s.onBye(c, l, req, tx)
	case sip.INVITE:
		if s.sessionTooSmall(req, tx) || s.refreshInvite(c, l, req, tx) {
			return
		}
		s.reinvite(c, l, req, tx)
	case sip.UPDATE:
		if s.sessionTooSmall(req, tx) {
			return
		}
		if len(req.Body()) == 0 {
			s.refreshUpdate(l, req, tx) // a session refresh (timer.go)
			return
		}
		s.forward(c, l, req, tx)
	case sip.INFO, sip.MESSAGE, sip.NOTIFY:
		s.forward(c, l, req, tx)
	case sip.REFER:
		s.onRefer(c, l, req, tx) // transfers (refer.go)
	case sip.OPTIONS:
		s.reject(req, tx, 200, "OK", sip.NewHeader("Allow", allowOf(l)))
	case sip.CANCEL, sip.PRACK:
		// A matching CANCEL was taken by the transaction layer; this one
		// matched no transaction. tandem never sends reliable provisionals.
		s.reject(req, tx, 481, "Call/Transaction Does Not Exist")
	default:
		s.reject(req, tx, 501, "Not Implemented", sip.NewHeader("Allow", allowOf(l)))
	}
}

// What tandem handles in a dialog (RFC 3261 §20.5): a call's parties may
// transfer with REFER; the caller's side may not (refer.go), so its Allow
// does not offer it. MESSAGE and NOTIFY are relayed to the other party.
const (
	allowCaller = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY, MESSAGE"
	allowParty  = allowCaller + ", REFER"
)

func allowOf(l *leg) string {
	if l.inbound {
		return allowCaller
	}
	return allowParty
}

// peerOf returns the leg on the other side of l, or nil. Call with c.mu held.
func (c *Call) peerOf(l *leg) *leg {
	if c.bridged != nil {
		// A bridged transfer: the caller talks to the target; the VRU's
		// leg is parked until the bridge ends (transfer.go).
		switch l {
		case c.in:
			return c.bridged
		case c.bridged:
			return c.in
		}
		return nil
	}
	if c.conf != nil {
		// Each party talks to its own leg to the bridge.
		if bl := c.conf.bridge[l]; bl != nil {
			return bl
		}
		return c.conf.partyOf[l]
	}
	if c.consult != nil {
		// The agent talks to the consult target; the caller is held and
		// has nobody to relay to until the consult ends.
		switch l {
		case c.out:
			return c.consult
		case c.consult:
			return c.out
		}
		return nil
	}
	switch l {
	case c.in:
		return c.out
	case c.out:
		return c.in
	}
	return nil
}

func side(l *leg) string {
	if l.inbound {
		return "caller"
	}
	return "callee"
}

func (s *Server) onBye(c *Call, l *leg, req *sip.Request, tx sip.ServerTransaction) {
	s.reject(req, tx, 200, "OK")
	s.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: l.id, Reason: "BYE", Side: side(l)})
	if s.conferenceBye(c, l) || s.consultBye(c, l) || s.bridgeBye(c, l) {
		return
	}
	c.mu.Lock()
	other := c.peerOf(l)
	if l == c.in {
		other = c.out // even while held for a consult
	}
	if l == c.out && c.moving {
		c.outGone = true
		c.mu.Unlock()
		s.dialogs.Delete(l.key())
		c.log.Info("the leg being moved from hung up; the move goes on", "leg", l.id)
		return
	}
	answered := c.answered
	c.mu.Unlock()
	if other == nil && l != c.in {
		// A leg being moved away from or not yet connected: just forget it.
		s.dialogs.Delete(l.key())
		return
	}
	if !answered {
		return
	}
	c.end("BYE from "+side(l), event.OutcomeAnswered, nil, other)
}

// reinvite relays an offer from one side to the other (hold, resume, codec
// change) and the answer back (RFC 3261 §14).
func (s *Server) reinvite(c *Call, l *leg, req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		s.reject(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	other := c.peerOf(l)
	if c.pending || other == nil {
		c.mu.Unlock()
		// RFC 3261 §14.2: one offer at a time.
		s.reject(req, tx, 491, "Request Pending")
		return
	}
	c.pending = true
	c.mu.Unlock()
	defer c.clearPending()

	fwd := s.inDialog(other, sip.INVITE)
	withBody(fwd, stamp(other, req.Body()), contentType(req))
	ctx, cancel := context.WithTimeout(c.ctx, 64*sip.T1)
	defer cancel()
	res, err := s.ask(c.ctx, other, fwd)
	if err != nil {
		c.log.Info("re-INVITE not answered", "to", other.id, "error", err)
		s.reject(req, tx, 408, "Request Timeout")
		c.lostIn(err) // the other side's dialog is gone: end the call (gone.go)
		return
	}
	if !res.IsSuccess() {
		_ = s.respond(l, req, tx, res.StatusCode, res.Reason, res.Body(), contentType(res))
		return
	}
	lateOffer := len(req.Body()) == 0
	if !lateOffer {
		s.sendAck(other, s.ackFor(other, fwd.CSeq().SeqNo, nil, ""))
	}
	ok := sip.NewResponseFromRequest(req, 200, "OK", nil)
	ok.AppendHeader(s.contact(l.transport))
	s.timerAnswer(l, req, ok) // the 2xx refreshes l's session (RFC 4028)
	withBody(ok, stamp(l, res.Body()), contentType(res))
	if err := tx.Respond(ok); err != nil {
		c.log.Debug("relay re-INVITE 2xx failed", "error", err)
	}
	c.mu.Lock()
	switch {
	case c.consult != nil:
		// Between the agent and the consult target: not the caller's
		// session, which stays as it was.
	case l == c.in:
		c.nearSDP, c.farSDP = req.Body(), res.Body()
	default:
		c.farSDP, c.nearSDP = req.Body(), res.Body()
	}
	// An offer from the agent's leg that holds (or stops holding) the
	// caller is the agent pressing hold on its phone (RFC 3264 §8.4):
	// the router and the desktop follow it, as they follow a desktop
	// hold. Not during a consult or conference (the caller is not on
	// the agent's leg then) nor under a desktop hold (tandem's own
	// offers set the direction then).
	phoneHold, phoneChanged := false, false
	if len(req.Body()) > 0 && l == c.out && c.consult == nil && c.conf == nil && !c.held {
		phoneHold = isHold(req.Body())
		phoneChanged = phoneHold != c.phoneHeld
		c.phoneHeld = phoneHold
	}
	c.mu.Unlock()
	if len(req.Body()) > 0 {
		kind := event.LegResumed
		if isHold(req.Body()) {
			kind = event.LegHeld
		}
		s.emit(event.Event{Kind: kind, Call: c.id, Leg: l.id, Side: side(l)})
	}
	if t := s.tracker; t != nil && phoneChanged {
		c.log.Info("agent's phone hold", "held", phoneHold, "leg", l.id)
		t.PhoneHold(c.ctx, c.id, phoneHold)
	}
	ack := s.await2xxAck(ctx, l, tx, ok)
	if lateOffer {
		var body []byte
		ct := ""
		if ack != nil {
			body, ct = ack.Body(), contentType(ack)
		}
		s.sendAck(other, s.ackFor(other, fwd.CSeq().SeqNo, stamp(other, body), ct))
	}
}

func (c *Call) clearPending() {
	c.mu.Lock()
	c.pending = false
	c.mu.Unlock()
}

// forward relays a non-INVITE in-dialog request to the other side and its
// final response back.
func (s *Server) forward(c *Call, l *leg, req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	other := c.peerOf(l)
	c.mu.Unlock()
	if other == nil {
		s.reject(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	fwd := s.inDialog(other, req.Method)
	for _, name := range []string{"Event", "Subscription-State", "Info-Package", "Content-Disposition", "Recv-Info"} {
		for _, h := range req.GetHeaders(name) {
			fwd.AppendHeader(sip.NewHeader(name, h.Value()))
		}
	}
	withBody(fwd, req.Body(), contentType(req))
	res, err := s.ask(c.ctx, other, fwd)
	if err != nil {
		s.reject(req, tx, 408, "Request Timeout")
		c.lostIn(err) // the other side's dialog is gone: end the call (gone.go)
		return
	}
	var hs []sip.Header
	if req.Method == sip.UPDATE && res.IsSuccess() {
		hs = s.timerAnswerHeaders(l, req) // a 2xx to UPDATE refreshes l
	}
	_ = s.respond(nil, req, tx, res.StatusCode, res.Reason, res.Body(), contentType(res), hs...)
}

// await2xxAck waits for the ACK to a 2xx sent on tx for a re-INVITE,
// retransmitting the 2xx over UDP.
func (s *Server) await2xxAck(ctx context.Context, l *leg, tx sip.ServerTransaction, res *sip.Response) *sip.Request {
	interval := sip.T1
	resend := time.NewTimer(interval)
	defer resend.Stop()
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	for {
		select {
		case ack := <-l.acks:
			return ack
		case ack := <-tx.Acks():
			return ack
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-resend.C:
			if !sip.IsReliable(l.transport) {
				_ = tx.Respond(res)
			}
			interval = min(2*interval, sip.T2)
			resend.Reset(interval)
		}
	}
}

// HandleStrayResponse implements sipedge.CallHandler: a 2xx to an INVITE
// that arrives after its transaction ended means our ACK was lost.
func (s *Server) HandleStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		return
	}
	tag, _ := res.From().Params.Get("tag")
	v, ok := s.dialogs.Load(dialogKey(res.CallID().Value(), tag))
	if !ok {
		return
	}
	l := v.(*leg)
	l.ackMu.Lock()
	ack := l.lastAck
	l.ackMu.Unlock()
	if ack != nil && ack.CSeq().SeqNo == res.CSeq().SeqNo {
		_ = s.edge.Client().WriteRequest(ack, prebuilt)
	}
}

// isHold reports whether an SDP offer puts the media on hold: every audio
// stream sendonly or inactive (RFC 3264 §8.4), or the older c=0.0.0.0 of
// RFC 2543. An offer that does not parse is not a hold.
func isHold(body []byte) bool {
	var d sdp.SessionDescription
	if err := d.Unmarshal(body); err != nil || len(d.MediaDescriptions) == 0 {
		return false
	}
	held := func(attrs []sdp.Attribute, c *sdp.ConnectionInformation) (bool, bool) {
		if c != nil && c.Address != nil && (c.Address.Address == "0.0.0.0" || c.Address.Address == "::") {
			return true, true
		}
		for _, a := range attrs {
			switch a.Key {
			case "sendonly", "inactive":
				return true, true
			case "sendrecv", "recvonly":
				return false, true
			}
		}
		return false, false
	}
	sessionHeld, _ := held(d.Attributes, d.ConnectionInformation)
	for _, m := range d.MediaDescriptions {
		h, set := held(m.Attributes, m.ConnectionInformation)
		if !set {
			h = sessionHeld
		}
		if !h {
			return false
		}
	}
	return true
}
