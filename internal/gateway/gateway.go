package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// Transferer carries out <transfer> by asking the call server, which owns
// the call's legs. Until the IVR service wires one, transfers fail with
// error.unsupported.transfer as the spec allows.
type Transferer interface {
	Transfer(ctx context.Context, call event.CallID, req vxml.TransferRequest) (vxml.TransferResult, error)
}

// Deps are the gateway's collaborators.
type Deps struct {
	Log      *slog.Logger
	Events   event.Sink
	Prompts  *media.PromptCache
	Transfer Transferer   // may be nil
	Fetcher  vxml.Fetcher // nil: HTTP and file fetcher
}

type app struct {
	pat *config.Pattern
	url string
}

// Gateway is the VoiceXML gateway role.
type Gateway struct {
	cfg    config.VXMLGateway
	log    *slog.Logger
	events event.Sink
	deps   Deps
	apps   []app
	ip     netip.Addr

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dlgs    *sipgo.DialogServerCache
	contact sip.ContactHeader
	pc      net.PacketConn
	calls   sync.Map // dialog id → *call
	live    atomic.Int64
	wg      sync.WaitGroup
}

// New builds a gateway from its config (validated).
func New(cfg config.VXMLGateway, deps Deps) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: deps.Log, events: deps.Events, deps: deps}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.log = g.log.With("role", "vxml-gateway")
	if g.events == nil {
		g.events = event.Discard{}
	}
	if deps.Prompts == nil {
		return nil, errors.New("gateway: a prompt cache is needed")
	}
	ip, err := netip.ParseAddr(cfg.MediaIP)
	if err != nil {
		return nil, fmt.Errorf("gateway: media_ip %q: %w", cfg.MediaIP, err)
	}
	g.ip = ip
	for i, a := range cfg.Apps {
		p, err := config.CompilePattern(a.Pattern)
		if err != nil {
			return nil, fmt.Errorf("gateway: apps[%d]: %w", i, err)
		}
		g.apps = append(g.apps, app{pat: p, url: a.URL})
	}
	return g, nil
}

// Listen opens the gateway's SIP socket (port 0 picks one; Addr tells).
func (g *Gateway) Listen() error {
	pc, err := net.ListenPacket("udp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listen %s: %w", g.cfg.Listen, err)
	}
	// Big socket buffers, as the SIP edge has: under load the default
	// ~200 KB drops INVITEs and BYEs in a burst (seen in bench/flow at
	// 300 calls/s: callers refused with 480). The kernel caps them at
	// net.core.rmem_max / wmem_max.
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
	}
	g.pc = pc
	host, _, _ := net.SplitHostPort(pc.LocalAddr().String())
	sipLog := g.log.With("lib", "sipgo")
	g.ua, err = sipgo.NewUA(sipgo.WithUserAgent("tandem-vxml"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if g.srv, err = sipgo.NewServer(g.ua, sipgo.WithServerLogger(sipLog)); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if g.cli, err = sipgo.NewClient(g.ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(sipLog)); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	g.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "vxml", Host: host, Port: port}}
	g.dlgs = sipgo.NewDialogServerCache(g.cli, g.contact)
	g.srv.OnInvite(g.onInvite)
	g.srv.OnAck(g.onAck)
	g.srv.OnBye(g.onBye)
	g.srv.OnInfo(g.onInfo)
	g.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	g.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		code, reason := 200, "OK"
		if g.live.Load() >= int64(g.cfg.MaxSessions) {
			code, reason = 503, "Service Unavailable"
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	})
	return nil
}

// Addr is the gateway's SIP address.
func (g *Gateway) Addr() string {
	if g.pc == nil {
		return ""
	}
	return g.pc.LocalAddr().String()
}

// Active is the number of calls in progress.
func (g *Gateway) Active() int { return int(g.live.Load()) }

