package callserver

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// refuse answers a new INVITE the call server will not take (draining,
// call_server.max_calls, a loop, a malformed Session-Expires) with code,
// and records it as a refused call: a call.rejected under a new call id,
// counted as outcome rejected. The edge admitted it (a trunk or an
// authenticated endpoint), so every one is recorded; the edge bounds what
// an untrusted source can make it record.
func (s *Server) refuse(req *sip.Request, tx sip.ServerTransaction, from sipedge.Origin, code int, reason, why, detail string, hdrs ...sip.Header) {
	s.reject(req, tx, code, reason, hdrs...)
	s.refusedInvite(req, from, code, why, detail)
}

// refusedInvite records req, if it is a new INVITE (no To tag), as a
// call refused with code: why is one of event's Reject* words.
func (s *Server) refusedInvite(req *sip.Request, from sipedge.Origin, code int, why, detail string) {
	if req.Method != sip.INVITE {
		return
	}
	if to := req.To(); to == nil {
		return
	} else if _, ok := to.Params.Get("tag"); ok {
		return
	}
	s.mCalls.WithLabelValues(string(event.OutcomeRejected)).Inc()
	d := event.Data{DNIS: req.Recipient.User, SIPCallID: strings.TrimSpace(sipCallID(req))}
	if req.From() != nil {
		d.ANI, _ = callerFrom(req, from)
	}
	ev := event.Rejected(time.Now(), code, why, detail, req.Source(), d)
	s.events.Emit(ev)
	s.log.Info("INVITE refused", "call", string(ev.Call), "code", code, "why", why, "detail", detail,
		"from", req.Source(), "trunk", from.Trunk, "user", from.User, "dnis", d.DNIS, "sip_call_id", d.SIPCallID)
}
