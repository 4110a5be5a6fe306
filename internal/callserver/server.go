package callserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Edge is what the call server needs of the SIP edge.
type Edge interface {
	Client() *sipgo.Client
	Resolve(label string) ([]sipedge.Target, error)
	Report(t sipedge.Target, ok bool)
	Local(transport string) (host string, port int)
	LocalUDP() *net.UDPAddr
}

// Deps are the call server's collaborators.
type Deps struct {
	Edge   Edge
	Router Router
	// Tracker, if set, hears what became of every instruction (the
	// router's contract.Tracker); nil for a router that does not follow
	// calls (the static table).
	Tracker  Tracker
	Events   event.Sink
	Log      *slog.Logger
	Registry prometheus.Registerer // may be nil
}

// Server is the B2BUA.
type Server struct {
	cfg    Config
	edge   Edge
	router Router
	// tracker is Deps.Tracker: nil when the router does not follow calls.
	tracker Tracker
	events  event.Sink
	log     *slog.Logger

	// dialogs maps dialogKey → *leg for routing in-dialog requests.
	dialogs sync.Map
	// calls maps event.CallID → *Call.
	calls    sync.Map
	active   atomic.Int64
	draining atomic.Bool
	wg       sync.WaitGroup // one per live call

	mActive prometheus.GaugeFunc
	mCalls  *prometheus.CounterVec
}

