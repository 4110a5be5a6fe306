package callserver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Session timers (RFC 4028) find a peer that vanished without a BYE: a
// phone that lost power, a gateway that rebooted, a NAT that forgot the
// path. Each leg negotiates its own timer, since the B2BUA is a separate
// user agent on each side: UAS toward the caller (§9), UAC toward every
// leg it dials (§7). The refresher re-INVITEs (or UPDATEs, where the peer
// allows it, so no media is renegotiated) at half the interval; the other
// side expects a refresh before the interval ends. When tandem refreshes
// and the refresh meets 481, 408 or silence, or when the peer should have
// refreshed and did not, the leg is gone: the call ends on every leg (BYE)
// and is reported as session_expired (gone.go).
//
// A peer that does not do session timers (no Session-Expires in its 2xx,
// no "timer" in Supported) is still refreshed by tandem at half of
// call_server.session_expires: a plain re-INVITE or UPDATE that a live
// peer answers and a dead one does not.

// Header names of RFC 4028 §4, with Session-Expires' compact form.
const (
	hdrSessionExpires = "Session-Expires"
	hdrSessionCompact = "x"
	hdrMinSE          = "Min-SE"
	optionTimer       = "timer"
)

// Refresher values (RFC 4028 §4): which side of the transaction that set
// the interval refreshes.
const (
	refresherUAC = "uac"
	refresherUAS = "uas"
)

// maxSessionInterval bounds a Session-Expires tandem takes from a peer; a
// day is far past any call and keeps time arithmetic safe.
const maxSessionInterval = 24 * time.Hour

// sessionExpires is a parsed Session-Expires header value.
type sessionExpires struct {
	Delta     time.Duration
	Refresher string // "", uac or uas
}

// errBadSessionHeader: a Session-Expires or Min-SE that does not parse.
var errBadSessionHeader = errors.New("callserver: malformed session timer header")

// parseSessionExpires reads a Session-Expires value (RFC 4028 §4):
// delta-seconds, then parameters; refresher, if present, is uac or uas.
// Unknown parameters are allowed (generic-param).
func parseSessionExpires(v string) (sessionExpires, error) {
	var se sessionExpires
	parts := strings.Split(v, ";")
	d, err := parseDelta(parts[0])
	if err != nil {
		return se, fmt.Errorf("%w: Session-Expires %q: %v", errBadSessionHeader, v, err)
	}
	se.Delta = d
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			return se, fmt.Errorf("%w: Session-Expires %q: empty parameter", errBadSessionHeader, v)
		}
		if name != "refresher" {
			continue
		}
		switch r := strings.ToLower(strings.TrimSpace(val)); r {
		case refresherUAC, refresherUAS:
			se.Refresher = r
		default:
			return se, fmt.Errorf("%w: Session-Expires %q: refresher %q is not uac or uas", errBadSessionHeader, v, val)
		}
	}
	return se, nil
}

// parseMinSE reads a Min-SE value: delta-seconds, then parameters, which
// RFC 4028 defines none of and are ignored.
func parseMinSE(v string) (time.Duration, error) {
	head, _, _ := strings.Cut(v, ";")
	d, err := parseDelta(head)
	if err != nil {
		return 0, fmt.Errorf("%w: Min-SE %q: %v", errBadSessionHeader, v, err)
	}
	return d, nil
}

// parseDelta reads delta-seconds (RFC 3261 §25.1: 1*DIGIT), at most a day.
func parseDelta(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("no delta-seconds")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not delta-seconds", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || time.Duration(n)*time.Second > maxSessionInterval {
		return 0, fmt.Errorf("%s seconds is more than a day", s)
	}
	return time.Duration(n) * time.Second, nil
}

// timerOffer is what a request says about session timers.
type timerOffer struct {
	SE        *sessionExpires // nil: none asked for
	MinSE     time.Duration   // 0: no Min-SE
	Supported bool            // "timer" in Supported or Require
}

// readTimerOffer reads m's Session-Expires, Min-SE, Supported and Require.
func readTimerOffer(m sip.Message) (timerOffer, error) {
	var o timerOffer
	h := firstHeader(m, hdrSessionExpires)
	if h == nil {
		h = firstHeader(m, hdrSessionCompact)
	}
	if h != nil {
		se, err := parseSessionExpires(h.Value())
		if err != nil {
			return o, err
		}
		o.SE = &se
	}
	if h := firstHeader(m, hdrMinSE); h != nil {
		d, err := parseMinSE(h.Value())
		if err != nil {
			return o, err
		}
		o.MinSE = d
	}
	o.Supported = hasOption(m, "Supported", optionTimer) || hasOption(m, "Require", optionTimer) ||
		hasOption(m, "k", optionTimer)
	return o, nil
}

