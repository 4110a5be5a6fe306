package callserver

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/tandem-cc/tandem/internal/event"
)

// leg is one SIP dialog of a call, from tandem's side: the caller's inbound
// leg (tandem is the UAS) or an outbound leg (tandem is the UAC). The dialog
// fields are fixed once the dialog is established (RFC 3261 §12.1); cseq is
// atomic because in-dialog requests may be built from several goroutines.
type leg struct {
	id   event.LegID
	call *Call
	// inbound is true for the caller's leg.
	inbound bool

	sipCallID string
	localTag  string
	remoteTag string
	// local and remote are the URIs of the From/To of requests tandem sends
	// in this dialog (local in From, remote in To).
	local, remote         sip.Uri
	localName, remoteName string
	remoteTarget          sip.Uri
	// routeSet holds the Route header values to put on requests, in order.
	routeSet []sip.Uri
	// transport is UDP, TCP or TLS; dest is the host:port requests go to
	// when the route set is empty.
	transport string
	dest      string
	// keepDest keeps dest after the dialog is established (registered
	// phones are reached where they registered from).
	keepDest bool
	cseq     atomic.Uint32

	// Inbound leg: the INVITE and its server transaction, and where ACKs
	// to our 2xx are handed to the goroutine waiting for them.
	invite   *sip.Request
	inviteTx sip.ServerTransaction
	acks     chan *sip.Request

	// Outbound leg: the INVITE we sent, and the ACK we sent for its 2xx,
	// kept to answer 2xx retransmissions (RFC 3261 §13.2.2.4).
	ackMu   sync.Mutex // guards lastAck
	lastAck *sip.Request

	// agent is the agent whose phone this outbound leg offers the call to
	// (set at dial from Call.ringAgent), so that its end can be reported
	// to the router (Tracker.OfferReleased).
	agent string

	// origin is the o= line of the session descriptions this leg gets
	// from tandem (see stamp).
	originMu sync.Mutex // guards origin and firstSDP
	origin   *sdp.Origin
	// firstSDP is the first description the leg got, until a second one
	// makes its origin needed.
	firstSDP []byte
	// lastSDP is the last description the leg got from tandem, as sent:
	// a session refresh by re-INVITE offers it again unchanged.
	lastSDP []byte

	// session is the leg's session timer (timer.go).
	session sessionState
}

// key identifies the dialog for in-dialog requests that reach tandem: their
// Call-ID and their To tag, which is tandem's own tag in this dialog.
func (l *leg) key() string { return dialogKey(l.sipCallID, l.localTag) }

func dialogKey(callID, localTag string) string { return callID + "\x00" + localTag }

func (l *leg) peer() string {
	if l.dest != "" {
		return l.dest
	}
	return l.remoteTarget.HostPort()
}

// newInboundLeg makes the caller's leg from its INVITE.
func newInboundLeg(c *Call, req *sip.Request, tx sip.ServerTransaction) *leg {
	l := &leg{
		id:        event.LegID(string(c.id) + "-in"),
		call:      c,
		inbound:   true,
		sipCallID: req.CallID().Value(),
		localTag:  sip.GenerateTagN(16),
		local:     *req.To().Address.Clone(),
		remote:    *req.From().Address.Clone(),
		localName: req.To().DisplayName, remoteName: req.From().DisplayName,
		transport: strings.ToUpper(req.Transport()),
		dest:      req.Source(),
		invite:    req,
		inviteTx:  tx,
		acks:      make(chan *sip.Request, 1),
	}
	l.remoteTag, _ = req.From().Params.Get("tag")
	if ct := req.Contact(); ct != nil {
		l.remoteTarget = *ct.Address.Clone()
	} else {
		l.remoteTarget = *req.From().Address.Clone()
	}
	// RFC 3261 §12.1.1: the UAS route set is the Record-Route list in order.
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			l.routeSet = append(l.routeSet, *rr.Address.Clone())
		}
	}
	l.cseq.Store(0)
	return l
}

// establishOutbound fills the dialog state of an outbound leg from the 2xx
// (RFC 3261 §12.1.2: the UAC route set is the Record-Route list reversed).
func (l *leg) establishOutbound(res *sip.Response) {
	l.remoteTag, _ = res.To().Params.Get("tag")
	if ct := res.Contact(); ct != nil {
		l.remoteTarget = *ct.Address.Clone()
	}
	rrs := res.GetHeaders("Record-Route")
	l.routeSet = l.routeSet[:0]
	for i := len(rrs) - 1; i >= 0; i-- {
		if rr, ok := rrs[i].(*sip.RecordRouteHeader); ok {
			l.routeSet = append(l.routeSet, *rr.Address.Clone())
		}
	}
	l.call.srv.timerAgreed(l, res)
	// Once the dialog exists, in-dialog requests go to the remote target
	// (or the route set), unless the target was a registered phone whose
	// reachable address is where it registered from.
	if !l.keepDest {
		l.dest = ""
	}
}

// withBody sets body and its Content-Type on a request or response; with
// no body it still sets Content-Length: 0, which stream transports need.
func withBody(m sip.Message, body []byte, contentType string) {
	if len(body) == 0 {
		m.SetBody(nil)
		return
	}
	if contentType == "" {
		contentType = "application/sdp"
	}
	m.AppendHeader(sip.NewHeader("Content-Type", contentType))
	m.SetBody(body)
}

func contentType(m sip.Message) string {
	if hs := m.GetHeaders("Content-Type"); len(hs) > 0 {
		return hs[0].Value()
	}
	return ""
}