// New makes a call server.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Edge == nil || deps.Router == nil {
		return nil, errors.New("callserver: New needs an edge and a router")
	}
	s := &Server{cfg: cfg, edge: deps.Edge, router: deps.Router, tracker: deps.Tracker, events: deps.Events, log: deps.Log}
	if s.events == nil {
		s.events = event.Discard{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("role", "callserver")
	s.mActive = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_calls_active", Help: "Calls in progress."}, func() float64 { return float64(s.active.Load()) })
	s.mCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_calls_total", Help: "Calls ended, by outcome."}, []string{"outcome"})
	if deps.Registry != nil {
		for _, c := range []prometheus.Collector{s.mActive, s.mCalls} {
			if err := deps.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("callserver: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Active returns the number of calls in progress.
func (s *Server) Active() int { return int(s.active.Load()) }

// Run waits for ctx to end, then drains: new calls get 503, calls in
// progress get DrainTimeout to finish, and the rest are released with BYE.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	s.draining.Store(true)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	if n := s.active.Load(); n > 0 {
		s.log.Info("draining", "calls", n, "timeout", s.cfg.DrainTimeout.D())
	}
	select {
	case <-done:
		return nil
	case <-time.After(s.cfg.DrainTimeout.D()):
	}
	s.calls.Range(func(_, v any) bool {
		v.(*Call).hangup("drain timeout")
		return true
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("calls still open after forced release", "calls", s.active.Load())
	}
	return nil
}

// Call is one caller's call: the inbound leg and the leg it is connected to.
type Call struct {
	id  event.CallID
	srv *Server
	log *slog.Logger
	// ctx ends with the call; setup and moves watch it.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex // guards the fields below
	in *leg
	// out is the answered outbound leg the caller is connected to.
	out *leg
	// pending is set while an INVITE transaction (re-INVITE, move) runs.
	pending bool
	// instr carries instructions the router sends by itself (Instruct) to
	// the goroutine that waits for them: setup while queued.
	answered bool
	ended    bool
	instr    chan Instruction
	// farSDP is the session description the caller has of the party it is
	// connected to, nearSDP the one that party has of the caller; hold and
	// retrieve re-offer them with a new direction.
	farSDP, nearSDP []byte
	held            bool
	// consult is the agent's consult call's leg while there is one (the
	// caller is held; out is the agent); see consult.go.
	consult *leg
	// conf is the call's conference once there is one (conference.go).
	conf *conf
	// bridged is the target of a bridged transfer the VRU asked for, the
	// caller's party while the VRU's leg (out) is parked; bridge is its
	// state (transfer.go). leaving are referrers that left the call after
	// a transfer and may still hang up on their own (letGo).
	bridged *leg
	bridge  *bridgeState
	leaving []*leg
	// dialFrom is the From user of the legs a callback dials (callback.go).
	dialFrom string
	// origin is who the edge admitted the caller's INVITE as: the legs
	// dialed for it carry the identity it may assert (identity.go).
	origin sipedge.Origin
	// ringAgent is the agent whose phone the call's current offer rings:
	// set by setup and redirect around the connect or move of an offer to
	// an agent, read by dial (see Tracker.OfferReleased).
	ringAgent string
	// phoneHeld says the agent's phone holds the call (its last accepted
	// offer was sendonly or inactive); see Tracker.PhoneHold.
	phoneHeld bool
	// moving is set while a move runs; outGone says the leg being moved
	// from hung up meanwhile (a VRU whose script ended as the agent
	// answered): the move goes on, and the caller is released only if it
	// fails.
	moving, outGone bool
	// clearedBy is set when an administrator clears the call before it
	// was answered (clear.go): the setup ends with it instead of as an
	// abandon.
	clearedBy string
}

// ID returns the call's global id.
func (c *Call) ID() event.CallID { return c.id }

func (s *Server) emit(e event.Event) {
	e.Time = time.Now()
	s.events.Emit(e)
}

// HandleInvite implements sipedge.CallHandler: it runs the call's setup on
// the INVITE's goroutine and returns once the caller has a final response.
func (s *Server) HandleInvite(req *sip.Request, tx sip.ServerTransaction, from sipedge.Origin) {
	// Each refusal below is a call.rejected (rejected.go), 422 aside.
	if s.draining.Load() {
		s.refuse(req, tx, from, 503, "Service Unavailable", event.RejectDraining, "the call server is stopping", s.retryAfter())
		return
	}
	if code, reason := s.hopCheck(req); code != 0 {
		s.refuse(req, tx, from, code, reason, event.RejectLoop, reason)
		return
	}
	if s.sessionTooSmall(req, tx) {
		return // 422 with our Min-SE (RFC 4028 §8.1), or 400
	}
	if n := s.active.Add(1); n > int64(s.cfg.MaxCalls) {
		s.active.Add(-1)
		s.refuse(req, tx, from, 503, "Service Unavailable", event.RejectMaxCalls, "call_server.max_calls "+strconv.Itoa(s.cfg.MaxCalls)+" calls in progress", s.retryAfter())
		return
	}
	s.wg.Add(1)
	id := event.NewCallID(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	c := &Call{id: id, srv: s, ctx: ctx, cancel: cancel, log: s.log.With("call", string(id)), instr: make(chan Instruction, 4), origin: from}
	c.in = newInboundLeg(c, req, tx)
	s.calls.Store(id, c)
	// The dialog is known before the 2xx goes out, so the ACK finds it.
	s.dialogs.Store(c.in.key(), c.in)

	// Tell the caller at once that the call is in hand (RFC 3261 §8.2.6.1),
	// so it stops retransmitting while routing runs.
	_ = s.respond(nil, req, tx, 100, "Trying", nil, "")

	// A CANCEL ends setup; sipgo has already answered 200 to it and 487 to
	// the INVITE.
	if !tx.OnCancel(func(*sip.Request) { cancel() }) {
		cancel() // the CANCEL came before we could listen for it
	}

	dnis := req.Recipient.User
	// An authenticated endpoint's ANI is who it proved to be, not what its
	// From says (identity.go).
	ani, _ := callerFrom(req, from)
	c.log.Info("new call", "dnis", dnis, "ani", ani, "from", req.Source(), "trunk", from.Trunk, "user", from.User, "sip_call_id", c.in.sipCallID)
	s.emit(event.Event{Kind: event.CallNew, Call: id, Leg: c.in.id, Peer: req.Source(), Reason: "dnis=" + dnis + " ani=" + ani})

	ins, err := s.router.Route(ctx, RouteRequest{
		Call: id, DNIS: dnis, ANI: ani, SIPCallID: c.in.sipCallID,
		Headers: s.routeHeaders(req, from), Trunk: from.Trunk, User: from.User,
	})
	if err != nil {
		c.log.Error("route request failed", "error", err)
		c.fail(500, "Routing Failed", event.OutcomeFailed)
		return
	}
	c.setup(ins)
}

// setup follows the router's instructions until the caller is connected,
// refused or gone. It runs on the INVITE's goroutine.
func (c *Call) setup(ins Instruction) {
	s := c.srv
	tracker := s.tracker
	ringing := false
	for {
		switch {
		case ins.RejectCode != 0:
			reason := ins.RejectReason
			if reason == "" {
				reason = reasonPhrase(ins.RejectCode)
			}
			s.emit(event.Event{Kind: event.CallRouted, Call: c.id, Code: ins.RejectCode, Reason: reason})
			c.fail(ins.RejectCode, reason, event.OutcomeRejected)
			return
		case ins.Queued || len(ins.Labels) == 0:
			s.emit(event.Event{Kind: event.CallRouted, Call: c.id, Reason: "queued"})
			if !ringing {
				// The caller hears ringback while it waits for an agent.
				_ = s.respond(c.in, c.in.invite, c.in.inviteTx, 180, "Ringing", nil, "")
				ringing = true
			}
			select {
			case ins = <-c.instr:
			case <-c.ctx.Done():
				c.abandon()
				return
			}
			continue
		}
		s.emit(event.Event{Kind: event.CallRouted, Call: c.id, Reason: "labels=" + strings.Join(ins.Labels, ",") + agentNote(ins.Agent)})
		c.setRingAgent(ins.Agent)
		code, reason, done := c.connect(ins.Labels, c.ringFor(ins))
		c.setRingAgent("")
		if done {
			if c.answered && tracker != nil {
				tracker.Answered(c.ctx, c.id)
			}
			return
		}
		if tracker != nil {
			next, err := tracker.Requery(c.ctx, c.id, failureOf(code))
			if err == nil {
				ins = next
				continue
			}
			c.log.Info("requery refused", "error", err)
		}
		c.fail(code, reason, event.OutcomeFailed)
		return
	}
}

// ringFor is how long an instruction's labels may ring: ring_timeout, or
// less when the router needs the answer sooner.
func (c *Call) ringFor(ins Instruction) time.Duration {
	d := c.srv.cfg.RingTimeout.D()
	if ins.RingFor > 0 && ins.RingFor < d {
		d = ins.RingFor
	}
	return d
}

// setRingAgent notes the agent the next dial offers the call to ("" for
// none).
func (c *Call) setRingAgent(agent event.AgentID) {
	c.mu.Lock()
	c.ringAgent = string(agent)
	c.mu.Unlock()
}

func agentNote(a event.AgentID) string {
	if a == "" {
		return ""
	}
	return " agent=" + string(a)
}

// Instruct hands a call an instruction the router made by itself: an offer
// to an agent who became ready, the script going on, a release. A call
// still in setup takes it from its queue wait; an answered call is moved to
// the new labels (RFC 3725) or released.
func (s *Server) Instruct(id event.CallID, ins Instruction) error {
	v, ok := s.calls.Load(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoCall, id)
	}
	c := v.(*Call)
	c.mu.Lock()
	answered, ended := c.answered, c.ended
	c.mu.Unlock()
	switch {
	case ended:
		return ErrNotReady
	case !answered:
		select {
		case c.instr <- ins:
			return nil
		default:
			return fmt.Errorf("callserver: instruct %s: too many instructions pending", id)
		}
	}
	go c.redirect(ins)
	return nil
}

// redirect follows instructions for an answered call: move the caller to
// the labels, or release it; a failed move goes back to the router.
func (c *Call) redirect(ins Instruction) {
	s := c.srv
	tracker := s.tracker
	for attempt := 0; attempt < 100 && c.ctx.Err() == nil; attempt++ {
		switch {
		case ins.RejectCode != 0:
			c.hangup(fmt.Sprintf("released by router (%d)", ins.RejectCode))
			return
		case ins.Queued || len(ins.Labels) == 0:
			return // the caller stays where it is
		}
		var err error
		c.setRingAgent(ins.Agent)
		for _, label := range ins.Labels {
			if err = s.move(c.ctx, c.id, label, c.ringFor(ins)); err == nil {
				break
			}
			c.log.Info("move failed", "label", label, "error", err)
			if errors.Is(err, ErrDialogGone) {
				break
			}
		}
		c.setRingAgent("")
		if err != nil && c.ctx.Err() != nil {
			// The caller hung up while the agent's phone rang: the call
			// has ended and the router heard it; the offer's failure is
			// no ring-no-answer.
			return
		}
		if err == nil {
			if tracker != nil {
				tracker.Answered(c.ctx, c.id)
			}
			return
		}
		if errors.Is(err, ErrDialogGone) || errors.Is(err, ErrNotReady) {
			// The caller is gone and the call has been ended (the router
			// heard it): there is nothing to requery.
			return
		}
		if errors.Is(err, ErrBusy) {
			// Another offer is in progress on this call (a re-INVITE);
			// it ends within 64*T1, so try again shortly.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-c.ctx.Done():
			}
			continue
		}
		if tracker == nil {
			return
		}
		next, rerr := tracker.Requery(c.ctx, c.id, failureOf(480))
		if rerr != nil {
			c.log.Info("requery refused", "error", rerr)
			return
		}
		ins = next
	}
}

func (s *Server) retryAfter() sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter.D().Seconds())))
}

