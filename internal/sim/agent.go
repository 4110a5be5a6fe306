package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/mediaua"
	"github.com/tandem-cc/tandem/internal/router"
)

// ronaReason is the not-ready reason code the router gives an agent whose
// phone rang past ring-no-answer (UCCE's 32767).
const ronaReason = 32767

// AgentStats is what one simulated agent saw, from its phone and from its
// desktop (the CTI event socket). The two views are kept apart so that a
// test can check that they agree.
type AgentStats struct {
	ID string
	// PhoneRang counts INVITEs to the phone; PhoneAnswered lists the
	// global call ids (X-Tandem-Call-ID) of the calls it answered.
	PhoneRang     int
	PhoneAnswered []string
	// HungUp counts calls the agent ended (BYE from the phone).
	HungUp int
	// CTIOffered, CTIAnswered and CTIEnded list the call ids of the
	// desktop's call_offered, call_answered and call_ended events.
	CTIOffered, CTIAnswered, CTIEnded []string
	// RONA counts the times the router made the agent not ready for
	// ring-no-answer. WrapUps counts the wrap-ups the agent went into
	// (each call it talked on ends in one when the router has wrap_up),
	// WrapUpsEnded those it ended itself through CTI; the others were
	// ended by the router's wrap-up timer first.
	RONA, WrapUps, WrapUpsEnded int
	// Errors counts CTI requests refused or failed (logged).
	Errors int
}

// agent is one simulated agent: a SIP phone registered to tandem and a
// desktop logged in to the CTI API.
type agent struct {
	cfg  *Config
	id   string
	ext  string
	log  *slog.Logger
	ep   *endpoint
	dua  *sipgo.DialogUA
	reg  registration
	http *http.Client
	// token is set once at login, before the desk and phone run.
	token string
	live  *counters
	// media registers the phone's RTP addresses so that callers can tell
	// which agent they were moved to.
	media *mediaBook

	// mu guards stats, calls and desk state read by the phone handlers.
	mu    sync.Mutex
	stats AgentStats
	calls map[string]*phoneCall // by SIP Call-ID
	setup bool                  // an INVITE is being taken (the phone is busy)
	state string                // last agent_state seen on the desktop
	// changed is closed (and replaced) by the desk at every agent_state
	// event, so that finish can wait for a state without polling.
	changed chan struct{}
	// ctx ends the agent's work (calls are hung up); set before the phone
	// serves.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the desk, its socket reader and the re-registration
}

// phoneCall is one call on an agent's phone.
type phoneCall struct {
	id   string // tandem's global call id
	dlg  *sipgo.DialogServerSession
	sess *media.Session
	ack  chan []byte   // the SDP answer in the ACK of a late offer
	done chan struct{} // closed when the call ends, by end
	once sync.Once
}

func (c *phoneCall) end() { c.once.Do(func() { close(c.done) }) }

func newAgent(cfg *Config, id string, port int, live *counters, book *mediaBook) (*agent, error) {
	a := &agent{cfg: cfg, id: id, ext: id, log: cfg.Log.With("agent", id), live: live, media: book,
		http: &http.Client{Timeout: 10 * time.Second}, calls: map[string]*phoneCall{}, changed: make(chan struct{})}
	a.stats.ID = id
	a.ctx, a.cancel = context.WithCancel(context.Background())
	ep, err := newEndpoint(cfg.LocalIP, port, id, "tandem-sim-phone", a.log, func(srv *sipgo.Server) {
		srv.OnInvite(a.onInvite)
		srv.OnAck(a.onAck)
		srv.OnBye(a.onBye)
		srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
		srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
			// A CANCEL matching a ringing INVITE is answered by sipgo's
			// transaction layer; one that reaches here matches nothing.
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", id, err)
	}
	a.ep = ep
	a.dua = &sipgo.DialogUA{Client: ep.cli, ContactHDR: ep.contact}
	return a, nil
}

// start registers the phone, logs the agent in and makes it ready.
func (a *agent) start(ctx context.Context) error {
	var err error
	a.reg, err = newRegistration(a.ep, a.cfg.Target, a.ext, password(a.cfg.SIPPassword, a.id))
	if err != nil {
		return fmt.Errorf("agent %s: %w", a.id, err)
	}
	if err := a.reg.register(ctx, time.Hour); err != nil {
		return fmt.Errorf("agent %s: phone: %w", a.id, err)
	}
	var lr cti.LoginResponse
	if err := a.call(ctx, "POST", "/v1/login", cti.LoginRequest{ID: router.AgentID(a.id), Password: password(a.cfg.AgentPassword, a.id), Extension: a.ext}, &lr); err != nil {
		return fmt.Errorf("agent %s: CTI login: %w", a.id, err)
	}
	a.token = lr.Token
	events, err := a.subscribe(ctx)
	if err != nil {
		return fmt.Errorf("agent %s: %w", a.id, err)
	}
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.reg.refresh(a.ctx, a.log) }()
	go func() { defer a.wg.Done(); a.desk(events) }()
	if err := a.setState(ctx, "ready", 0); err != nil {
		return fmt.Errorf("agent %s: ready: %w", a.id, err)
	}
	a.log.Info("sim: agent ready", "phone", a.ep.addr)
	return nil
}

