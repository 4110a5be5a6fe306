package sipedge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandem-cc/tandem/internal/event"
)

// Origin says who sent an admitted INVITE.
type Origin struct {
	// Trunk is the name of the trusted trunk the INVITE came from, or empty.
	Trunk string
	// User is the authenticated endpoint, or empty for a trunk.
	User string
}

// CallHandler takes the requests that form and live in dialogs: the call
// server implements it. Handlers may block; each request runs on its own
// goroutine. A handler must send a final response on tx for every request
// but ACK before it returns.
type CallHandler interface {
	// HandleInvite gets a dialog-forming INVITE the edge admitted.
	HandleInvite(req *sip.Request, tx sip.ServerTransaction, from Origin)
	// HandleInDialog gets every request that has a To tag (re-INVITE, ACK,
	// BYE, INFO, UPDATE, ...) and CANCELs and BYEs that matched nothing.
	HandleInDialog(req *sip.Request, tx sip.ServerTransaction)
	// HandleStrayResponse gets responses that match no client transaction:
	// retransmitted 2xx to an INVITE whose ACK was lost.
	HandleStrayResponse(res *sip.Response)
}

// Deps are the edge's collaborators.
type Deps struct {
	Log      *slog.Logger
	Registry prometheus.Registerer // may be nil
	Now      func() time.Time      // may be nil
	// Events hears a call.rejected for each INVITE the edge refuses for
	// good (rejected.go); may be nil.
	Events event.Sink
	// RetryAfter is the Retry-After of the 503s a draining edge answers
	// new calls with: call_server.retry_after, as the call server's own
	// (default 30s, that key's: a Retry-After of 0 asks for a retry at
	// once).
	RetryAfter time.Duration
}

// Edge is the SIP edge. Create it with New, give it a CallHandler with
// Handle, open its sockets with Listen, then Run it.
type Edge struct {
	// retryAfter is Deps.RetryAfter.
	retryAfter time.Duration

	cfg  *Config
	log  *slog.Logger
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	auth *authenticator
	reg  *registrar
	now  func() time.Time

	// tab holds the trunks, users, dial plan and server groups: Reload
	// swaps it whole, every request reads it once (tables).
	tab atomic.Pointer[tables]
	// cfgMu serialises Reload and guards the heartbeats below.
	cfgMu sync.Mutex
	hbCtx context.Context // Run's, nil outside Run
	beats map[hbKey]*hbRunner
	hbWG  sync.WaitGroup // the heartbeat goroutines

	handler  CallHandler
	tlsConf  *tls.Config
	draining atomic.Bool

	mu        sync.Mutex // guards listeners, udpConns and own
	listeners []boundListener
	udpConns  map[string]*countingPacketConn // by local address
	own       []netip.Addr                   // the addresses the sockets send from (peers.go)

	// rejects bounds the stateless 400s per source (limit.go);
	// unparsable the log lines about unparsable messages.
	rejects    *sourceBuckets
	unparsable unparsableLog
	// events hears refused INVITEs; rejectEvents and rejectLog bound
	// them per untrusted source (rejected.go).
	events       event.Sink
	rejectEvents *sourceBuckets
	rejectLog    *logOnce
	// tcpIdle closes idle stream connections (stream.go).
	tcpIdle time.Duration

	mIn, mOut   *prometheus.CounterVec
	mRejected   *prometheus.CounterVec
	mRefused    *prometheus.CounterVec
	mUnrecorded prometheus.Counter
	mIdleClosed prometheus.Counter
	mRegs       prometheus.GaugeFunc
	mDestsUp    *prometheus.GaugeVec
	onceListen  sync.Once
	listenErr   error
}

type boundListener struct {
	transport string
	addr      net.Addr
	pc        *countingPacketConn
	l         net.Listener
}

