package mediaua

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// One call id from end to end: the call server gives every leg it dials
// the call's global id in event.CallIDHeader, and a role behind it (the
// VoiceXML gateway, the conference bridge) logs and emits under that id,
// so a VRU leg's events and the call's are one journey in the reports.
//
// The rule for a new INVITE, in order:
//
//  1. It carries the header: the dialog is a leg of that call. A value
//     that cannot be an id (empty, too long, spaces or controls) is
//     refused with 400, and so is one whose dialed number ends in another
//     call's correlation id (event.CorrelationID): the two carriers of
//     one call's id disagree.
//  2. It has no header but its dialed number ends in a correlation id (a
//     VRU label + the call's id, CVP's convention, which the call server
//     follows): the dialog is a leg of that call, whatever its source (a
//     proxy between may drop X- headers), logged at info.
//  3. It has no header and its source may start calls of its own
//     (Config.Direct: a trunk calling the gateway straight, never through
//     the call server; with Direct nil, any source, as a stand-alone
//     gateway has no call server in front): the dialog is a call of its
//     own, under a new global id (event.NewCallID), Dialog.Direct set so
//     the role reports the call itself (call.new ... call.ended), and one
//     log line says so with the SIP Call-ID.
//  4. Otherwise (the call server's own addresses, whose legs always carry
//     the header; a proxy between them that strips X- headers): refused
//     with 400 and a warning naming the source and the SIP Call-ID. The
//     leg is never re-keyed under its SIP Call-ID: its events would land
//     under an id no other role knows.

// maxCallIDLen bounds an X-Tandem-Call-ID: tandem's ids are 32 hex digits;
// another node's are the same, and a header is anyone's to write.
const maxCallIDLen = 64

// identify sets d.Call (and d.Direct) for a new INVITE, or refuses it and
// returns false.
func (u *UA) identify(req *sip.Request, tx sip.ServerTransaction, d *Dialog) bool {
	sipID := ""
	if h := req.CallID(); h != nil {
		sipID = h.Value()
	}
	if h := req.GetHeader(event.CallIDHeader); h != nil {
		id := strings.TrimSpace(h.Value())
		if !validCallID(id) {
			u.log.Warn("INVITE refused (400): its "+event.CallIDHeader+" cannot be a call id",
				"value", clip(h.Value()), "from", req.Source(), "sip_call_id", sipID)
			refuse(req, tx, 400, "Bad Request (bad "+event.CallIDHeader+")")
			return false
		}
		if corr, ok := event.CorrelationID(req.Recipient.User); ok && corr != event.CallID(id) {
			u.log.Warn("INVITE refused (400): the correlation id in its dialed number names another call than its "+event.CallIDHeader,
				"call", id, "correlation_id", string(corr), "from", req.Source(), "sip_call_id", sipID)
			refuse(req, tx, 400, "Bad Request ("+event.CallIDHeader+" and correlation id differ)")
			return false
		}
		d.Call = event.CallID(id)
		return true
	}
	if corr, ok := event.CorrelationID(req.Recipient.User); ok {
		d.Call = corr
		u.log.Info("VRU leg without "+event.CallIDHeader+" identified by the correlation id in its dialed number",
			"call", string(corr), "from", req.Source(), "to", req.Recipient.String(), "sip_call_id", sipID)
		return true
	}
	if u.cfg.Direct != nil && !u.cfg.Direct(sourceAddr(req)) {
		u.log.Warn("INVITE refused (400): a leg from the call server's side without "+event.CallIDHeader+
			" (the call server gives every leg it dials one; a proxy between them may strip it)",
			"from", req.Source(), "to", req.Recipient.String(), "sip_call_id", sipID)
		refuse(req, tx, 400, "Bad Request (missing "+event.CallIDHeader+")")
		return false
	}
	d.Call, d.Direct = event.NewCallID(time.Now()), true
	u.log.Info("a call of its own (no "+event.CallIDHeader+"): new call id",
		"call", string(d.Call), "from", req.Source(), "to", req.Recipient.String(), "sip_call_id", sipID)
	return true
}

// validCallID says whether s may name a call: 1 to maxCallIDLen visible
// ASCII characters, so it is safe in a log line, a URL's query and a
// record.
func validCallID(s string) bool {
	if s == "" || len(s) > maxCallIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > maxCallIDLen {
		return s[:maxCallIDLen] + "..."
	}
	return s
}
