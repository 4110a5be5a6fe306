package callserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// bridgeState is a bridged transfer in progress (the VoiceXML gateway's
// <transfer bridge="true">): the caller talks to Call.bridged while the
// gateway's leg (Call.out) is parked with its media inactive. Guarded by
// Call.mu.
type bridgeState struct {
	sub    *referSub
	target string
	maxT   *time.Timer // maxtime, nil when unbounded
	// ending is set by whoever ends the bridge first (far end BYE, maxtime).
	ending bool
}

// transferTracker is the router's TransferTracker, or nil.
func (s *Server) transferTracker() TransferTracker {
	if s.tracker == nil {
		return nil // a nil Tracker in the interface would not compare nil
	}
	return s.tracker
}

// referTo carries out a REFER without Replaces from the referrer's leg l
// (c.out): the target is dialed through routing with a late offer while
// the caller stays where it is (the VRU plays transferaudio meanwhile);
// once it answers the caller's media goes to it (RFC 3725 flow I). The
// caller of referTo holds c's pending token.
func (s *Server) referTo(c *Call, l *leg, r *referReq, sub *referSub) {
	tracker := s.transferTracker()
	ins := Instruction{Labels: []string{r.target}}
	if tracker != nil {
		var err error
		if ins, err = tracker.TransferTo(c.ctx, c.id, r.target, false); err != nil {
			c.log.Info("transfer refused by the router", "target", r.target, "error", err)
			sub.notify(403, "Forbidden", true, "rejected")
			return
		}
	}
	if ins.RejectCode != 0 {
		code, reason := sipfragOf(ins.RejectCode, ins.RejectReason)
		sub.notify(code, reason, true, "rejected")
		if tracker != nil {
			tracker.TransferEnded(c.ctx, c.id, false)
		}
		return
	}
	ringFor := c.ringFor(ins)
	if r.connect > 0 {
		ringFor = r.connect
	}
	s.emit(event.Event{Kind: event.CallRouted, Call: c.id, Reason: "transfer " + r.kind + " labels=" + fmt.Sprint(ins.Labels) + agentNote(ins.Agent)})
	nl, res, code, reason := s.dialTarget(c, ins, ringFor)
	if nl == nil {
		c.log.Info("transfer target did not answer", "target", r.target, "code", code, "reason", reason)
		code, reason = sipfragOf(code, reason)
		sub.notify(code, reason, true, "noresource")
		if tracker != nil {
			tracker.TransferEnded(c.ctx, c.id, false)
		}
		return
	}
	inviteSeq := nl.cseq.Load()
	offer, offerType := res.Body(), contentType(res)
	reinv := s.inDialog(c.in, sip.INVITE)
	withBody(reinv, stamp(c.in, offer), offerType)
	ans, err := s.ask(c.ctx, c.in, reinv)
	if err != nil || !ans.IsSuccess() {
		s.sendAck(nl, s.ackFor(nl, inviteSeq, nil, ""))
		go s.bye(nl, "transfer failed")
		if tracker != nil {
			tracker.TransferEnded(c.ctx, c.id, false)
		}
		if c.lostIn(err) {
			return // the caller is gone; the call has ended
		}
		code, reason := 500, "Server Internal Error"
		if ans != nil {
			code, reason = ans.StatusCode, ans.Reason
		}
		sub.notify(code, reason, true, "noresource")
		return
	}
	s.sendAck(c.in, s.ackFor(c.in, reinv.CSeq().SeqNo, nil, ""))
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		s.sendAck(nl, s.ackFor(nl, inviteSeq, ans.Body(), contentType(ans)))
		go s.bye(nl, "call ended during transfer")
		return
	}
	old := c.out
	oldNear := c.nearSDP
	c.farSDP, c.nearSDP, c.held, c.phoneHeld = offer, ans.Body(), false, false
	if r.kind == transferBridge {
		c.bridged = nl
		c.bridge = &bridgeState{sub: sub, target: r.target}
	} else {
		c.out = nl
		c.leaving = append(c.leaving, old)
	}
	c.mu.Unlock()
	s.dialogs.Store(nl.key(), nl)
	s.sendAck(nl, s.ackFor(nl, inviteSeq, stamp(nl, ans.Body()), contentType(ans)))
	if tracker != nil {
		tracker.TransferAnswered(c.ctx, c.id)
	}

	if r.kind == transferBridge {
		// The VRU's leg is parked: offered its own view of the caller,
		// inactive, so it neither sends into the caller's new session nor
		// times out waiting for the caller's RTP.
		if parked, err := withDirection(oldNear, "inactive"); err == nil {
			if _, err := s.reoffer(c.ctx, old, parked); err != nil {
				c.log.Info("the VRU leg was not parked", "error", err)
			}
		}
		s.emit(event.Event{Kind: event.CallTransferred, Call: c.id, Leg: nl.id, Reason: "bridge to " + r.target})
		c.log.Info("bridged transfer connected", "vru", old.id, "target", nl.id, "label", r.target)
		sub.notify(200, "OK", false, "")
		if r.maxTime > 0 {
			c.mu.Lock()
			if c.bridge != nil && c.bridged == nl {
				c.bridge.maxT = time.AfterFunc(r.maxTime, func() { s.endBridge(c, nl, "timeout") })
			}
			c.mu.Unlock()
		}
		return
	}
	s.emit(event.Event{Kind: event.CallTransferred, Call: c.id, Leg: nl.id, Reason: r.kind + " transfer (REFER) to " + r.target})
	c.log.Info("transferred", "from", old.id, "to", nl.id, "label", r.target, "kind", r.kind)
	sub.notify(200, "OK", true, "noresource")
	if tracker != nil {
		tracker.TransferEnded(c.ctx, c.id, true)
	}
	s.letGo(c, old)
}