// Run serves until ctx ends, then hangs up every call and waits for them.
func (g *Gateway) Run(ctx context.Context) error {
	if g.pc == nil {
		if err := g.Listen(); err != nil {
			return err
		}
	}
	if err := g.deps.Prompts.TTSAvailable(); err != nil {
		g.log.Info("espeak-ng not found: text prompts already rendered still play; install espeak-ng to speak new text")
	}
	errc := make(chan error, 1)
	go func() { errc <- g.srv.ServeUDP(g.pc) }()
	g.log.Info("vxml gateway listening", "addr", g.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("gateway: serve: %w", err)
		}
	}
	g.calls.Range(func(_, v any) bool {
		v.(*call).hangup("gateway stopping")
		return true
	})
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.log.Warn("calls still open at stop", "calls", g.live.Load())
	}
	g.pc.Close()
	g.ua.Close()
	return nil
}

// appFor returns the document URL for a dialed number.
func (g *Gateway) appFor(dnis string) (string, bool) {
	for _, a := range g.apps {
		if a.pat.Match(dnis) {
			return a.url, true
		}
	}
	return "", false
}

// call is one caller's VoiceXML session.
type call struct {
	id     event.CallID
	g      *Gateway
	log    *slog.Logger
	dlg    *sipgo.DialogServerSession
	sess   *media.Session
	ctx    context.Context
	cancel context.CancelFunc
	// ack carries the ACK's SDP answer for a late-offer call.
	ack     chan []byte
	byeOnce sync.Once
}

func (g *Gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		g.onReinvite(req, tx)
		return
	}
	respond := func(code int, reason string) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		res.To().Params.Add("tag", sip.GenerateTagN(10))
		_ = tx.Respond(res)
	}
	url, ok := g.appFor(req.Recipient.User)
	if !ok {
		respond(404, "Not Found")
		return
	}
	if g.live.Add(1) > int64(g.cfg.MaxSessions) {
		g.live.Add(-1)
		respond(503, "Service Unavailable")
		return
	}
	g.wg.Add(1)
	id := event.CallID(req.CallID().Value())
	if h := req.GetHeader("X-Tandem-Call-ID"); h != nil {
		// The call server's global id, so the IVR leg logs under the call.
		id = event.CallID(h.Value())
	}
	log := g.log.With("call", string(id))
	sess, err := media.NewSession(media.SessionConfig{LocalIP: g.ip, Logger: log, RTPTimeout: g.cfg.RTPTimeout.D()})
	if err != nil {
		log.Error("media session", "error", err)
		g.release()
		respond(500, "Server Internal Error")
		return
	}
	var sdpOut []byte
	late := len(req.Body()) == 0
	if late {
		sdpOut, err = sess.Offer(media.SendRecv)
	} else {
		sdpOut, err = sess.Answer(req.Body())
	}
	if err != nil {
		sess.Close()
		g.release()
		log.Info("no common codec", "error", err)
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.To().Params.Add("tag", sip.GenerateTagN(10))
		res.AppendHeader(sip.NewHeader("Warning", `304 tandem "G.711 (PCMU or PCMA) required"`))
		_ = tx.Respond(res)
		return
	}
	dlg, err := g.dlgs.ReadInvite(req, tx)
	if err != nil {
		sess.Close()
		g.release()
		respond(400, "Bad Request")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{id: id, g: g, log: log, dlg: dlg, sess: sess, ctx: ctx, cancel: cancel, ack: make(chan []byte, 1)}
	_ = dlg.Respond(100, "Trying", nil)
	// Register before the 200 goes out, so its ACK finds the call.
	g.calls.Store(dlg.ID, c)
	hdr := sip.NewHeader("Content-Type", "application/sdp")
	res := sip.NewResponseFromRequest(dlg.InviteRequest, 200, "OK", sdpOut)
	res.AppendHeader(hdr)
	// RespondSDP's wait for the ACK is what we want: the call starts once
	// the caller confirmed it.
	if err := dlg.WriteResponse(res); err != nil {
		log.Info("call not confirmed", "error", err)
		c.finish("no ACK: " + err.Error())
		return
	}
	if late {
		select {
		case answer := <-c.ack:
			if err := sess.SetAnswer(answer); err != nil {
				log.Info("bad SDP answer in ACK", "error", err)
				c.hangup("bad SDP answer")
				c.finish("bad SDP answer")
				return
			}
		case <-time.After(sip.T1 * 64):
			c.hangup("no SDP answer")
			c.finish("no SDP answer")
			return
		}
	}
	go c.run(expandURL(url, id, req.Recipient.User), req)
}