// New builds the edge from cfg (already validated).
func New(cfg *Config, deps Deps) (*Edge, error) {
	e := &Edge{cfg: cfg, retryAfter: deps.RetryAfter, log: deps.Log, now: deps.Now, udpConns: map[string]*countingPacketConn{}, beats: map[hbKey]*hbRunner{}}
	if e.retryAfter <= 0 {
		e.retryAfter = 30 * time.Second
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.log = e.log.With("role", "sipedge")
	if e.now == nil {
		e.now = time.Now
	}
	r := cfg.Registrar
	e.reg = newRegistrar(r.MinExpires.D(), r.MaxExpires.D(), r.DefaultExpires.D(), r.MaxContacts, e.now)
	tab, err := buildTables(cfg, e.reg, nil)
	if err != nil {
		return nil, err
	}
	e.tab.Store(tab)
	e.auth = newAuthenticator(cfg.SIP.Realm, cfg.SIP.AuthAlgorithms, nil, r.FailedAuthLimit, r.FailedAuthWindow.D(), e.now)
	e.auth.password = e.password
	e.rejects = newSourceBuckets(rejectRate, rejectBurst, rejectSources)
	e.events = deps.Events
	e.rejectEvents = newSourceBuckets(rejectEventRate, rejectEventBurst, rejectEventSources)
	e.rejectLog = newLogOnce(time.Minute, rejectEventSources, e.now)
	e.unparsable = newUnparsableLog(e.now)
	e.tcpIdle = cfg.SIP.TCPIdleTimeout.D()
	if e.tcpIdle <= 0 {
		e.tcpIdle = defaultTCPIdleTimeout
	}

	// sipgo logs at its own levels; keep its chatter at warn and above so a
	// scan does not flood the log, and tag it.
	sipLog := slog.New(levelFloor{e.log.Handler(), slog.LevelWarn}).With("lib", "sipgo")
	var tlsConf *tls.Config
	for _, l := range cfg.SIP.Listen {
		if l.Transport == "tls" {
			cert, err := tls.LoadX509KeyPair(l.Cert, l.Key)
			if err != nil {
				return nil, fmt.Errorf("sipedge: tls %s: %w", l.Address, err)
			}
			tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(cfg.SIP.UserAgent),
		sipgo.WithUserAgentHostname(cfg.SIP.Host),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(e.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(e.strayResponse),
		),
	}
	e.tlsConf = tlsConf
	if tlsConf != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(tlsConf))
	}
	e.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sipedge: user agent: %w", err)
	}
	e.srv, err = sipgo.NewServer(e.ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sipedge: server: %w", err)
	}
	e.cli, err = sipgo.NewClient(e.ua, sipgo.WithClientHostname(cfg.SIP.Host), sipgo.WithClientLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sipedge: client: %w", err)
	}

	e.mIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_sip_messages_in_total", Help: "SIP messages received, by transport."}, []string{"transport"})
	e.mOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_sip_messages_out_total", Help: "SIP messages sent over UDP and TCP, by transport."}, []string{"transport"})
	e.mRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_sip_rejected_total", Help: "Requests answered with an error before reaching a handler, by status code."}, []string{"code"})
	e.mRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_sip_invites_refused_total", Help: "New INVITEs the edge refused for good (not challenges), by why (auth, auth_limit, draining, invalid)."}, []string{"why"})
	e.mUnrecorded = prometheus.NewCounter(prometheus.CounterOpts{Name: "tandem_sip_refusals_unrecorded_total", Help: "Refused INVITEs from untrusted sources past the per-source bound, counted here but not recorded as call.rejected."})
	e.mIdleClosed = prometheus.NewCounter(prometheus.CounterOpts{Name: "tandem_sip_idle_connections_closed_total", Help: "TCP and TLS connections closed after sip.tcp_idle_timeout without traffic."})
	e.mRegs = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_registered_extensions", Help: "Extensions with at least one live registration."}, func() float64 { return float64(e.reg.count()) })
	e.mDestsUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tandem_destination_up", Help: "1 when a server-group destination is up."}, []string{"group", "destination"})
	if deps.Registry != nil {
		for _, c := range []prometheus.Collector{e.mIn, e.mOut, e.mRejected, e.mRefused, e.mUnrecorded, e.mIdleClosed, e.mRegs, e.mDestsUp} {
			if err := deps.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("sipedge: metrics: %w", err)
			}
		}
	}

	e.srv.OnRegister(e.wrap(e.onRegister))
	e.srv.OnOptions(e.wrap(e.onOptions))
	e.srv.OnInvite(e.wrap(e.onInvite))
	for _, m := range []sip.RequestMethod{sip.ACK, sip.BYE, sip.CANCEL, sip.INFO, sip.UPDATE, sip.PRACK, sip.REFER, sip.NOTIFY, sip.MESSAGE, sip.SUBSCRIBE, sip.PUBLISH} {
		e.srv.OnRequest(m, e.wrap(e.onOther))
	}
	e.srv.OnNoRoute(e.wrap(e.onUnknown))
	return e, nil
}