// subscribe opens the desktop's event socket and waits for the agent's
// state snapshot, after which no event can be missed.
func (a *agent) subscribe(ctx context.Context) (<-chan cti.Event, error) {
	u, err := url.Parse(a.cfg.CTI)
	if err != nil {
		return nil, err
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/events"
	u.RawQuery = url.Values{"token": {a.token}}.Encode()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("CTI events socket: %w", err)
	}
	var first cti.Event
	if err := wsjson.Read(dctx, c, &first); err != nil || first.Type != cti.EventAgentState {
		c.CloseNow()
		return nil, fmt.Errorf("CTI events socket: no state snapshot (got %q): %v", first.Type, err)
	}
	a.mu.Lock()
	a.state = first.State
	a.mu.Unlock()
	// The reader owns the socket; it ends when the agent stops (or the
	// server closes the socket), closing events.
	events := make(chan cti.Event, 64)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(events)
		defer c.CloseNow()
		for {
			var ev cti.Event
			if err := wsjson.Read(a.ctx, c, &ev); err != nil {
				if a.ctx.Err() == nil {
					a.log.Warn("sim: CTI events socket closed", "error", err)
				}
				return
			}
			select {
			case events <- ev:
			case <-a.ctx.Done():
				return
			}
		}
	}()
	return events, nil
}

// desk is the agent at its desktop: it follows the events and, like a
// person, ends wrap-up after a while and goes ready again some time after
// ring-no-answer made it not ready. It is the only goroutine that acts on
// the agent's state.
func (a *agent) desk(events <-chan cti.Event) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var then func()
	schedule := func(d time.Duration, f func()) {
		timer.Stop()
		timer.Reset(d)
		then = f
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				timer.Stop()
				return
			}
			a.mu.Lock()
			switch ev.Type {
			case cti.EventAgentState:
				if isWrapUp(ev.State) && !isWrapUp(a.state) {
					a.stats.WrapUps++
				}
				a.state = ev.State
				close(a.changed)
				a.changed = make(chan struct{})
				if ev.State == "not_ready" && ev.Reason == ronaReason {
					a.stats.RONA++
				}
			case cti.EventCallOffered:
				a.stats.CTIOffered = append(a.stats.CTIOffered, string(ev.Call))
			case cti.EventCallAnswered:
				a.stats.CTIAnswered = append(a.stats.CTIAnswered, string(ev.Call))
			case cti.EventCallEnded:
				a.stats.CTIEnded = append(a.stats.CTIEnded, string(ev.Call))
			}
			a.mu.Unlock()
			if ev.Type != cti.EventAgentState {
				continue
			}
			switch {
			case ev.State == "not_ready" && ev.Reason == ronaReason:
				a.log.Info("sim: ring-no-answer made the agent not ready")
				schedule(a.cfg.RONAPause, func() { a.stateIf("not_ready", "ready", 0) })
			case ev.State == "work_ready" && a.cfg.WrapUp > 0:
				schedule(a.cfg.WrapUp, func() {
					if a.stateIf("work_ready", "ready", a.cfg.WrapUpReason) {
						a.mu.Lock()
						a.stats.WrapUpsEnded++
						a.mu.Unlock()
					}
				})
			default:
				timer.Stop()
				then = nil
			}
		case <-timer.C:
			if then != nil {
				then()
				then = nil
			}
		case <-a.ctx.Done():
			timer.Stop()
			return
		}
	}
}