func (s *Server) reject(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	if err := s.respond(nil, req, tx, code, reason, nil, "", hdrs...); err != nil {
		s.log.Debug("reject failed", "code", code, "error", err)
	}
}

// passHeaders travel from the caller's INVITE to outbound legs: caller
// identity (from a trunk only, identity.go), privacy, diversion and the
// user-to-user data CVP carries.
var passHeaders = []string{"P-Asserted-Identity", "Privacy", "Diversion", "History-Info", "User-to-User", "Call-Info", "Alert-Info", "Subject"}

// routeHeaders are the headers the router sees: those that pass, with the
// identity tandem asserts for an authenticated caller.
func (s *Server) routeHeaders(req *sip.Request, from sipedge.Origin) map[string]string {
	m := map[string]string{}
	for _, name := range append([]string{"From", "To"}, passHeaders...) {
		if h := req.GetHeader(name); h != nil && passIdentity(name, from) {
			m[name] = h.Value()
		}
	}
	if from.User != "" {
		host, _ := s.edge.Local(strings.ToLower(req.Transport()))
		m["P-Asserted-Identity"] = assertedIdentity(from.User, host).Value()
	}
	return m
}

// connect tries labels in order until one answers, relaying provisional
// responses to the caller. It runs on the INVITE's goroutine. done means the
// call needs nothing more: answered, abandoned or failed for good (6xx);
// otherwise code and reason are the failure to report.
func (c *Call) connect(labels []string, ringFor time.Duration) (code int, reason string, done bool) {
	s := c.srv
	lastCode, lastReason := 0, ""
	body, ct := c.in.invite.Body(), contentType(c.in.invite)
	for _, label := range labels {
		targets, err := s.edge.Resolve(label)
		if err != nil {
			c.log.Info("label not reachable", "label", label, "error", err)
			code, reason := 404, "Not Found"
			switch {
			case errors.Is(err, sipedge.ErrNotRegistered):
				code, reason = 480, "Temporarily Unavailable"
			case errors.Is(err, sipedge.ErrAllDown):
				code, reason = 503, "Service Unavailable"
			}
			if lastCode == 0 || code != 404 {
				lastCode, lastReason = code, reason
			}
			continue
		}
		for _, t := range targets {
			if c.ctx.Err() != nil {
				c.abandon()
				return 0, "", true
			}
			out, res, err := c.dial(c.ctx, t, body, ct, true, ringFor)
			if c.ctx.Err() != nil && out == nil {
				c.abandon()
				return 0, "", true
			}
			if err == nil && res.IsSuccess() {
				s.edge.Report(t, true)
				c.answer(out, res)
				return 0, "", true
			}
			code, reason := 480, "Temporarily Unavailable"
			switch {
			case err != nil && errors.Is(err, errRingTimeout):
				code, reason = 480, "No Answer"
			case err != nil:
				// A timeout or transport error: the destination is not there.
				s.edge.Report(t, false)
				code, reason = 408, "Request Timeout"
			default:
				code, reason = res.StatusCode, res.Reason
				if code == 503 || code == 408 {
					s.edge.Report(t, false)
				} else {
					s.edge.Report(t, true)
				}
			}
			lastCode, lastReason = code, reason
			if code >= 600 {
				// A global failure: nobody else will take the call either
				// (RFC 3261 §21.6).
				c.fail(code, reason, event.OutcomeFailed)
				return code, reason, true
			}
			if t.Group != "" && code != 503 && code != 408 {
				// The destination answered for the label: other members of
				// the group would say the same, so go to the next label.
				break
			}
		}
	}
	if lastCode == 0 {
		lastCode, lastReason = 404, "Not Found"
	}
	if lastCode == 503 || lastCode == 408 {
		// Do not hand the caller a code that makes it retry the same place
		// blindly; tell it nobody was reachable.
		lastCode, lastReason = 480, "Temporarily Unavailable"
	}
	return lastCode, lastReason, false
}