// leaveGrace is how long a referrer keeps its dialog after a transfer
// succeeded: RFC 5589 §6 has it send BYE itself on the final NOTIFY; one
// that does not is released by tandem then.
const leaveGrace = 32 * time.Second

// letGo waits for a leg that left the call (a referrer) to hang up, and
// releases it after leaveGrace if it has not. Its dialog stays known so
// its BYE is answered 200.
func (s *Server) letGo(c *Call, l *leg) {
	time.AfterFunc(leaveGrace, func() {
		if _, ok := s.dialogs.Load(l.key()); !ok {
			return
		}
		s.dialogs.Delete(l.key())
		s.bye(l, "transferred")
	})
}

// leavingLegs returns the legs that left c and are still up; call with
// c.mu held (end releases them).
func (c *Call) leavingLegs() []*leg {
	var out []*leg
	for _, l := range c.leaving {
		if _, ok := c.srv.dialogs.Load(l.key()); ok {
			out = append(out, l)
		}
	}
	if c.bridged != nil {
		out = append(out, c.bridged)
	}
	if c.bridge != nil && c.bridge.maxT != nil {
		c.bridge.maxT.Stop()
	}
	return out
}

// dialTarget dials ins's labels in turn (late offer, ringing at most
// ringFor) and returns the answered leg and its 2xx, not yet ACKed; or
// nil and the failure as a SIP status: the target's own final answer,
// 408 for no answer in time, 503 when no destination could be reached,
// 404 for a label the dial plan does not know.
func (s *Server) dialTarget(c *Call, ins Instruction, ringFor time.Duration) (*leg, *sip.Response, int, string) {
	code, reason := 404, "Not Found"
	c.setRingAgent(ins.Agent)
	defer c.setRingAgent("")
	for _, label := range ins.Labels {
		targets, err := s.edge.Resolve(label)
		if err != nil {
			switch {
			case errors.Is(err, sipedge.ErrNotRegistered):
				code, reason = 480, "Temporarily Unavailable"
			case errors.Is(err, sipedge.ErrAllDown):
				code, reason = 503, "Service Unavailable"
			}
			continue
		}
		for _, t := range targets {
			l, r, err := c.dial(c.ctx, t, nil, "", false, ringFor)
			if c.ctx.Err() != nil {
				if l != nil {
					s.sendAck(l, s.ackFor(l, l.cseq.Load(), nil, ""))
					go s.bye(l, "call ended during transfer")
				}
				return nil, nil, 487, "Request Terminated"
			}
			switch {
			case err == nil && r.IsSuccess():
				s.edge.Report(t, true)
				if len(r.Body()) == 0 {
					// A 2xx to a late offer must carry one (RFC 3261 §13.2.1).
					s.sendAck(l, s.ackFor(l, l.cseq.Load(), nil, ""))
					go s.bye(l, "no offer in 2xx")
					code, reason = 488, "Not Acceptable Here"
					continue
				}
				return l, r, 200, "OK"
			case err != nil && errors.Is(err, errRingTimeout):
				code, reason = 408, "Request Timeout"
			case err != nil:
				s.edge.Report(t, false)
				code, reason = 503, "Service Unavailable"
			default:
				code, reason = r.StatusCode, r.Reason
				s.edge.Report(t, code != 503 && code != 408)
			}
			if code >= 600 {
				return nil, nil, code, reason
			}
			if t.Group != "" && code != 503 {
				break // the group answered for the label
			}
		}
	}
	return nil, nil, code, reason
}