func isWrapUp(state string) bool { return state == "work_ready" || state == "work_not_ready" }

// finishWork waits, at most until deadline, for the agent to leave the
// wrap-up of its last call, as a person finishes the work of a call before
// going home: a run whose calls have all ended stops its agents only then,
// so the wrap-up of the last call is done (by the agent, or the router's
// timer) rather than cut short and missing from the counts.
func (a *agent) finishWork(deadline time.Time) {
	for {
		a.mu.Lock()
		state, changed := a.state, a.changed
		busy := len(a.calls) > 0 || a.setup
		a.mu.Unlock()
		if !isWrapUp(state) && !busy {
			return
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			a.log.Info("sim: agent still busy at the end of the run", "state", state, "on_phone", busy)
			return
		}
		t := time.NewTimer(min(wait, 100*time.Millisecond)) // the phone's calls end without a state event
		select {
		case <-changed:
		case <-t.C:
		case <-a.ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

// stateIf asks for state to if the agent is still in from (the router's
// own timer may have moved it meanwhile). A refused wrap-up reason is
// retried without one, since the code is the deployment's.
func (a *agent) stateIf(from, to string, reason int) bool {
	a.mu.Lock()
	cur := a.state
	a.mu.Unlock()
	if cur != from {
		return false
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	err := a.setState(ctx, to, reason)
	var se *statusError
	if err != nil && reason != 0 && errors.As(err, &se) && se.code == http.StatusBadRequest {
		a.log.Info("sim: wrap-up reason refused; ending wrap-up without one", "reason", reason, "error", err)
		err = a.setState(ctx, to, 0)
	}
	if err != nil {
		a.mu.Lock()
		a.stats.Errors++
		a.mu.Unlock()
		a.log.Info("sim: state change refused", "from", from, "to", to, "error", err)
		return false
	}
	return true
}

func (a *agent) setState(ctx context.Context, state string, reason int) error {
	return a.call(ctx, "POST", "/v1/agents/"+url.PathEscape(a.id)+"/state", cti.StateRequest{State: state, Reason: reason}, nil)
}

// statusError is a CTI request answered with an error status.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// call makes one CTI request with the agent's token, decoding a 2xx JSON
// answer into out.
func (a *agent) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.cfg.CTI, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %w", method, path, &statusError{res.StatusCode, strings.TrimSpace(string(b))})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: answer: %w", method, path, err)
		}
	}
	return nil
}

// ---- the phone ----

func (a *agent) lookup(req *sip.Request) *phoneCall {
	if req.CallID() == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[req.CallID().Value()]
}

