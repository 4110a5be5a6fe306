package callserver

import (
	"github.com/pion/sdp/v3"
)

// stamp returns body as leg l must see it. A B2BUA that moves a party's
// media from one far end to another (RFC 3725) hands it session
// descriptions made by different hosts, but to that party they are one
// session: RFC 3264 §8 wants the o= line's username, session id and
// address to stay as they were and its version to go up with each new
// offer, and some phones ignore an offer whose origin did not move on. So
// the first description a leg gets from tandem fixes its origin, and each
// later one is rewritten to that origin with the next version. A body
// that is not SDP is passed as it is.
//
// Most legs only ever get one description (the call's setup), so the first
// is kept as it came and parsed only when a second one arrives: a plain
// call pays no SDP parsing here.
func stamp(l *leg, body []byte) []byte {
	if len(body) == 0 {
		return body
	}
	l.originMu.Lock()
	defer l.originMu.Unlock()
	out := stampLocked(l, body)
	l.lastSDP = out
	return out
}

func stampLocked(l *leg, body []byte) []byte {
	if l.origin == nil {
		if l.firstSDP == nil {
			l.firstSDP = body
			return body
		}
		var first sdp.SessionDescription
		if err := first.Unmarshal(l.firstSDP); err != nil {
			// The first was not SDP; this one then fixes the origin.
			l.firstSDP = body
			return body
		}
		o := first.Origin
		l.origin, l.firstSDP = &o, nil
	}
	var d sdp.SessionDescription
	if err := d.Unmarshal(body); err != nil {
		return body
	}
	l.origin.SessionVersion++
	d.Origin = *l.origin
	out, err := d.Marshal()
	if err != nil {
		return body
	}
	return out
}

// lastSent is the last session description tandem sent leg l.
func (l *leg) lastSent() []byte {
	l.originMu.Lock()
	defer l.originMu.Unlock()
	return l.lastSDP
}