var errRingTimeout = errors.New("ring timeout")

// dial sends an INVITE for target with body (nil for a late offer) and waits
// for its final response. With relay, provisional responses go on to the
// caller. ctx ending or ringFor passing cancels the INVITE. On a 2xx it
// returns the established leg; the 2xx is not ACKed yet.
func (c *Call) dial(ctx context.Context, t sipedge.Target, body []byte, ct string, relay bool, ringFor time.Duration) (*leg, *sip.Response, error) {
	s := c.srv
	transport := strings.ToUpper(t.Transport)
	l := &leg{
		id:        event.LegID(fmt.Sprintf("%s-%s", c.id, sip.GenerateTagN(6))),
		call:      c,
		sipCallID: sip.GenerateTagN(24) + "@tandem",
		localTag:  sip.GenerateTagN(16),
		transport: transport,
		dest:      t.Addr,
		keepDest:  t.Group == "",
		acks:      make(chan *sip.Request, 1),
		remote:    *t.URI.Clone(),
		remoteTarget: func() sip.Uri {
			u := *t.URI.Clone()
			return u
		}(),
	}
	// The caller's INVITE gives the new leg its From, Max-Forwards and
	// passed headers (the identity as its origin allows, identity.go); a
	// call tandem originates (a courtesy callback) has no INVITE and names
	// its own From in dialFrom.
	var in *sip.Request
	if c.in != nil {
		in = c.in.invite
	}
	host, port := s.edge.Local(strings.ToLower(transport))
	l.local = sip.Uri{Scheme: "sip", User: c.dialFrom, Host: host, Port: port}
	if in != nil {
		l.local.User, l.localName = callerFrom(in, c.origin)
	}
	l.remote.UriParams = nil
	l.remote.Port = 0

	req := s.inDialog(l, sip.INVITE)
	// Max-Forwards goes down by one per hop even through a B2BUA, so a
	// label that routes back to tandem cannot loop for ever (loop.go).
	req.ReplaceHeader(outMaxForwards(in))
	for _, name := range passHeaders {
		if in == nil {
			break
		}
		if !passIdentity(name, c.origin) {
			continue
		}
		for _, h := range in.GetHeaders(name) {
			req.AppendHeader(sip.NewHeader(name, h.Value()))
		}
	}
	if in != nil && c.origin.User != "" {
		req.AppendHeader(assertedIdentity(c.origin.User, host))
	}
	// The call's global id: the VRU and the bridge log under it, and it
	// coming back to this node is a loop (hopCheck).
	req.AppendHeader(sip.NewHeader(event.CallIDHeader, string(c.id)))
	req.AppendHeader(sip.NewHeader("Allow", allowParty))
	withBody(req, stamp(l, body), ct)

	c.log.Debug("dial", "leg", l.id, "target", t.String())
	c.mu.Lock()
	l.agent = c.ringAgent
	c.mu.Unlock()
	s.emit(event.Event{Kind: event.LegNew, Call: c.id, Leg: l.id, Peer: t.String()})
	tx, err := s.edge.Client().TransactionRequest(context.Background(), req, prebuilt)
	if err != nil {
		s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Reason: err.Error()})
		c.offerReleased(l)
		return nil, nil, fmt.Errorf("invite %s: %w", t, err)
	}
	// Unless the leg connects, or the transaction is handed to
	// drainCancelled, its end frees the agent's phone in the router.
	handedOff, release := false, true
	defer func() {
		if handedOff {
			return
		}
		tx.Terminate()
		if release {
			c.offerReleased(l)
		}
	}()
	tx.OnRetransmission(func(*sip.Response) {
		// The 2xx came again: our ACK was lost (RFC 3261 §13.2.2.4).
		l.ackMu.Lock()
		ack := l.lastAck
		l.ackMu.Unlock()
		if ack != nil {
			_ = s.edge.Client().WriteRequest(ack, prebuilt)
		}
	})

	ring := time.NewTimer(ringFor)
	defer ring.Stop()
	var cancelled error
	gotProvisional := false
	cancelNow := func(why error) {
		if cancelled != nil {
			return
		}
		cancelled = why
		if gotProvisional {
			s.sendCancel(req)
		}
	}
	done := ctx.Done()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if !gotProvisional {
					gotProvisional = true
					if cancelled != nil {
						// RFC 3261 §9.1: CANCEL only once something came back.
						s.sendCancel(req)
					}
				}
				if res.StatusCode == 100 || cancelled != nil {
					continue
				}
				kind := event.LegRinging
				if len(res.Body()) > 0 {
					kind = event.LegEarly
				}
				s.emit(event.Event{Kind: kind, Call: c.id, Leg: l.id, Code: res.StatusCode})
				if relay {
					if err := s.respond(c.in, c.in.invite, c.in.inviteTx, res.StatusCode, res.Reason, res.Body(), contentType(res)); err != nil {
						c.log.Debug("relay provisional failed", "error", err)
					}
				}
				continue
			}
			if res.IsSuccess() {
				l.establishOutbound(res)
				l.cseq.Store(req.CSeq().SeqNo)
				if cancelled != nil {
					// The callee answered as we cancelled: the call is
					// already gone for the caller, so close this leg.
					s.sendAck(l, s.ackFor(l, req.CSeq().SeqNo, nil, ""))
					release = false // once the BYE is answered
					go func() { s.bye(l, "answered after cancel"); c.offerReleased(l) }()
					s.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: l.id, Reason: "answered after cancel"})
					return nil, nil, cancelled
				}
				s.emit(event.Event{Kind: event.LegAnswered, Call: c.id, Leg: l.id, Code: res.StatusCode})
				release = false
				return l, res, nil
			}
			s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Code: res.StatusCode, Reason: res.Reason})
			if cancelled != nil {
				return nil, nil, cancelled
			}
			return nil, res, nil
		case <-tx.Done():
			err := tx.Err()
			if err == nil {
				err = errNoFinal
			}
			s.emit(event.Event{Kind: event.LegFailed, Call: c.id, Leg: l.id, Code: 408, Reason: err.Error()})
			if cancelled != nil {
				return nil, nil, cancelled
			}
			return nil, nil, fmt.Errorf("invite %s: %w", t, err)
		case <-ring.C:
			if cancelled != nil {
				// Cancelled a while ago and still no final answer: the
				// callee is gone; stop waiting for its 487.
				return nil, nil, cancelled
			}
			cancelNow(errRingTimeout)
			// Wait for the 487 (or a 2xx that crossed the CANCEL), but not
			// for ever.
			ring.Reset(64 * sip.T1)
		case <-done:
			// The caller hung up (or the move, consult or callback was
			// called off): nothing waits for this leg any more, so dial
			// returns now and the INVITE finishes on its own goroutine
			// (CANCEL, the phone's 487 or whatever it answers), which
			// frees the agent's phone in the router when it is over.
			cancelNow(context.Cause(ctx))
			handedOff = true
			go c.drainCancelled(l, req, tx, gotProvisional)
			return nil, nil, cancelled
		}
	}
}