// onInvite rings the phone: 180, then after the answer delay 200 with our
// SDP offer (tandem's INVITE to an agent carries none: RFC 3725 flow I),
// whose answer comes in the ACK. A CANCEL while ringing (ring-no-answer,
// or the caller gave up) ends the transaction and the call with it.
func (a *agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		a.onReinvite(req, tx)
		return
	}
	// One call at a time, as a person: the slot is taken here, before
	// the call is built, so two INVITEs at once cannot both ring.
	a.mu.Lock()
	a.stats.PhoneRang++
	busy := a.setup || a.ctx.Err() != nil
	for _, c := range a.calls {
		// A call whose dialog is over (cancelled: sipgo has answered
		// 487 already; or hung up) no longer takes the line, even if
		// its handler has not cleaned up yet.
		busy = busy || c.dlg.Context().Err() == nil
	}
	a.setup = !busy
	a.mu.Unlock()
	if busy {
		res := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
		res.To().Params.Add("tag", sip.GenerateTagN(10))
		_ = tx.Respond(res)
		return
	}
	id := req.CallID().Value()
	if h := req.GetHeader(event.CallIDHeader); h != nil {
		id = h.Value()
	}
	log := a.log.With("call", id)
	freeSlot := func() {
		a.mu.Lock()
		a.setup = false
		a.mu.Unlock()
	}
	sess, err := media.NewSession(media.SessionConfig{LocalIP: a.cfg.LocalIP, Logger: log})
	if err != nil {
		freeSlot()
		log.Warn("sim: phone media", "error", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	dlg, err := a.dua.ReadInvite(req, tx)
	if err != nil {
		freeSlot()
		sess.Close()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	// Published whole under the lock, so the ACK and BYE handlers see it
	// complete.
	c := &phoneCall{id: id, dlg: dlg, sess: sess, ack: make(chan []byte, 1), done: make(chan struct{})}
	a.mu.Lock()
	a.calls[req.CallID().Value()] = c
	a.setup = false
	a.mu.Unlock()
	finish := func(why string) {
		c.end()
		sess.Close()
		a.media.forget(sess.LocalAddr())
		a.mu.Lock()
		delete(a.calls, req.CallID().Value())
		a.mu.Unlock()
		_ = dlg.Close()
		log.Debug("sim: phone call over", "why", why)
	}
	if err := dlg.Respond(180, "Ringing", nil); err != nil {
		finish("ringing: " + err.Error())
		return
	}
	select {
	case <-time.After(a.cfg.AnswerDelay):
	case <-dlg.Context().Done():
		finish("cancelled while ringing")
		return
	case <-a.ctx.Done():
		_ = dlg.Respond(480, "Temporarily Unavailable", nil)
		finish("agent stopping")
		return
	}
	late := len(req.Body()) == 0
	var sdpOut []byte
	if late {
		sdpOut, err = sess.Offer(media.SendRecv)
	} else {
		sdpOut, err = sess.Answer(req.Body())
	}
	if err != nil {
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		finish("SDP: " + err.Error())
		return
	}
	// Known before the caller gets this offer in its re-INVITE.
	a.media.note(sess.LocalAddr(), a.id)
	res := sip.NewResponseFromRequest(dlg.InviteRequest, 200, "OK", sdpOut)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := dlg.WriteResponse(res); err != nil {
		finish("not confirmed: " + err.Error())
		return
	}
	if late {
		select {
		case answer := <-c.ack:
			if err := sess.SetAnswer(answer); err != nil {
				log.Info("sim: bad SDP answer in ACK", "error", err)
				a.bye(c)
				finish("bad SDP answer")
				return
			}
		case <-time.After(64 * sip.T1):
			a.bye(c)
			finish("no SDP answer")
			return
		}
	}
	sess.Start(a.ctx)
	a.mu.Lock()
	a.stats.PhoneAnswered = append(a.stats.PhoneAnswered, id)
	a.mu.Unlock()
	log.Debug("sim: agent talking")
	// Talk until the agent is done or the caller hangs up.
	talk := a.cfg.AgentTalk
	var hangUp <-chan time.Time
	if !talk.IsZero() {
		t := time.NewTimer(talk.draw())
		defer t.Stop()
		hangUp = t.C
	}
	select {
	case <-hangUp:
		a.bye(c)
		a.mu.Lock()
		a.stats.HungUp++
		a.mu.Unlock()
		finish("agent hung up")
	case <-c.done:
		finish("caller hung up")
	case <-a.ctx.Done():
		a.bye(c)
		finish("agent stopping")
	}
}

// bye hangs up c (bounded).
func (a *agent) bye(c *phoneCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.dlg.Bye(ctx); err != nil {
		a.log.Debug("sim: phone BYE", "call", c.id, "error", err)
	}
}

// onReinvite answers a new offer in a call (hold and retrieve).
func (a *agent) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := a.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	res, _ := mediaua.Reanswer(req, c.sess, &a.ep.contact)
	_ = tx.Respond(res)
}

func (a *agent) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := a.lookup(req)
	if c == nil {
		return
	}
	if len(req.Body()) > 0 {
		select {
		case c.ack <- req.Body():
		default:
		}
	}
	_ = c.dlg.ReadAck(req, tx)
}

func (a *agent) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := a.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = c.dlg.ReadBye(req, tx)
	c.end()
}