func firstHeader(m sip.Message, name string) sip.Header {
	if hs := m.GetHeaders(name); len(hs) > 0 {
		return hs[0]
	}
	return nil
}

// hasOption reports whether option tag opt is in any header called name.
func hasOption(m sip.Message, name, opt string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), opt) {
				return true
			}
		}
	}
	return false
}

// timerPolicy is call_server's session_expires and min_se.
type timerPolicy struct {
	Interval time.Duration
	MinSE    time.Duration
}

// uasTimer is RFC 4028 §9's decision on a request tandem answers (an
// INVITE, re-INVITE or UPDATE from a leg's peer).
type uasTimer struct {
	// Reject says to answer 422 with Min-SE: the interval asked for is
	// below policy.MinSE.
	Reject bool
	// Interval and WeRefresh are the leg's timer from the 2xx on.
	Interval  time.Duration
	WeRefresh bool
	// Header is the 2xx's Session-Expires ("" for none); Require says to
	// put "timer" in Require (the peer was made the refresher, §9).
	Header  string
	Require bool
}

// negotiateUAS applies RFC 4028 §9 to a request's offer.
//
//   - An interval below our Min-SE gets 422 (§8.1).
//   - The interval is the request's, lowered to ours, but never below
//     the request's Min-SE (nor ours); none asked for takes ours.
//   - The refresher is the request's; if it named none, the peer
//     refreshes when it supports timers (it then needs Require: timer),
//     tandem when it does not (Table 2 of §9).
//   - A peer that neither supports timers nor asked for one hears nothing
//     of them, but tandem still refreshes it as a liveness check.
func negotiateUAS(o timerOffer, p timerPolicy) uasTimer {
	if o.SE != nil && o.SE.Delta < p.MinSE {
		return uasTimer{Reject: true}
	}
	iv := p.Interval
	if o.SE != nil && o.SE.Delta < iv {
		iv = o.SE.Delta
	}
	iv = max(iv, o.MinSE, p.MinSE)
	if o.SE == nil && !o.Supported {
		return uasTimer{Interval: iv, WeRefresh: true}
	}
	ref := refresherUAS
	switch {
	case o.SE != nil && o.SE.Refresher != "":
		ref = o.SE.Refresher
	case o.Supported:
		ref = refresherUAC
	}
	if ref == refresherUAC && !o.Supported {
		// A peer that does not know timers cannot be asked to refresh
		// (a proxy inserted the header): tandem does.
		ref = refresherUAS
	}
	return uasTimer{
		Interval:  iv,
		WeRefresh: ref == refresherUAS,
		Header:    fmt.Sprintf("%d;refresher=%s", int(iv/time.Second), ref),
		Require:   ref == refresherUAC,
	}
}

// uacTimer is RFC 4028 §7.2's reading of a 2xx to a request tandem sent
// on a leg: the interval and who refreshes. Without Session-Expires the
// peer keeps no timer and tandem refreshes at its own interval.
func negotiateUAC(res timerOffer, p timerPolicy) (interval time.Duration, weRefresh bool) {
	if res.SE == nil {
		return p.Interval, true
	}
	iv := max(res.SE.Delta, res.MinSE)
	if iv <= 0 {
		iv = p.Interval
	}
	// §7.2: a 2xx without a refresher leaves it to the UAC (tandem).
	return iv, res.SE.Refresher != refresherUAS
}

// sessionState is one leg's session timer.
type sessionState struct {
	mu sync.Mutex // guards the fields below
	// interval is the negotiated session interval, 0 before the first.
	interval  time.Duration
	weRefresh bool
	// allowUpdate says the peer listed UPDATE in Allow: refresh with an
	// UPDATE without a body, which touches no media (RFC 4028 §9).
	allowUpdate bool
	// expires is when the session ends without a refresh; armed is when
	// the timer was last (re)started.
	expires, armed time.Time
	timer          *time.Timer
	// gen is bumped by each arm, so a timer that fired as it was re-armed
	// does nothing.
	gen     uint64
	stopped bool
}