// Handle sets the call handler. Call it before Run.
func (e *Edge) Handle(h CallHandler) { e.handler = h }

// Client is the sipgo client the call server sends requests with.
func (e *Edge) Client() *sipgo.Client { return e.cli }

// Listen opens every configured socket. Ports given as 0 are chosen by the
// system; Addr tells which. Run calls it if it was not called.
func (e *Edge) Listen() error {
	e.onceListen.Do(func() { e.listenErr = e.listen() })
	return e.listenErr
}

func (e *Edge) listen() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lc net.ListenConfig
	for _, l := range e.cfg.SIP.Listen {
		switch l.Transport {
		case "udp":
			pc, err := lc.ListenPacket(context.Background(), "udp", l.Address)
			if err != nil {
				e.closeListenersLocked()
				return fmt.Errorf("sipedge: listen udp %s: %w", l.Address, err)
			}
			// A burst of calls arrives faster than one reader drains it; a
			// bigger socket buffer turns drops (and the retransmissions
			// they cause) into a short queue. The kernel caps it at
			// net.core.rmem_max, which production hosts should raise.
			if uc, ok := pc.(*net.UDPConn); ok {
				_ = uc.SetReadBuffer(8 << 20)
				_ = uc.SetWriteBuffer(4 << 20)
			}
			cpc := &countingPacketConn{PacketConn: pc, out: e.mOut.WithLabelValues("udp")}
			e.udpConns[pc.LocalAddr().String()] = cpc
			e.listeners = append(e.listeners, boundListener{transport: "udp", addr: pc.LocalAddr(), pc: cpc})
		case "tcp", "tls":
			ln, err := lc.Listen(context.Background(), "tcp", l.Address)
			if err != nil {
				e.closeListenersLocked()
				return fmt.Errorf("sipedge: listen %s %s: %w", l.Transport, l.Address, err)
			}
			addr := ln.Addr()
			if l.Transport == "tls" {
				ln = tls.NewListener(ln, e.tlsConf)
			}
			ln = streamListener{Listener: ln, e: e, transport: l.Transport, out: e.mOut.WithLabelValues(l.Transport), idle: e.tcpIdle}
			e.listeners = append(e.listeners, boundListener{transport: l.Transport, addr: addr, l: ln})
		}
	}
	e.own = e.ownAddrsLocked()
	return nil
}

func (e *Edge) closeListenersLocked() {
	for _, l := range e.listeners {
		if l.pc != nil {
			l.pc.Close()
		}
		if l.l != nil {
			l.l.Close()
		}
	}
	e.listeners = nil
}

// Addr returns the bound address of the first listener of transport, or "".
func (e *Edge) Addr(transport string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.listeners {
		if l.transport == transport {
			return l.addr.String()
		}
	}
	return ""
}

// Local returns the host and port to advertise in Via and Contact for
// requests sent over transport.
func (e *Edge) Local(transport string) (string, int) {
	a := e.Addr(strings.ToLower(transport))
	if a == "" {
		a = e.Addr("udp")
	}
	_, p, _ := net.SplitHostPort(a)
	port, _ := strconv.Atoi(p)
	return e.cfg.SIP.Host, port
}

