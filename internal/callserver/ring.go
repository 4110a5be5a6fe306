package callserver

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// An offer to an agent's phone outlives the reason for it when the caller
// hangs up while the phone rings: the call ends at once (the router hears
// it and the agent is ready again), but the phone still holds the INVITE
// until our CANCEL reaches it and it answers. The router keeps the agent's
// phone out of selection until then (router.PhoneRelease bounds the wait);
// the call server says when the INVITE is over (Tracker.OfferReleased), which is
// what drainCancelled and offerReleased are for. A final response to a
// cancelled INVITE — 487, or a 486 from a phone that answers busy — is the
// end of the offer, never ring-no-answer: dial has already returned the
// cancellation to its caller, which reports an abandon, not a requery.

// drainCancelled finishes an outbound INVITE that dial cancelled because
// its context ended: it sends the CANCEL once a provisional response
// allows (RFC 3261 §9.1), ACKs and hangs up a 2xx that crossed the CANCEL
// (RFC 3261 §15), and waits for the final response at most 64*T1, the
// INVITE transaction's own limit. It then reports the agent's phone
// released.
func (c *Call) drainCancelled(l *leg, req *sip.Request, tx sip.ClientTransaction, gotProvisional bool) {
	s := c.srv
	defer tx.Terminate()
	bound := time.NewTimer(64 * sip.T1)
	defer bound.Stop()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if !gotProvisional {
					gotProvisional = true
					s.sendCancel(req)
				}
				continue
			}
			if res.IsSuccess() {
				l.establishOutbound(res)
				l.cseq.Store(req.CSeq().SeqNo)
				s.sendAck(l, s.ackFor(l, req.CSeq().SeqNo, nil, ""))
				s.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: l.id, Reason: "answered after cancel"})
				s.bye(l, "answered after cancel")
			} else {
				s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Code: res.StatusCode, Reason: res.Reason})
			}
			c.offerReleased(l)
			return
		case <-tx.Done():
			reason := "no final response after CANCEL"
			if err := tx.Err(); err != nil {
				reason = err.Error()
			}
			s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Code: 408, Reason: reason})
			c.offerReleased(l)
			return
		case <-bound.C:
			c.log.Info("cancelled INVITE got no final response; given up", "leg", l.id, "after", 64*sip.T1)
			s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Code: 408, Reason: "no final response after CANCEL"})
			c.offerReleased(l)
			return
		}
	}
}

// offerReleased tells the router that the INVITE of leg l, which offered
// the call to an agent's phone, is over without connecting the call.
func (c *Call) offerReleased(l *leg) {
	if l == nil || l.agent == "" {
		return
	}
	if t := c.srv.tracker; t != nil {
		t.OfferReleased(context.Background(), c.id, event.AgentID(l.agent))
	}
}
