package callserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// A party of a call asks for a transfer with REFER (RFC 3515) in its own
// dialog with tandem: an agent's phone transferring the caller (blind, or
// attended with Replaces in the Refer-To, RFC 3891 and RFC 5589), or the
// VoiceXML gateway carrying out a <transfer>. tandem is a B2BUA, so it does
// not pass the REFER on to the caller: it carries the transfer out itself
// with third-party call control (RFC 3725), through routing (the router
// reserves a target agent and follows the transferring agent to wrap-up)
// and the dial plan, and reports its progress to the referrer in NOTIFYs
// of the implicit refer subscription (message/sipfrag, RFC 3420).
//
// The referrer is the party the caller leaves: the agent (Call.out) or the
// VRU leg. A REFER from the caller's own leg is refused (403): the caller
// has nobody tandem could hand to the target but the agent, and a contact
// center does not let the caller transfer its agent.

// Transfer kinds. Blind and consultation release the referrer once the
// target answers; bridge (the VoiceXML gateway's bridged <transfer>) parks
// the referrer's leg while the caller talks to the target and gives the
// caller back to it when the target hangs up or maxtime passes.
const (
	transferBlind   = "blind"
	transferConsult = "consultation"
	transferBridge  = "bridge"
)

// TransferTracker is implemented by a router that follows transfers a
// call's party asks for in SIP (REFER), so they are routed and reported as
// a CTI transfer is: the router may reserve a target agent, and moves the
// transferring agent to wrap-up when the caller is through.
type TransferTracker interface {
	// TransferTo says where a transfer of call to target (the Refer-To
	// user: a number or an extension) goes. A RejectCode refuses it.
	// attended says the target is already connected (the agent's consult
	// call through tandem, joined by Replaces): nothing is dialed and
	// nobody is reserved; only the transferring agent's end follows.
	TransferTo(ctx context.Context, call event.CallID, target string, attended bool) (Instruction, error)
	// TransferAnswered says the target answered.
	TransferAnswered(ctx context.Context, call event.CallID)
	// TransferEnded says the transfer is over: completed when the caller
	// is with the target and the transferring party left (for a bridge,
	// when the bridge ended and the caller is back with the VRU, it is
	// not completed).
	TransferEnded(ctx context.Context, call event.CallID, completed bool)
}

// referReq is a REFER taken apart.
type referReq struct {
	kind string
	// target is the Refer-To URI's user: a label for the dial plan.
	target string
	uri    sip.Uri
	// replaces names the dialog the target is to replace (attended
	// transfer), nil for none.
	replaces *replacesID
	connect  time.Duration // ring time; 0: call_server.ring_timeout
	maxTime  time.Duration // a bridge's longest; 0: unbounded
}

// replacesID is a Replaces header's value (RFC 3891 §6.1).
type replacesID struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// parseReplaces reads "call-id;to-tag=x;from-tag=y[;early-only]".
func parseReplaces(v string) (*replacesID, error) {
	parts := strings.Split(strings.TrimSpace(v), ";")
	r := &replacesID{callID: strings.TrimSpace(parts[0])}
	if r.callID == "" {
		return nil, errors.New("replaces: no call-id")
	}
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(name) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		case "early-only":
			r.earlyOnly = true
		}
	}
	if r.toTag == "" || r.fromTag == "" {
		return nil, fmt.Errorf("replaces %q: to-tag and from-tag are required", v)
	}
	return r, nil
}

// parseRefer reads a REFER's Refer-To (exactly one, RFC 3515 §2.4.1) and
// tandem's transfer header.
func parseRefer(req *sip.Request) (*referReq, error) {
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		return nil, fmt.Errorf("refer: %d Refer-To headers, want exactly one", len(hs))
	}
	r := &referReq{kind: transferBlind}
	v := strings.TrimSpace(hs[0].Value())
	// The short form "r:" and a bare URI are both allowed; ParseAddressValue
	// takes name-addr and addr-spec alike.
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(v, &r.uri, &params); err != nil {
		return nil, fmt.Errorf("refer: Refer-To %q: %w", v, err)
	}
	switch r.uri.Scheme {
	case "sip", "sips":
		r.target = r.uri.User
	case "tel":
		r.target = strings.TrimPrefix(r.uri.Raw(), "//")
		if i := strings.IndexByte(r.target, ';'); i >= 0 {
			r.target = r.target[:i]
		}
	default:
		return nil, fmt.Errorf("refer: Refer-To %q: scheme %q is not sip, sips or tel", v, r.uri.Scheme)
	}
	if r.target == "" {
		return nil, fmt.Errorf("refer: Refer-To %q names no user to dial", v)
	}
	if r.uri.Headers != nil {
		if raw, ok := r.uri.Headers.Get("Replaces"); ok {
			val, err := url.PathUnescape(raw)
			if err != nil {
				return nil, fmt.Errorf("refer: Refer-To Replaces %q: %w", raw, err)
			}
			if r.replaces, err = parseReplaces(val); err != nil {
				return nil, fmt.Errorf("refer: Refer-To: %w", err)
			}
		}
	}
	if h := req.GetHeader(event.TransferHeader); h != nil {
		if err := r.parseKind(h.Value()); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseKind reads TransferHeader.
func (r *referReq) parseKind(v string) error {
	parts := strings.Split(v, ";")
	switch k := strings.ToLower(strings.TrimSpace(parts[0])); k {
	case transferBlind, transferConsult, transferBridge:
		r.kind = k
	default:
		return fmt.Errorf("refer: %s %q: kind %q is not blind, bridge or consultation", event.TransferHeader, v, k)
	}
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		ms, err := strconv.ParseInt(val, 10, 64)
		if err != nil || ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
			return fmt.Errorf("refer: %s %q: %s must be milliseconds (0 to a day)", event.TransferHeader, v, name)
		}
		switch strings.ToLower(name) {
		case "connecttimeout":
			r.connect = time.Duration(ms) * time.Millisecond
		case "maxtime":
			r.maxTime = time.Duration(ms) * time.Millisecond
		}
	}
	return nil
}