// LocalUDP is the address of the UDP listener requests over UDP leave from,
// so that answers come back to the socket tandem listens on.
func (e *Edge) LocalUDP() *net.UDPAddr {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.listeners {
		if l.transport == "udp" {
			if a, ok := l.addr.(*net.UDPAddr); ok {
				return a
			}
		}
	}
	return nil
}

// Run serves until ctx ends, then closes the sockets.
func (e *Edge) Run(ctx context.Context) error {
	if e.handler == nil {
		return errors.New("sipedge: Run without a call handler")
	}
	if err := e.Listen(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(e.listeners))
	e.mu.Lock()
	for _, l := range e.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch {
			case l.pc != nil:
				err = e.srv.ServeUDP(l.pc)
			case l.transport == "tls":
				err = e.srv.ServeTLS(l.l)
			default:
				err = e.srv.ServeTCP(l.l)
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("sipedge: serve %s %s: %w", l.transport, l.addr, err)
			}
		}()
		e.log.Info("sip listening", "transport", l.transport, "addr", l.addr.String())
	}
	e.mu.Unlock()
	e.setDestMetrics(e.tables())
	// The heartbeats are per destination and outlive reloads; they stop
	// (and are waited for) below, after the listeners close.
	e.startHeartbeats(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.reg.sweepExpired()
				e.setDestMetrics(e.tables())
			}
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		cancel()
	}
	e.mu.Lock()
	e.closeListenersLocked()
	e.mu.Unlock()
	e.ua.Close()
	e.stopHeartbeats()
	wg.Wait()
	return err
}

// Drain makes the edge refuse new calls (503) and answer OPTIONS pings with
// 503, so gateways and proxies send new calls elsewhere.
func (e *Edge) Drain() { e.draining.Store(true) }

// Resolve turns a label into the targets to try, in order.
func (e *Edge) Resolve(label string) ([]Target, error) { return e.tables().dp.resolve(label) }

// Report feeds the outcome of an INVITE to a server-group destination back
// into its health: a timeout, transport error or 503 counts as a failure.
// The outcome goes to the destination as the current tables have it: a
// call resolved before a reload reports to the destination's successor,
// and not at all when the reload removed it.
func (e *Edge) Report(t Target, ok bool) {
	if t.dest == nil {
		return
	}
	dp := e.tables().dp
	g := dp.groups[t.Group]
	if g == nil {
		return
	}
	changed := false
	for _, d := range dp.find(t.Group, t.dest.addr) {
		if d.result(ok, g.hb.Failures) {
			changed = true
		}
	}
	if changed {
		e.setDestUp(g.name, t.dest.addr, ok)
		if ok {
			e.log.Info("destination up", "group", g.name, "dest", t.dest.addr)
		} else {
			e.log.Warn("destination down after failed calls", "group", g.name, "dest", t.dest.addr)
		}
	}
}

// Bindings returns the live registrations of an extension.
func (e *Edge) Bindings(ext string) []Binding { return e.reg.lookup(ext) }

// ping sends one OPTIONS heartbeat.
func (e *Edge) ping(ctx context.Context, addr, transport string) error {
	host, port, err := sip.ParseAddr(addr)
	if err != nil {
		return err
	}
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport(strings.ToUpper(transport))
	req.SetDestination(addr)
	if transport == "udp" {
		if la := e.LocalUDP(); la != nil {
			req.Laddr = sip.Addr{IP: la.IP, Port: la.Port}
		}
	}
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res, err := e.cli.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode == 503 {
		return fmt.Errorf("OPTIONS answered 503")
	}
	return nil
}

