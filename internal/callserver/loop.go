package callserver

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// hopCheck refuses an INVITE that would loop: one carrying the global id of
// a call this node owns (event.CallIDHeader: a leg tandem dialed came back
// to it) gets 482 Loop Detected, and one with no hop left to give the legs
// it would dial (Max-Forwards 1: they would carry 0) gets 483 Too Many
// Hops. It returns 0 when the INVITE may become a call.
//
// A B2BUA is not a proxy, but RFC 3261 §16.3's two checks are what stop a
// label that routes back to tandem: the id check stops a loop through this
// node at its first turn, and Max-Forwards going down by one per pass
// (outMaxForwards) stops any other loop (through another node, or a proxy
// that drops the id) within the hops the caller gave.
func (s *Server) hopCheck(req *sip.Request) (code int, reason string) {
	for _, h := range req.GetHeaders(event.CallIDHeader) {
		id := event.CallID(strings.TrimSpace(h.Value()))
		if _, ok := s.calls.Load(id); ok {
			s.log.Warn("routing loop: an INVITE came back carrying the id of a call of this node; refused with 482",
				"call", string(id), "sip_call_id", sipCallID(req), "dnis", req.Recipient.User, "from", req.Source())
			return 482, "Loop Detected"
		}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() <= 1 {
		s.log.Warn("INVITE with no hop left to forward; refused with 483",
			"max_forwards", mf.Val(), "sip_call_id", sipCallID(req), "dnis", req.Recipient.User, "from", req.Source())
		return 483, "Too Many Hops"
	}
	return 0, ""
}

// defaultMaxForwards starts the Max-Forwards of a request tandem originates
// (RFC 3261 §8.1.1.6).
const defaultMaxForwards = 70

// outMaxForwards is the Max-Forwards of a leg dialed for the caller's
// INVITE in: one less than it came with (RFC 3261 §16.6 step 3), so that a
// loop through tandem runs out of hops. HandleInvite's hopCheck refused
// every INVITE with fewer than 2, so this is at least 1: tandem answers
// 483 itself rather than send the 0 the next hop would have to refuse. A
// call tandem originates (in nil) starts at 70.
func outMaxForwards(in *sip.Request) *sip.MaxForwardsHeader {
	v := sip.MaxForwardsHeader(defaultMaxForwards)
	if in != nil {
		if mf := in.MaxForwards(); mf != nil {
			v = 0
			if mf.Val() > 0 {
				v = sip.MaxForwardsHeader(mf.Val() - 1)
			}
		}
	}
	return &v
}

func sipCallID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