// stop hangs up the agent's call, logs it out (through not ready, as the
// router wants), revokes its token and unregisters its phone. Each step is
// bounded; failures are logged, not returned: stopping goes on.
func (a *agent) stop() {
	a.cancel() // hangs up calls and stops the desk and the socket reader
	waited := make(chan struct{})
	go func() { a.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		a.log.Warn("sim: agent's desk did not stop in 10s")
	}
	// The phone's handlers finish their calls on their own goroutines
	// (BYE is bounded at 5 s); wait for them, bounded.
	for deadline := time.Now().Add(10 * time.Second); ; {
		a.mu.Lock()
		n := len(a.calls)
		if a.setup {
			n++
		}
		a.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			a.log.Warn("sim: agent's calls did not end in 10s")
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a.token != "" {
		var v cti.AgentView
		if err := a.call(ctx, "GET", "/v1/agents/"+url.PathEscape(a.id), nil, &v); err == nil {
			// A call that just ended leaves the agent in wrap-up or
			// talking for an instant; not ready is honoured from each.
			if v.State != "not_ready" && v.State != "logged_out" {
				if err := a.setState(ctx, "not_ready", 0); err != nil {
					a.log.Info("sim: not ready before logout", "error", err)
				}
			}
			if v.State != "logged_out" {
				a.logout(ctx)
			}
		}
		if err := a.call(ctx, "DELETE", "/v1/session", nil, nil); err != nil {
			a.log.Debug("sim: revoke token", "error", err)
		}
	}
	if a.reg.cli != nil {
		if err := a.reg.register(ctx, 0); err != nil {
			a.log.Info("sim: unregister", "error", err)
		}
	}
	a.ep.close()
}

// logout logs the agent out; a not ready asked during a call is honoured
// only once the call ends, so it tries a few times (bounded).
func (a *agent) logout(ctx context.Context) {
	var err error
	for range 20 {
		if err = a.setState(ctx, "logout", 0); err == nil {
			return
		}
		var se *statusError
		if !errors.As(err, &se) || se.code != http.StatusConflict {
			break
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		_ = a.setState(ctx, "not_ready", 0)
	}
	a.log.Info("sim: logout", "error", err)
}

// snapshot copies the agent's stats.
func (a *agent) snapshot() AgentStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.PhoneAnswered = append([]string(nil), s.PhoneAnswered...)
	s.CTIOffered = append([]string(nil), s.CTIOffered...)
	s.CTIAnswered = append([]string(nil), s.CTIAnswered...)
	s.CTIEnded = append([]string(nil), s.CTIEnded...)
	return s
}

// ---- registration ----

// registration is a phone's binding at tandem's registrar (RFC 3261 §10),
// with digest authentication.
type registration struct {
	cli      *sipgo.Client
	contact  sip.ContactHeader
	aor      sip.Uri
	registar sip.Uri
	user     string
	pass     string
	callID   string
	mu       sync.Mutex
	cseq     uint32
	granted  time.Duration
}

func newRegistration(ep *endpoint, target, user, pass string) (registration, error) {
	reg, err := targetURI("", target)
	if err != nil {
		return registration{}, err
	}
	aor := reg
	aor.User, aor.Port = user, 0
	return registration{cli: ep.cli, contact: ep.contact, aor: aor, registar: reg, user: user, pass: pass,
		callID: sip.GenerateTagN(16) + "@tandem-sim"}, nil
}

// register binds the contact for expires (0 removes it).
func (r *registration) register(ctx context.Context, expires time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	req := sip.NewRequest(sip.REGISTER, r.registar)
	from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: r.aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(sip.HeaderClone(&r.contact))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	res, err := do(ctx, r.cli, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		res, err = r.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.user, Password: r.pass})
		r.cseq = req.CSeq().SeqNo
	}
	if err != nil {
		return fmt.Errorf("REGISTER %s: %w", r.aor.String(), err)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("REGISTER %s: %d %s", r.aor.String(), res.StatusCode, res.Reason)
	}
	r.granted = expires
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			r.granted = time.Duration(n) * time.Second
		}
	}
	for _, h := range res.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && c.Address.Host == r.contact.Address.Host && c.Address.Port == r.contact.Address.Port {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil {
					r.granted = time.Duration(n) * time.Second
				}
			}
		}
	}
	return nil
}

// refresh re-registers at half the granted time until ctx ends.
func (r *registration) refresh(ctx context.Context, log *slog.Logger) {
	for {
		r.mu.Lock()
		every := max(r.granted/2, time.Second)
		r.mu.Unlock()
		select {
		case <-time.After(every):
		case <-ctx.Done():
			return
		}
		if err := r.register(ctx, time.Hour); err != nil && ctx.Err() == nil {
			log.Warn("sim: phone re-registration", "error", err)
		}
	}
}