// sendCancel cancels our INVITE req (RFC 3261 §9.1).
func (s *Server) sendCancel(invite *sip.Request) {
	cancel := sip.NewRequest(sip.CANCEL, *invite.Recipient.Clone())
	cancel.AppendHeader(sip.HeaderClone(invite.Via()))
	for _, name := range []string{"Route", "Max-Forwards", "From", "To", "Call-ID"} {
		for _, h := range invite.GetHeaders(name) {
			cancel.AppendHeader(sip.HeaderClone(h))
		}
	}
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	cancel.SetBody(nil)
	cancel.SetTransport(invite.Transport())
	cancel.SetDestination(invite.Destination())
	cancel.Laddr = invite.Laddr
	go func() {
		ctx, done := context.WithTimeout(context.Background(), 64*sip.T1)
		defer done()
		if _, err := s.request(ctx, cancel); err != nil {
			s.log.Debug("CANCEL got no answer", "error", err)
		}
	}()
}

// answer connects the caller to out: the 2xx goes to the caller and both
// ACKs are settled. With an offer in the caller's INVITE, the callee's 2xx
// holds the answer and can be ACKed at once; with a late offer the callee's
// 2xx holds the offer and the caller's ACK brings the answer for the callee.
func (c *Call) answer(out *leg, res *sip.Response) {
	s := c.srv
	lateOffer := len(c.in.invite.Body()) == 0
	inviteSeq := out.cseq.Load()
	if !lateOffer {
		s.sendAck(out, s.ackFor(out, inviteSeq, nil, ""))
	}
	c.mu.Lock()
	c.out = out
	c.answered = true
	c.farSDP = res.Body()
	if !lateOffer {
		c.nearSDP = c.in.invite.Body()
	}
	c.mu.Unlock()
	s.dialogs.Store(out.key(), out)

	ok := sip.NewResponseFromRequest(c.in.invite, 200, "OK", nil)
	ok.To().Params.Add("tag", c.in.localTag)
	ok.AppendHeader(s.contact(c.in.transport))
	ok.AppendHeader(sip.NewHeader("Allow", allowCaller))
	s.timerAnswer(c.in, c.in.invite, ok)
	withBody(ok, stamp(c.in, res.Body()), contentType(res))
	if err := c.in.inviteTx.Respond(ok); err != nil {
		// The caller cancelled as the callee answered: release the callee.
		c.log.Info("caller gone at answer", "error", err)
		if lateOffer {
			s.sendAck(out, s.ackFor(out, inviteSeq, nil, ""))
		}
		c.end("caller cancelled at answer", event.OutcomeAbandoned, nil, out)
		return
	}
	s.emit(event.Event{Kind: event.CallAnswered, Call: c.id, Leg: out.id, Code: 200})
	c.log.Info("answered", "leg", out.id, "peer", out.peer())
	if s.cfg.MaxCallDuration > 0 {
		time.AfterFunc(s.cfg.MaxCallDuration.D(), func() { c.hangup("max call duration") })
	}
	// The ACK is awaited off the INVITE goroutine, which must return now
	// that the caller has its final response.
	go func() {
		ack := s.await2xxAck(c.ctx, c.in, c.in.inviteTx, ok)
		if ack == nil {
			if c.ctx.Err() == nil {
				c.log.Warn("no ACK from caller for 2xx")
				if lateOffer {
					s.sendAck(out, s.ackFor(out, inviteSeq, nil, ""))
				}
				c.hangup("no ACK")
			}
			return
		}
		if lateOffer {
			c.mu.Lock()
			c.nearSDP = ack.Body()
			c.mu.Unlock()
			s.sendAck(out, s.ackFor(out, inviteSeq, stamp(out, ack.Body()), contentType(ack)))
		}
	}()
}