// bridgeBye takes a BYE on a call with a bridged transfer: from the
// target (the bridge ends, the caller goes back to the VRU) or from the
// VRU (it leaves; the caller stays with the target, as after a blind
// transfer). It reports whether it took the BYE.
func (s *Server) bridgeBye(c *Call, l *leg) bool {
	c.mu.Lock()
	target, vru, b := c.bridged, c.out, c.bridge
	c.mu.Unlock()
	if target == nil || b == nil {
		return false
	}
	switch l {
	case target:
		s.dialogs.Delete(l.key())
		go s.endBridge(c, target, "noresource")
		return true
	case vru:
		c.mu.Lock()
		if c.bridged == target {
			c.out, c.bridged, c.bridge = target, nil, nil
			if b.maxT != nil {
				b.maxT.Stop()
			}
		}
		c.mu.Unlock()
		s.dialogs.Delete(l.key())
		c.log.Info("the VRU left a bridged transfer; the caller stays with the target", "target", target.id)
		return true
	}
	return false
}

// endBridge ends a bridged transfer: the target is released (unless it
// hung up: why noresource) and the caller is connected to the VRU again
// (its offer, solicited, to the caller), then the VRU hears the end in the
// final NOTIFY: noresource for the far end's hang-up, timeout for maxtime.
func (s *Server) endBridge(c *Call, target *leg, why string) {
	c.mu.Lock()
	b := c.bridge
	if c.ended || b == nil || c.bridged != target || b.ending {
		c.mu.Unlock()
		return
	}
	b.ending = true
	if b.maxT != nil {
		b.maxT.Stop()
	}
	c.mu.Unlock()
	// Wait for the step in progress (a relayed re-INVITE) to finish.
	if !c.takePending(2 * 64 * sip.T1) {
		c.hangup("bridge stuck")
		return
	}
	defer c.clearPending()
	c.mu.Lock()
	c.bridged, c.bridge = nil, nil
	c.mu.Unlock()
	if why != "noresource" {
		s.dialogs.Delete(target.key())
		go s.bye(target, "maxtime")
	}
	s.emit(event.Event{Kind: event.CallConsultEnded, Call: c.id, Leg: target.id, Reason: "bridge ended: " + why})
	ctx, cancel := context.WithTimeout(c.ctx, 2*64*sip.T1)
	defer cancel()
	if err := s.reconnectLocked(ctx, c); err != nil {
		c.log.Warn("caller not reconnected to the VRU after a bridged transfer", "error", err)
		if !c.lostIn(err) {
			c.hangup("reconnect to the VRU failed")
		}
		return
	}
	c.log.Info("bridged transfer ended", "why", why)
	if t := s.transferTracker(); t != nil {
		t.TransferEnded(c.ctx, c.id, false)
	}
	b.sub.notify(200, "OK", true, why)
}

