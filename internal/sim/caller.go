package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/mediaua"
)

// Outcome is how a simulated call ended, as its caller saw it.
type Outcome uint8

// Outcomes of a call.
const (
	// Handled: an agent answered (tandem moved the caller to an agent).
	Handled Outcome = iota + 1
	// Abandoned: the caller gave up after waiting in queue past its
	// patience.
	Abandoned
	// Failed: the call never reached an agent for another reason (a SIP
	// error, tandem hung up, no media).
	Failed
	// Interrupted: the run stopped (ctrl-C, the duration cap) before the
	// call reached an agent.
	Interrupted
)

func (o Outcome) String() string {
	switch o {
	case Handled:
		return "handled"
	case Abandoned:
		return "abandoned"
	case Failed:
		return "failed"
	case Interrupted:
		return "interrupted"
	}
	return "in progress"
}

// CallRecord is one simulated call as its caller lived it.
type CallRecord struct {
	N       int  // 1 for the first caller
	Digit   byte // the menu key pressed
	Outcome Outcome
	Reason  string // why, for failed and interrupted calls
	// Agent is the simulated agent the caller was moved to ("" when none,
	// or an agent outside the sim).
	Agent string
	// Times: INVITE sent, 200 received, key sent, moved to the agent, end.
	Start, Answered, Keyed, Connected, End time.Time
}

// Wait is the caller's time in queue as the sim can see it: from the key
// that ended the menu (the script queues the call then) to the re-INVITE
// that moved the caller to an agent, or to the caller's hang-up.
func (r CallRecord) Wait() time.Duration {
	from := r.Keyed
	if from.IsZero() {
		from = r.Answered
	}
	to := r.Connected
	if to.IsZero() {
		to = r.End
	}
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from)
}

// gateway is the callers' side: one SIP endpoint, as an ingress gateway
// that carries every caller of the run.
type gateway struct {
	cfg   *Config
	ep    *endpoint
	dua   *sipgo.DialogUA
	live  *counters
	book  *mediaBook
	mu    sync.Mutex
	calls map[string]*caller // by SIP Call-ID
}

func newGateway(cfg *Config, live *counters, book *mediaBook) (*gateway, error) {
	g := &gateway{cfg: cfg, live: live, book: book, calls: map[string]*caller{}}
	ep, err := newEndpoint(cfg.LocalIP, cfg.CallerPort, "sim", "tandem-sim-caller", cfg.Log.With("side", "callers"), func(srv *sipgo.Server) {
		srv.OnInvite(g.onInvite)
		srv.OnBye(g.onBye)
		srv.OnAck(func(*sip.Request, sip.ServerTransaction) {}) // ACKs to our re-INVITE answers
		srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("callers: %w", err)
	}
	g.ep = ep
	g.dua = &sipgo.DialogUA{Client: ep.cli, ContactHDR: ep.contact}
	return g, nil
}

func (g *gateway) lookup(req *sip.Request) *caller {
	if req.CallID() == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[req.CallID().Value()]
}

// onInvite takes tandem's re-INVITEs: the move to an agent (RFC 3725
// flow I), hold and retrieve. The callers' gateway takes no new calls.
func (g *gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); !ok {
		res := sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		res.To().Params.Add("tag", sip.GenerateTagN(10))
		_ = tx.Respond(res)
		return
	}
	c := g.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	res, _ := mediaua.Reanswer(req, c.sess, &g.ep.contact)
	if res.StatusCode != 200 {
		_ = tx.Respond(res)
		return
	}
	// Marked before the answer goes out: the agent's talk starts with it.
	c.mu.Lock()
	vru := c.vru
	c.mu.Unlock()
	if addr := c.sess.Remote().Addr; addr.IsValid() && addr != vru {
		c.moved(g.book.who(addr))
	}
	_ = tx.Respond(res)
}

func (g *gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := g.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	c.hungUp()
}

// caller is one simulated caller.
type caller struct {
	g    *gateway
	log  *slog.Logger
	sess *media.Session

	// mu guards vru, rec and the two flags below, written by the caller's
	// goroutine and the SIP handlers.
	mu        sync.Mutex
	vru       netip.AddrPort // where the IVR's media came from (the first answer)
	rec       CallRecord
	connected chan struct{} // closed when tandem moves us to an agent
	ended     chan struct{} // closed when tandem hangs up
	isConn    bool
	isEnded   bool
}

func (c *caller) moved(agent string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isConn || c.isEnded {
		return
	}
	c.isConn = true
	c.rec.Connected = time.Now()
	c.rec.Agent = agent
	close(c.connected)
}

func (c *caller) hungUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isEnded {
		c.isEnded = true
		close(c.ended)
	}
}