// fail gives the caller a final error and ends the call.
func (c *Call) fail(code int, reason string, outcome event.Outcome) {
	s := c.srv
	if err := s.respond(c.in, c.in.invite, c.in.inviteTx, code, reason, nil, ""); err != nil {
		c.log.Debug("final response failed", "code", code, "error", err)
	}
	c.log.Info("call failed", "code", code, "reason", reason)
	c.end(fmt.Sprintf("%d %s", code, reason), outcome, nil, nil)
}

// abandon ends a call whose caller cancelled before answer.
func (c *Call) abandon() {
	if c.clearedInSetup() {
		return
	}
	c.log.Info("caller abandoned")
	c.srv.emit(event.Event{Kind: event.LegEnded, Call: c.id, Leg: c.in.id, Code: 487, Reason: "CANCEL", Side: "caller"})
	c.end("caller cancelled", event.OutcomeAbandoned, nil, nil)
}

// hangup releases both sides of an answered call with BYE (used on drain,
// a lost ACK and the max duration).
func (c *Call) hangup(why string) {
	c.mu.Lock()
	if c.ended || !c.answered {
		c.mu.Unlock()
		if !c.answered {
			c.cancel()
		}
		return
	}
	in, out := c.in, c.out
	c.mu.Unlock()
	c.end(why, event.OutcomeAnswered, in, out)
}