func (s *Server) timerPolicy() timerPolicy {
	p := timerPolicy{Interval: s.cfg.SessionExpires.D(), MinSE: s.cfg.MinSE.D()}
	if p.MinSE <= 0 {
		p.MinSE = 90 * time.Second
	}
	if p.Interval < p.MinSE {
		p.Interval = max(p.MinSE, 30*time.Minute)
	}
	return p
}

// sessionTooSmall answers 422 (with our Min-SE) or 400 to a request whose
// session timer cannot be accepted, and reports whether it did.
func (s *Server) sessionTooSmall(req *sip.Request, tx sip.ServerTransaction) bool {
	o, err := readTimerOffer(req)
	if err != nil {
		s.reject(req, tx, 400, "Bad Request", sip.NewHeader("Warning", `399 tandem "`+strings.ReplaceAll(err.Error(), `"`, "'")+`"`))
		s.refusedInvite(req, sipedge.Origin{}, 400, event.RejectInvalid, err.Error()) // a new INVITE only
		return true
	}
	p := s.timerPolicy()
	if negotiateUAS(o, p).Reject {
		s.reject(req, tx, 422, "Session Interval Too Small", sip.NewHeader(hdrMinSE, strconv.Itoa(int(p.MinSE/time.Second))))
		return true
	}
	return false
}

// timerAnswer negotiates leg l's timer for req, a request from l's peer
// that tandem answers with res (a 2xx), adds the headers to res and arms
// the timer: each such 2xx is a refresh (RFC 4028 §9).
func (s *Server) timerAnswer(l *leg, req *sip.Request, res *sip.Response) {
	for _, h := range s.timerAnswerHeaders(l, req) {
		res.AppendHeader(h)
	}
}

// timerAnswerHeaders is timerAnswer for a response built elsewhere: it
// arms l's timer and returns the headers the 2xx must carry.
func (s *Server) timerAnswerHeaders(l *leg, req *sip.Request) []sip.Header {
	o, err := readTimerOffer(req)
	if err != nil {
		return nil // sessionTooSmall answered it already
	}
	d := negotiateUAS(o, s.timerPolicy())
	if d.Reject {
		return nil
	}
	hs := []sip.Header{sip.NewHeader("Supported", optionTimer)}
	if d.Header != "" {
		hs = append(hs, sip.NewHeader(hdrSessionExpires, d.Header))
	}
	if d.Require {
		hs = append(hs, sip.NewHeader("Require", optionTimer))
	}
	s.arm(l, d.Interval, d.WeRefresh, hasAllow(req, sip.UPDATE))
	return hs
}