// takePending waits up to d for c's one-offer-at-a-time token.
func (c *Call) takePending(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			return false
		}
		if !c.pending {
			c.pending = true
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-c.ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// attended carries out a REFER whose Refer-To names, in Replaces, a dialog
// tandem holds (RFC 5589 §7): the agent called the target through tandem
// (its consult call, call c2, on which the agent's leg is the named
// dialog) and now hands the caller of c to that target. tandem does what
// the target would do with an INVITE carrying Replaces: the target's leg
// of c2 is connected to c's caller (its offer solicited and given to the
// caller, RFC 3725 flow I) and becomes c's agent side; c2 ends, and the
// referrer gets the final NOTIFY and hangs up both its calls.
func (s *Server) attended(c *Call, l *leg, r *referReq, sub *referSub) {
	tracker := s.transferTracker()
	v, ok := s.dialogs.Load(dialogKey(r.replaces.callID, r.replaces.toTag))
	var rl *leg
	if ok {
		rl = v.(*leg)
	}
	if rl == nil || rl.remoteTag != r.replaces.fromTag || rl.call == c {
		// RFC 3891 §3: no such dialog here. tandem only joins dialogs it
		// holds; the referrer learns it in the final NOTIFY.
		c.log.Info("attended transfer names a dialog tandem does not hold", "call_id", r.replaces.callID)
		sub.notify(481, "Call/Transaction Does Not Exist", true, "noresource")
		return
	}
	c2 := rl.call
	c2.mu.Lock()
	bad := c2.ended || !c2.answered || c2.out == nil || c2.conf != nil || c2.consult != nil || c2.bridged != nil
	var target *leg
	switch {
	case bad:
	case rl == c2.in:
		target = c2.out
	case rl == c2.out:
		// The consult call came to the agent (the target called it):
		// the target is c2's caller side, which tandem cannot move into
		// another call's agent side.
		bad = true
	}
	if !bad && c2.pending {
		c2.mu.Unlock()
		sub.notify(491, "Request Pending", true, "noresource")
		return
	}
	if bad || target == nil {
		c2.mu.Unlock()
		sub.notify(603, "Decline", true, "rejected")
		return
	}
	c2.pending = true
	c2.mu.Unlock()
	defer c2.clearPending()

	if tracker != nil {
		if _, err := tracker.TransferTo(c.ctx, c.id, r.target, true); err != nil {
			c.log.Info("router: attended transfer", "error", err)
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 2*64*sip.T1)
	defer cancel()
	offer, answer, err := s.connectLegs(ctx, target, c.in)
	if err != nil {
		c.log.Info("attended transfer failed", "error", err)
		if tracker != nil {
			tracker.TransferEnded(c.ctx, c.id, false)
		}
		if c.lostIn(err) {
			return
		}
		c2.lostIn(err)
		sub.notify(503, "Service Unavailable", true, "noresource")
		return
	}
	// The target's dialog changes calls: a new leg of c with the same
	// dialog state, stored under the same key, so the target's requests
	// now find c. The leg of c2 is left behind, out of every table.
	nl := adopt(c, target)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	old := c.out
	c.out = nl
	c.farSDP, c.nearSDP, c.held, c.phoneHeld = offer, answer, false, false
	c.leaving = append(c.leaving, old)
	c.mu.Unlock()
	c2.mu.Lock()
	c2.out = nil
	c2.mu.Unlock()
	target.stopSession()
	s.dialogs.Store(nl.key(), nl)
	s.emit(event.Event{Kind: event.LegEnded, Call: c2.id, Leg: target.id, Reason: "replaced: joined to call " + string(c.id), Side: "tandem"})
	s.emit(event.Event{Kind: event.LegNew, Call: c.id, Leg: nl.id, Peer: nl.peer(), Reason: "replaces " + string(target.id)})
	s.emit(event.Event{Kind: event.LegAnswered, Call: c.id, Leg: nl.id, Code: 200})
	s.emit(event.Event{Kind: event.CallTransferred, Call: c.id, Leg: nl.id, Reason: "attended transfer (REFER with Replaces) to " + r.target})
	c.log.Info("attended transfer completed", "from", old.id, "to", nl.id, "consult_call", c2.id)
	sub.notify(200, "OK", true, "noresource")
	if tracker != nil {
		tracker.TransferAnswered(c.ctx, c.id)
		tracker.TransferEnded(c.ctx, c.id, true)
	}
	// The consult call is over: its agent leg is released (the agent
	// hangs it up too, RFC 5589 §7.1; whichever BYE comes second gets 481).
	c2.end("attended transfer: target joined call "+string(c.id), event.OutcomeAnswered, rl, nil)
	s.letGo(c, old)
}

// adopt makes a leg of c out of l, an established outbound leg of another
// call: the same dialog (Call-ID, tags, route set, CSeq), a new leg id.
func adopt(c *Call, l *leg) *leg {
	nl := &leg{
		id:           event.LegID(fmt.Sprintf("%s-%s", c.id, sip.GenerateTagN(6))),
		call:         c,
		sipCallID:    l.sipCallID,
		localTag:     l.localTag,
		remoteTag:    l.remoteTag,
		local:        l.local,
		remote:       l.remote,
		localName:    l.localName,
		remoteName:   l.remoteName,
		remoteTarget: l.remoteTarget,
		routeSet:     l.routeSet,
		transport:    l.transport,
		dest:         l.dest,
		keepDest:     l.keepDest,
		acks:         make(chan *sip.Request, 1),
		agent:        l.agent,
	}
	nl.cseq.Store(l.cseq.Load())
	l.originMu.Lock()
	nl.origin, nl.firstSDP, nl.lastSDP = l.origin, l.firstSDP, l.lastSDP
	l.originMu.Unlock()
	l.ackMu.Lock()
	nl.lastAck = l.lastAck
	l.ackMu.Unlock()
	return nl
}