// readFilter sees every datagram and TCP read before sipgo parses it. It
// counts messages and answers UDP datagrams sipgo cannot parse with a
// stateless 400 (sipgo would only log and drop them, and the sender would
// retransmit for 32 s), at most rejectRate a second per source (limit.go).
// Stream connections are framed by streamConn instead.
func (e *Edge) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	tr := strings.ToLower(p.Transport)
	e.mIn.WithLabelValues(tr).Inc()
	if tr != "udp" {
		return data, nil
	}
	if _, err := parser.ParseSIP(data); err != nil {
		if len(data) <= 4 {
			return data, nil // keep-alive CRLFs
		}
		e.mRejected.WithLabelValues("unparsable").Inc()
		res := statelessReject(data, err)
		if res != nil && !e.rejects.allow(addrOf(p.RemoteAddr), e.now()) {
			e.mRejected.WithLabelValues("unanswered").Inc()
			res = nil
		}
		e.unparsable.log(e.log, tr, p.RemoteAddr.String(), data, err, res != nil)
		if res != nil {
			e.mu.Lock()
			pc := e.udpConns[p.LocalAddr.String()]
			e.mu.Unlock()
			if pc != nil {
				_, _ = pc.WriteTo(res, p.RemoteAddr)
			}
		}
		return nil, nil
	}
	return data, nil
}

// sipgo refuses to send a UDP message over 1300 bytes. A response cannot
// move to TCP (RFC 3261 §18.2.2 sends it where the request came from), and
// an INVITE with many Via or a long SDP is legitimate, so let the IP layer
// fragment instead of dropping the answer. It is a process-wide setting of
// sipgo's, so it is made once, before any socket exists.
func init() { sip.UDPMTUSize = 65000 }

// parser is sipgo's parser with its default header parsers; it holds no
// per-message state, so one serves every goroutine.
var parser = sip.NewParser()

func (e *Edge) strayResponse(res *sip.Response) {
	if e.handler != nil {
		e.handler.HandleStrayResponse(res)
	}
}

// wrap validates a request before its handler sees it.
func (e *Edge) wrap(h func(*sip.Request, sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if rej := validate(req); rej != nil {
			if req.IsAck() {
				return // ACK is never answered
			}
			e.mRejected.WithLabelValues(strconv.Itoa(rej.code)).Inc()
			e.refusedInvite(req, rej.code, event.RejectInvalid, rej.reason, e.trunkOf(sourceIP(req)) != "")
			e.respond(req, tx, rej.code, rej.reason, rej.headers...)
			return
		}
		h(req, tx)
	}
}

func (e *Edge) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	// Always answer in the version we speak, even to SIP/7.0 (RFC 4475
	// §3.1.2.16).
	res.SipVersion = "SIP/2.0"
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if code >= 200 && code != 100 && res.To() != nil {
		if _, ok := res.To().Params.Get("tag"); !ok {
			res.To().Params.Add("tag", sip.GenerateTagN(10))
		}
	}
	if err := tx.Respond(res); err != nil {
		e.log.Debug("respond failed", "code", code, "error", err)
	}
}

// allowed is what tandem handles (RFC 3261 §20.5): REFER is a call party's
// transfer (callserver/refer.go), NOTIFY and MESSAGE in a dialog are
// relayed. PRACK is not listed: tandem never sends a reliable provisional
// (no 100rel in Supported), so there is nothing a PRACK could acknowledge.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE, REFER, NOTIFY, MESSAGE"

func (e *Edge) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		e.handler.HandleInDialog(req, tx)
		return
	}
	code, reason := 200, "OK"
	if e.draining.Load() {
		code, reason = 503, "Service Unavailable"
	}
	e.respond(req, tx, code, reason,
		sip.NewHeader("Allow", allowed),
		sip.NewHeader("Accept", "application/sdp"),
		// timer: session timers (RFC 4028). Not replaces: an INVITE with
		// Replaces (RFC 3891) is not matched to a dialog here; attended
		// transfer is done by REFER with Replaces in its Refer-To.
		sip.NewHeader("Supported", "timer"),
	)
}