// referSub is the implicit subscription a REFER makes (RFC 3515 §2.4.4):
// tandem is the notifier, in the referrer's dialog. Its NOTIFYs are sent
// one at a time, in order, and none after the one that terminates it.
type referSub struct {
	s  *Server
	l  *leg
	id uint32 // the REFER's CSeq number: the event's id (RFC 3515 §2.4.6)

	mu   sync.Mutex // guards done and serialises NOTIFYs
	done bool
}

// notify sends the subscription a sipfrag of status (RFC 3515 §2.4.5).
// final terminates the subscription with reason (RFC 6665 §4.1.3:
// noresource when the referred call is over, timeout when it was ended
// for time, rejected when it never came about).
func (sub *referSub) notify(code int, reason string, final bool, why string) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.done {
		return
	}
	s, l := sub.s, sub.l
	req := s.inDialog(l, sip.NOTIFY)
	req.AppendHeader(sip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(sub.id), 10)))
	state := "active;expires=3600"
	if final {
		sub.done = true
		state = "terminated;reason=" + why
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(s.contact(l.transport)) // RFC 6665 §8.2.1: NOTIFY carries a Contact
	withBody(req, []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)), "message/sipfrag;version=2.0")
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	res, err := s.request(ctx, req)
	switch {
	case err != nil:
		l.call.log.Info("refer NOTIFY got no answer", "leg", l.id, "status", code, "error", err)
	case res.StatusCode == 481 || res.StatusCode == 489:
		// The referrer dropped the subscription (or hung up): it wants
		// no more news, which changes nothing about the transfer.
		sub.done = true
	}
}

// onRefer answers a REFER on leg l of call c and carries it out.
func (s *Server) onRefer(c *Call, l *leg, req *sip.Request, tx sip.ServerTransaction) {
	r, err := parseRefer(req)
	if err != nil {
		c.log.Info("REFER refused", "leg", l.id, "error", err)
		s.reject(req, tx, 400, "Bad Request", sip.NewHeader("Warning", `399 tandem "`+strings.ReplaceAll(err.Error(), `"`, "'")+`"`))
		return
	}
	c.mu.Lock()
	code, why := 0, ""
	switch {
	case c.ended || !c.answered:
		code, why = 481, "Call/Transaction Does Not Exist"
	case l == c.in:
		code, why = 403, "Forbidden (the caller's side cannot transfer)"
	case l != c.out || c.conf != nil || c.consult != nil || c.bridged != nil:
		code, why = 403, "Forbidden (not while a consult, conference or bridge is in progress)"
	case c.pending:
		code, why = 491, "Request Pending"
	case r.kind != transferBlind && r.replaces != nil:
		code, why = 400, "Bad Request (Replaces is for blind transfers)"
	}
	if code == 0 {
		c.pending = true
	}
	c.mu.Unlock()
	if code != 0 {
		c.log.Info("REFER refused", "leg", l.id, "code", code, "why", why)
		s.reject(req, tx, code, why)
		return
	}
	// RFC 3515 §2.4.2: 202 Accepted, then NOTIFYs say how it goes.
	if err := s.respond(nil, req, tx, 202, "Accepted", nil, "", s.contact(l.transport)); err != nil {
		c.clearPending()
		c.log.Info("REFER 202 not sent", "error", err)
		return
	}
	sub := &referSub{s: s, l: l, id: req.CSeq().SeqNo}
	c.log.Info("transfer asked", "leg", l.id, "kind", r.kind, "target", r.target, "attended", r.replaces != nil)
	go func() {
		defer c.clearPending()
		// RFC 3515 §2.4.4: the first NOTIFY goes out at once.
		sub.notify(100, "Trying", false, "")
		if r.replaces != nil {
			s.attended(c, l, r, sub)
			return
		}
		s.referTo(c, l, r, sub)
	}()
}

// sipfragOf is what a failed dial is reported as to the referrer.
func sipfragOf(code int, reason string) (int, string) {
	if code == 0 {
		return 500, "Server Internal Error"
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	return code, reason
}