// refreshUpdate answers an UPDATE without a body from leg l's peer: it
// changes no session, so it is a refresh of l's dialog alone (RFC 4028
// §9) and goes no further than tandem.
func (s *Server) refreshUpdate(l *leg, req *sip.Request, tx sip.ServerTransaction) {
	hs := append(s.timerAnswerHeaders(l, req), sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"))
	_ = s.respond(l, req, tx, 200, "OK", nil, "", hs...)
}

// timerRequest adds session timer headers to req, an INVITE or UPDATE
// tandem sends on leg l: a first INVITE offers our interval and lets the
// peer choose the refresher; later ones keep the leg's interval and
// refresher, since a re-INVITE without Session-Expires would turn the
// timer off (RFC 4028 §7.4).
func (s *Server) timerRequest(l *leg, req *sip.Request) {
	p := s.timerPolicy()
	req.AppendHeader(sip.NewHeader("Supported", optionTimer))
	st := &l.session
	st.mu.Lock()
	iv, we := st.interval, st.weRefresh
	st.mu.Unlock()
	v := strconv.Itoa(int(p.Interval / time.Second))
	if iv > 0 {
		ref := refresherUAS
		if we {
			ref = refresherUAC // tandem is this transaction's UAC
		}
		v = fmt.Sprintf("%d;refresher=%s", int(iv/time.Second), ref)
	}
	req.AppendHeader(sip.NewHeader(hdrSessionExpires, v))
	req.AppendHeader(sip.NewHeader(hdrMinSE, strconv.Itoa(int(p.MinSE/time.Second))))
}

// timerAgreed arms leg l's timer from res, a 2xx to an INVITE or UPDATE
// tandem sent on it.
func (s *Server) timerAgreed(l *leg, res *sip.Response) {
	o, err := readTimerOffer(res)
	if err != nil {
		l.call.log.Info("session timer: unreadable header in 2xx; refreshing at our interval", "leg", l.id, "error", err)
		o = timerOffer{}
	}
	iv, we := negotiateUAC(o, s.timerPolicy())
	s.arm(l, iv, we, hasAllow(res, sip.UPDATE))
}

// timerAgreedFor finds the leg of an in-dialog request tandem sent (by
// its Call-ID and tandem's From tag) and arms its timer from a 2xx.
func (s *Server) timerAgreedFor(req *sip.Request, res *sip.Response) {
	if !res.IsSuccess() || (req.Method != sip.INVITE && req.Method != sip.UPDATE) {
		return
	}
	tag, _ := req.From().Params.Get("tag")
	if v, ok := s.dialogs.Load(dialogKey(req.CallID().Value(), tag)); ok {
		s.timerAgreed(v.(*leg), res)
	}
}

func hasAllow(m sip.Message, method sip.RequestMethod) bool {
	return hasOption(m, "Allow", string(method))
}

// arm (re)starts leg l's session timer: a refresh at half the interval
// when tandem refreshes, else the expiry check at the interval less
// min(32 s, interval/3), the margin RFC 4028 §10 gives a late refresh.
func (s *Server) arm(l *leg, interval time.Duration, weRefresh, allowUpdate bool) {
	st := &l.session
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped || interval <= 0 {
		return
	}
	st.interval, st.weRefresh = interval, weRefresh
	st.allowUpdate = st.allowUpdate || allowUpdate
	st.armed = time.Now()
	st.expires = st.armed.Add(interval)
	st.gen++
	gen := st.gen
	after := interval - min(32*time.Second, interval/3)
	if weRefresh {
		after = interval / 2
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	st.timer = time.AfterFunc(after, func() { s.sessionDue(l, gen) })
}

// stopSession stops leg l's timer for good (the leg is released).
func (l *leg) stopSession() {
	st := &l.session
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopped = true
	if st.timer != nil {
		st.timer.Stop()
	}
}

// sessionDue runs when leg l's timer fires: refresh it, or end the call
// because the peer did not refresh.
func (s *Server) sessionDue(l *leg, gen uint64) {
	st := &l.session
	st.mu.Lock()
	if st.stopped || st.gen != gen {
		st.mu.Unlock()
		return
	}
	we, iv, armed := st.weRefresh, st.interval, st.armed
	st.mu.Unlock()
	c := l.call
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	if ended {
		l.stopSession()
		return
	}
	if v, ok := s.dialogs.Load(l.key()); !ok || v.(*leg) != l {
		// Not (or no longer) a dialog of the call: a leg still being
		// connected (a move's new leg waits at most 64*T1 for the
		// caller's answer), or one its peer hung up while the call goes
		// on. Look again shortly; past that wait it is not coming.
		if time.Since(armed) > 2*64*sip.T1 {
			l.stopSession()
			return
		}
		s.rearmSoon(l, gen, time.Second)
		return
	}
	if !we {
		c.lose(&GoneError{Leg: l.id, Side: c.sideOf(l), leg: l,
			Why: fmt.Sprintf("session expired: no refresh within %v (RFC 4028)", iv)}, event.OutcomeSessionExpired)
		return
	}
	go s.refresh(l, gen)
}

// rearmSoon fires leg l's timer again after d, keeping its generation.
func (s *Server) rearmSoon(l *leg, gen uint64, d time.Duration) {
	st := &l.session
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped || st.gen != gen {
		return
	}
	st.timer = time.AfterFunc(d, func() { s.sessionDue(l, gen) })
}

// refresh sends leg l a session refresh (RFC 4028 §7.4): an UPDATE
// without a body where the peer allows UPDATE, else a re-INVITE with the
// session description l already has (same o= version: no change, RFC 3264
// §8). A 2xx re-arms the timer; 422 raises the interval and tries again;
// 491 or another failure tries again shortly; 481, 408 or silence, or the
// session running out meanwhile, ends the call.
func (s *Server) refresh(l *leg, gen uint64) {
	c := l.call
	st := &l.session
	for attempt := 0; attempt < 100; attempt++ {
		st.mu.Lock()
		if st.stopped || st.gen != gen {
			st.mu.Unlock()
			return
		}
		useUpdate, expires, iv := st.allowUpdate, st.expires, st.interval
		st.mu.Unlock()
		if time.Now().After(expires) {
			c.lose(&GoneError{Leg: l.id, Side: c.sideOf(l), leg: l,
				Why: fmt.Sprintf("session expired: no successful refresh within %v (RFC 4028)", iv)}, event.OutcomeSessionExpired)
			return
		}
		body := l.lastSent()
		if !useUpdate && len(body) == 0 {
			// Nothing to re-offer and no UPDATE: nothing to refresh with.
			return
		}
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			return
		}
		busy := !useUpdate && c.pending
		if !useUpdate && !busy {
			c.pending = true // a re-INVITE is an offer: one at a time
		}
		c.mu.Unlock()
		if busy {
			// Another offer is running; its 2xx refreshes the leg too.
			if !s.waitOrEnd(c, time.Second) {
				return
			}
			continue
		}
		method := sip.INVITE
		if useUpdate {
			method = sip.UPDATE
		}
		req := s.inDialog(l, method)
		if method == sip.INVITE {
			withBody(req, body, "application/sdp")
		} else {
			withBody(req, nil, "")
		}
		res, err := s.ask(c.ctx, l, req)
		if method == sip.INVITE {
			if err == nil && res.IsSuccess() {
				s.sendAck(l, s.ackFor(l, req.CSeq().SeqNo, nil, ""))
			}
			c.clearPending()
		}
		var g *GoneError
		switch {
		case errors.As(err, &g):
			c.lose(g, event.OutcomeSessionExpired)
			return
		case err != nil:
			return // the call is ending
		case res.IsSuccess():
			// request() re-armed the timer from the 2xx.
			c.log.Debug("session refreshed", "leg", l.id, "method", method)
			return
		case res.StatusCode == 422:
			if h := res.GetHeader(hdrMinSE); h != nil {
				if d, err := parseMinSE(h.Value()); err == nil && d > iv {
					st.mu.Lock()
					st.interval = d
					st.mu.Unlock()
				}
			}
			continue
		case res.StatusCode == 405 || res.StatusCode == 501:
			if useUpdate {
				st.mu.Lock()
				st.allowUpdate = false
				st.mu.Unlock()
				continue
			}
		}
		c.log.Info("session refresh refused; trying again", "leg", l.id, "code", res.StatusCode)
		if !s.waitOrEnd(c, time.Second+time.Duration(attempt%3)*700*time.Millisecond) {
			return
		}
	}
}

// waitOrEnd waits d, or until the call ends (false).
func (s *Server) waitOrEnd(c *Call, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// refreshInvite answers a re-INVITE from leg l that offers again the
// session l already has (the same o= line, version included: RFC 3264 §8
// says nothing changed) without relaying it: it is a session refresh of
// l's dialog alone (RFC 4028 §7.4), and the other party - an agent's
// phone - need not be re-INVITEd every time a carrier refreshes. The
// answer is the one l already has. It reports whether it answered.
func (s *Server) refreshInvite(c *Call, l *leg, req *sip.Request, tx sip.ServerTransaction) bool {
	body := req.Body()
	if len(body) == 0 {
		return false
	}
	c.mu.Lock()
	var last []byte
	switch {
	case c.ended || c.pending || c.conf != nil || c.consult != nil:
	case l == c.in:
		last = c.nearSDP
	case l == c.out:
		last = c.farSDP
	}
	if last == nil || !sameOrigin(last, body) {
		c.mu.Unlock()
		return false
	}
	c.pending = true // one offer at a time, as for a relayed re-INVITE
	c.mu.Unlock()
	defer c.clearPending()
	answer := l.lastSent()
	if len(answer) == 0 {
		s.reject(req, tx, 500, "Server Internal Error")
		return true
	}
	ok := sip.NewResponseFromRequest(req, 200, "OK", nil)
	ok.AppendHeader(s.contact(l.transport))
	s.timerAnswer(l, req, ok)
	withBody(ok, answer, "application/sdp")
	if err := tx.Respond(ok); err != nil {
		c.log.Debug("session refresh 2xx failed", "leg", l.id, "error", err)
		return true
	}
	c.log.Debug("session refreshed by the peer", "leg", l.id)
	s.await2xxAck(c.ctx, l, tx, ok)
	return true
}

// sameOrigin reports whether two session descriptions have the same o=
// line (user, session id and version, address): the second offers no
// change (RFC 3264 §8).
func sameOrigin(a, b []byte) bool {
	oa, oka := originLine(a)
	ob, okb := originLine(b)
	return oka && okb && oa == ob
}

func originLine(body []byte) (string, bool) {
	for _, line := range strings.Split(string(body), "\n") {
		if o, ok := strings.CutPrefix(strings.TrimSpace(line), "o="); ok {
			return strings.Join(strings.Fields(o), " "), true
		}
	}
	return "", false
}