func (e *Edge) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		e.handler.HandleInDialog(req, tx)
		return
	}
	if e.draining.Load() {
		// Recorded before it is answered: whoever sees the 503 can find
		// its record.
		e.refusedInvite(req, 503, event.RejectDraining, "Service Unavailable", e.trunkOf(sourceIP(req)) != "")
		e.respond(req, tx, 503, "Service Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(int(e.retryAfter.Seconds()))))
		return
	}
	src := sourceIP(req)
	if trunk := e.trunkOf(src); trunk != "" {
		e.handler.HandleInvite(req, tx, Origin{Trunk: trunk})
		return
	}
	user, ok := e.authenticate(req, tx, "Proxy-Authorization", "Proxy-Authenticate", 407, "Proxy Authentication Required")
	if !ok {
		return
	}
	if n := stripIdentity(req); n > 0 {
		e.log.Info("identity headers from outside the trust domain removed", "user", user, "headers", n, "from", req.Source())
	}
	e.handler.HandleInvite(req, tx, Origin{User: user})
}

func (e *Edge) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	user, ok := e.authenticate(req, tx, "Authorization", "WWW-Authenticate", 401, "Unauthorized")
	if !ok {
		return
	}
	if req.To().Address.User != user {
		e.respond(req, tx, 403, "Forbidden (not your address of record)")
		return
	}
	r := e.reg.register(user, req)
	if r.code == 200 && !e.hasUser(user) {
		// A reload removed the user while this REGISTER was on its way:
		// the reload's sweep may have run before the binding was made.
		e.reg.drop(user)
		e.respond(req, tx, 403, "Forbidden (no such user)")
		return
	}
	switch r.code {
	case 200:
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if _, ok := res.To().Params.Get("tag"); !ok {
			res.To().Params.Add("tag", sip.GenerateTagN(10))
		}
		now := e.now()
		for _, b := range r.bindings {
			c := &sip.ContactHeader{Address: *b.Contact.Clone(), Params: sip.NewParams()}
			c.Params.Add("expires", strconv.Itoa(int(b.Expires.Sub(now).Round(time.Second).Seconds())))
			res.AppendHeader(c)
		}
		res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
		if err := tx.Respond(res); err != nil {
			e.log.Debug("respond failed", "error", err)
		}
		e.log.Debug("registered", "user", user, "contacts", len(r.bindings))
	case 423:
		e.respond(req, tx, 423, r.reason, sip.NewHeader("Min-Expires", strconv.Itoa(int(r.minExpires.Seconds()))))
	default:
		e.respond(req, tx, r.code, r.reason)
	}
}

func (e *Edge) onOther(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.SUBSCRIBE, sip.PUBLISH, sip.MESSAGE:
		if !hasToTag(req) {
			e.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
			return
		}
	}
	e.handler.HandleInDialog(req, tx)
}

func (e *Edge) onUnknown(req *sip.Request, tx sip.ServerTransaction) {
	e.respond(req, tx, 501, "Not Implemented", sip.NewHeader("Allow", allowed))
}

func (e *Edge) trunkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	for _, t := range e.tables().trunks {
		for _, p := range t.prefixes {
			if p.Contains(a) {
				return t.name
			}
		}
	}
	return ""
}

func hasToTag(req *sip.Request) bool {
	if to := req.To(); to != nil {
		_, ok := to.Params.Get("tag")
		return ok
	}
	return false
}

func sourceIP(req *sip.Request) string {
	h, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return h
}

// levelFloor drops records below min, so a library's debug and info lines
// stay out of tandem's log unless tandem itself logs at that level.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (l levelFloor) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.Handler.Enabled(ctx, lv)
}

func (l levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{l.Handler.WithAttrs(a), l.min}
}

func (l levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{l.Handler.WithGroup(n), l.min}
}

// countingPacketConn counts datagrams sent.
type countingPacketConn struct {
	net.PacketConn
	out prometheus.Counter
}

func (c *countingPacketConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.out.Inc()
	return c.PacketConn.WriteTo(b, a)
}