// call runs caller n to its end and returns its record. ctx ends the run:
// the caller then hangs up (CANCEL before the answer, BYE after).
func (g *gateway) call(ctx context.Context, n int) CallRecord {
	c := &caller{g: g, log: g.cfg.Log.With("caller", n), connected: make(chan struct{}), ended: make(chan struct{})}
	c.rec = CallRecord{N: n, Digit: g.cfg.Digits.pick(), Start: time.Now()}
	g.live.offered.Add(1)
	g.live.ivr.Add(1)
	phase := &g.live.ivr
	enter := func(p *counterInt) {
		phase.Add(-1)
		p.Add(1)
		phase = p
	}
	done := func(o Outcome, why string) CallRecord {
		phase.Add(-1)
		switch o {
		case Handled:
			g.live.handled.Add(1)
		case Abandoned:
			g.live.abandoned.Add(1)
		case Failed:
			g.live.failed.Add(1)
		case Interrupted:
			g.live.interrupted.Add(1)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.rec.Outcome, c.rec.Reason, c.rec.End = o, why, time.Now()
		if o == Failed {
			c.log.Info("sim: call failed", "why", why)
		}
		return c.rec
	}
	ended := func(ctx context.Context) Outcome {
		if ctx.Err() != nil {
			return Interrupted
		}
		return Failed
	}

	sess, err := media.NewSession(media.SessionConfig{LocalIP: g.cfg.LocalIP, Logger: c.log})
	if err != nil {
		return done(Failed, err.Error())
	}
	c.sess = sess
	defer sess.Close()
	offer, err := sess.Offer(media.SendRecv)
	if err != nil {
		return done(Failed, err.Error())
	}
	uri, err := targetURI(g.cfg.Number, g.cfg.Target)
	if err != nil {
		return done(Failed, err.Error())
	}
	req := sip.NewRequest(sip.INVITE, uri)
	ani := "555" + fmt.Sprintf("%04d", n%10000)
	from := &sip.FromHeader{DisplayName: "Caller " + strconv.Itoa(n), Address: sip.Uri{Scheme: "sip", User: ani, Host: g.cfg.LocalIP.String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uri.User, Host: uri.Host}, Params: sip.NewParams()})
	callID := sip.CallIDHeader(sip.GenerateTagN(20) + "@tandem-sim")
	req.AppendHeader(&callID)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	g.mu.Lock()
	g.calls[string(callID)] = c
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.calls, string(callID))
		g.mu.Unlock()
	}()

	// Setup: bounded by a minute, and by the run (cancel sends CANCEL).
	ictx, icancel := context.WithTimeout(ctx, time.Minute)
	defer icancel()
	dlg, err := g.dua.WriteInvite(ictx, req)
	if err != nil {
		return done(ended(ctx), "INVITE: "+err.Error())
	}
	defer dlg.Close()
	if err := dlg.WaitAnswer(ictx, sipgo.AnswerOptions{}); err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return done(Failed, fmt.Sprintf("INVITE answered %d %s", de.Res.StatusCode, de.Res.Reason))
		}
		return done(ended(ctx), "INVITE: "+err.Error())
	}
	bye := func() {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer bcancel()
		if err := dlg.Bye(bctx); err != nil {
			c.log.Debug("sim: caller BYE", "error", err)
		}
	}
	if err := sess.SetAnswer(dlg.InviteResponse.Body()); err != nil {
		_ = dlg.Ack(ctx)
		bye()
		return done(Failed, "SDP answer: "+err.Error())
	}
	c.mu.Lock()
	c.vru = sess.Remote().Addr
	c.mu.Unlock()
	if err := dlg.Ack(ctx); err != nil {
		bye()
		return done(ended(ctx), "ACK: "+err.Error())
	}
	sess.Start(context.Background()) // closed by the deferred Close
	c.mu.Lock()
	c.rec.Answered = time.Now()
	c.mu.Unlock()

	// The menu: listen a while, then press the key (it barges in).
	select {
	case <-time.After(g.cfg.MenuDelay):
	case <-c.connected:
	case <-c.ended:
		return done(Failed, "tandem hung up in the IVR")
	case <-ctx.Done():
		bye()
		return done(Interrupted, "stopped in the IVR")
	}
	select {
	case <-c.connected: // moved before the key: nothing to press
	default:
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		err := sess.SendDTMF(dctx, c.rec.Digit, 160*time.Millisecond)
		dcancel()
		if err != nil {
			bye()
			return done(ended(ctx), "sending the key: "+err.Error())
		}
		// The wait runs from the key's end: RFC 4733 receivers report a
		// key on its end packet, and the gateway acts on it then.
		c.mu.Lock()
		c.rec.Keyed = time.Now()
		c.mu.Unlock()
		enter(&g.live.queued)
	}

	// In queue: until an agent, the caller's patience, or the end.
	var patience <-chan time.Time
	if g.cfg.Patience > 0 {
		t := time.NewTimer(g.cfg.Patience)
		defer t.Stop()
		patience = t.C
	}
	select {
	case <-c.connected:
	case <-c.ended:
		return done(Failed, "tandem hung up before an agent answered")
	case <-patience:
		c.mu.Lock()
		gaveUp := !c.isConn
		if gaveUp {
			c.isEnded = true // a move crossing our BYE is not a connect
		}
		c.mu.Unlock()
		if gaveUp {
			bye()
			return done(Abandoned, "")
		}
	case <-ctx.Done():
		bye()
		return done(Interrupted, "stopped while queued")
	}

	// With the agent: talk, then hang up unless the agent does first.
	enter(&g.live.talking)
	var hangUp <-chan time.Time
	if !g.cfg.CallerTalk.IsZero() {
		t := time.NewTimer(g.cfg.CallerTalk.draw())
		defer t.Stop()
		hangUp = t.C
	}
	select {
	case <-hangUp:
		bye()
	case <-c.ended:
	case <-ctx.Done():
		bye()
	}
	return done(Handled, "")
}

// mediaBook maps the RTP addresses of the agents' phones to the agents, so
// that a caller moved by a re-INVITE knows whose phone it reached.
type mediaBook struct {
	mu sync.Mutex
	m  map[netip.AddrPort]string
}

func (b *mediaBook) note(a netip.AddrPort, agent string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[netip.AddrPort]string{}
	}
	b.m[a] = agent
}

func (b *mediaBook) forget(a netip.AddrPort) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, a)
}

func (b *mediaBook) who(a netip.AddrPort) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[a]
}
