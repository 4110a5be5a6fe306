package sipedge

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// An INVITE the edge refuses for good (403 after a failed authentication,
// 400 for a digest computed for another Request-URI, 503 past the failed
// authentication limit or while draining, a request RFC 3261 §8.2
// refuses) is a call the contact center did not take, and reports count it
// (event.CallRejected). A 401/407 challenge is not: it is half of a normal
// handshake, and the INVITE that answers it is the call.
//
// Every refusal is counted in tandem_sip_invites_refused_total. From a
// trunk every one is recorded as an event; from any other source the
// events are bounded per source (a token bucket, rejectEventRate a second
// after a burst of rejectEventBurst): a scanner or a password guesser
// sending thousands of INVITEs a second must not become thousands of
// stored calls a second. Those past the bound are counted in
// tandem_sip_refusals_unrecorded_total and logged once per source a
// minute with their count.
const (
	rejectEventRate    = 10.0
	rejectEventBurst   = 100.0
	rejectEventSources = 65536
)

// refusedInvite records that req, if it is a dialog-forming INVITE, was
// refused with code: why is one of event's Reject* words, detail the
// reason phrase sent. trunk says the source is a trusted trunk. Callers
// record before they answer, so whoever has the answer can find the record.
func (e *Edge) refusedInvite(req *sip.Request, code int, why, detail string, trunk bool) {
	if req.Method != sip.INVITE || hasToTag(req) {
		return
	}
	e.mRefused.WithLabelValues(why).Inc()
	if e.events == nil {
		return
	}
	src := sourceIP(req)
	if !trunk {
		ip, _ := netip.ParseAddr(src)
		if !e.rejectEvents.allow(ip, e.now()) {
			e.mUnrecorded.Inc()
			if ok, n := e.rejectLog.take(src); ok {
				e.log.Warn("refused INVITEs from this source past the bound recorded as calls: counted, not each recorded",
					"from", src, "code", code, "why", why, "rate_per_s", rejectEventRate, "unrecorded_since_last", n)
			}
			return
		}
	}
	ev := event.Rejected(e.now(), code, why, detail, req.Source(), inviteData(req))
	e.events.Emit(ev)
	e.log.Info("INVITE refused", "call", string(ev.Call), "code", code, "why", why, "detail", detail,
		"from", req.Source(), "dnis", ev.Data.DNIS, "sip_call_id", ev.Data.SIPCallID)
}

// inviteData is what a refused INVITE tells about its call: the dialed
// number, the caller as its From says (unverified: it was refused) and its
// SIP Call-ID, so the record can be joined with a SIP trace.
func inviteData(req *sip.Request) event.Data {
	var d event.Data
	d.DNIS = clip(req.Recipient.User)
	if f := req.From(); f != nil {
		d.ANI = clip(f.Address.User)
	}
	if h := req.CallID(); h != nil {
		d.SIPCallID = clip(strings.TrimSpace(h.Value()))
	}
	return d
}

// maxDataLen bounds each field a refused INVITE puts in a record: a
// refused request is anyone's, and a record is kept for months.
const maxDataLen = 128

func clip(s string) string {
	if len(s) > maxDataLen {
		return s[:maxDataLen]
	}
	return s
}