func (g *Gateway) release() {
	g.live.Add(-1)
	g.wg.Done()
}

func (g *Gateway) lookup(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	if v, ok := g.calls.Load(id); ok {
		return v.(*call)
	}
	return nil
}

func (g *Gateway) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := g.lookup(req)
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

func (g *Gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := g.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = c.dlg.ReadBye(req, tx)
	c.byeOnce.Do(func() {}) // the caller hung up: we must not send BYE
	c.log.Info("caller hung up")
	c.cancel()
}

func (g *Gateway) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := g.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	d, dur, err := media.ParseDTMFInfo(ct, req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 415, "Unsupported Media Type", nil))
		return
	}
	_ = c.sess.InjectDTMF(d, dur)
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// onReinvite takes a new offer: hold, resume, or media moved by the call
// server to another party.
func (g *Gateway) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := g.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	var body []byte
	var err error
	if len(req.Body()) == 0 {
		body, err = c.sess.Offer(media.SendRecv)
	} else {
		body, err = c.sess.Answer(req.Body())
	}
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&c.g.contact))
	_ = tx.Respond(res)
}

// hangup sends BYE unless the caller already hung up, and stops the call.
func (c *call) hangup(why string) {
	c.byeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.dlg.Bye(ctx); err != nil {
			c.log.Debug("BYE failed", "error", err)
		}
		c.log.Info("gateway hung up", "why", why)
	})
	c.cancel()
}

// finish releases the call's resources; called once, by whoever ends it.
func (c *call) finish(why string) {
	c.cancel()
	c.sess.Close()
	c.g.calls.Delete(c.dlg.ID)
	_ = c.dlg.Close()
	// The call server reports the call's end; the gateway reports the end
	// of its own leg of it (the VRU leg), under the same call id.
	c.g.events.Emit(event.Event{Time: time.Now(), Kind: event.LegEnded, Call: c.id, Leg: event.LegID(string(c.id) + "-vru"), Side: "vru", Reason: "vxml: " + why})
	c.g.release()
}

// run plays the call's VoiceXML application, then hangs up.
func (c *call) run(url string, req *sip.Request) {
	c.sess.Start(c.ctx)
	headers := map[string]string{}
	for _, name := range []string{"From", "To", "Call-ID", "User-to-User", "P-Asserted-Identity", "Diversion", "X-Tandem-Call-ID"} {
		if h := req.GetHeader(name); h != nil {
			headers[name] = h.Value()
		}
	}
	info := vxml.SessionInfo{
		CallID:     c.id,
		LocalURI:   req.To().Address.String(),
		RemoteURI:  req.From().Address.String(),
		Protocol:   "sip",
		RequestURI: req.Recipient.String(),
		Headers:    headers,
	}
	if h := req.GetHeader("User-to-User"); h != nil {
		info.AAI = h.Value()
	}
	p := &platform{c: c, events: c.sess.Events(), voice: c.g.cfg.Voice}
	s, err := vxml.NewSession(vxml.Config{Platform: p, Fetcher: c.g.deps.Fetcher, Logger: c.log, Events: c.g.events, Session: info,
		OnStep: c.step})
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		out, err := s.Run(c.ctx, url)
		why = out.String()
		if err != nil {
			why += ": " + err.Error()
		}
	}
	c.log.Info("vxml session ended", "outcome", why)
	c.hangup(why)
	c.finish(why)
}

// expandURL fills an application URL's {call} and {dnis} with the call's
// global id and the dialed number (query-escaped), so one URL serves every
// call: the IVR service's bootstrap finds its call by id, as CVP's finds
// it by the correlation id in the dialed number.
func expandURL(u string, call event.CallID, dnis string) string {
	return strings.NewReplacer("{call}", url.QueryEscape(string(call)), "{dnis}", url.QueryEscape(dnis)).Replace(u)
}