// end finishes the call once: legs named are released with BYE, every
// dialog is forgotten, the call is counted.
func (c *Call) end(why string, outcome event.Outcome, byeIn, byeOut *leg) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	in, out, consult := c.in, c.out, c.consult
	release := append([]*leg{byeIn, byeOut, consult}, c.leavingLegs()...)
	if c.conf != nil {
		// Every party still in the conference, and its leg to the bridge.
		for p, bl := range c.conf.bridge {
			if p != in {
				release = append(release, p)
			}
			release = append(release, bl)
		}
	}
	c.mu.Unlock()
	s := c.srv
	c.cancel()
	seen := map[*leg]bool{}
	for _, l := range release {
		if l != nil && !seen[l] {
			seen[l] = true
			go s.bye(l, why)
		}
	}
	s.dialogs.Delete(in.key())
	in.stopSession() // its timer would hold the call until it fired
	for l := range seen {
		s.dialogs.Delete(l.key())
		l.stopSession()
	}
	if out != nil {
		s.dialogs.Delete(out.key())
		out.stopSession()
	}
	s.calls.Delete(c.id)
	s.active.Add(-1)
	s.mCalls.WithLabelValues(string(outcome)).Inc()
	s.emit(event.Event{Kind: event.CallEnded, Call: c.id, Outcome: outcome, Reason: why})
	if t := s.tracker; t != nil {
		t.Ended(context.Background(), c.id)
	}
	c.log.Info("call ended", "outcome", outcome, "why", why)
	s.wg.Done()
}

// bye releases leg l with a BYE.
func (s *Server) bye(l *leg, why string) {
	l.stopSession()
	req := s.inDialog(l, sip.BYE)
	req.AppendHeader(sip.NewHeader("Reason", `SIP;cause=200;text="`+strings.ReplaceAll(why, `"`, "'")+`"`))
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	res, err := s.request(ctx, req)
	code := 0
	if res != nil {
		code = res.StatusCode
	}
	s.emit(event.Event{Kind: event.LegEnded, Call: l.call.id, Leg: l.id, Code: code, Reason: "BYE sent: " + why, Side: "tandem"})
	if err != nil {
		l.call.log.Debug("BYE got no answer", "leg", l.id, "error", err)
	}
}

// reasonPhrase gives the RFC 3261 §21 phrase for the codes a router uses.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Rejected"
}
