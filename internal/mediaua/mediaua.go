package mediaua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
)

// Names are the words a role's log lines use for its dialogs, so that each
// role logs as it always has: "<Dialog> not confirmed", "<Remote> hung
// up", "<Local> hung up".
type Names struct {
	Dialog string // "call", "party"
	Remote string // "caller", "party"
	Local  string // "gateway", "bridge"
}

// Config configures a UA and carries its role's part in each dialog.
type Config struct {
	// Listen is the UDP address to serve SIP on; port 0 picks one.
	Listen string
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP netip.Addr
	// UserAgent is the User-Agent header; ContactUser the Contact's user.
	UserAgent, ContactUser string
	// RTPTimeout is each media session's (media.SessionConfig); 0: none.
	RTPTimeout time.Duration
	// MaxDialogs bounds the dialogs at once (503 past it); 0: no bound.
	MaxDialogs int
	// SRTP is when each media session protects its media (RFC 4568 SDES):
	// offers it cannot take this way are refused with 488.
	SRTP media.SRTPPolicy
	// Log is the role's logger (nil: slog.Default()).
	Log   *slog.Logger
	Names Names

	// Sources, when set, says whether a new INVITE's source address may
	// start a dialog; any other gets 403 before Route sees it. The node
	// admits the call server's own addresses and the trunks
	// (sipedge.Edge.Admits): these ports are behind the call server's
	// admission, not a way around it. Nil admits every source.
	Sources func(netip.Addr) bool
	// Direct, when set, says whether an admitted source may send an
	// INVITE without event.CallIDHeader, as a call of its own under a new
	// call id (a trunk calling straight in); any other such INVITE is
	// refused with 400 (callid.go). Nil: every source may.
	Direct func(netip.Addr) bool

	// Route takes a new INVITE (true) or refuses it with 404 (false). It
	// sees d.Call, d.Invite and d.Log, may add attributes to d.Log and set
	// d.Value; the media session does not exist yet. Required.
	Route func(d *Dialog) bool
	// Admit, when set, runs once the media session holds our offer or
	// answer and before the 200: an error refuses the INVITE with 503 and
	// Retry-After: 30 (logged with the role's own line, by Admit).
	Admit func(d *Dialog) error
	// OnSession runs on its own goroutine once the dialog is confirmed and
	// returns why it ended; then the UA sends BYE unless the remote hung
	// up, and ends the dialog. d.Context() ends at BYE, Hangup or Stop.
	// Required.
	OnSession func(d *Dialog) (why string)
	// OnReinvite, when set, runs after a re-INVITE's offer was answered.
	OnReinvite func(d *Dialog)
	// OnHold, when set, hears each change of the remote's hold state after
	// the dialog is confirmed (re-INVITE, or the ACK answering our offer).
	OnHold func(d *Dialog, held bool)
	// OnEnd, when set, runs once as a dialog that was admitted ends, for
	// whatever reason (never confirmed included), before its media
	// session closes.
	OnEnd func(d *Dialog, why string)
}

// UA is a SIP user agent server whose dialogs each own a media session.
type UA struct {
	cfg Config
	log *slog.Logger

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dlgs    *sipgo.DialogServerCache
	contact sip.ContactHeader
	pc      net.PacketConn

	dialogs sync.Map // sip.DialogID → *Dialog
	live    atomic.Int64
	// refusedLog is when a refused source was last logged (Unix ns), and
	// refused how many were refused since: one line per interval at most.
	refusedLog, refused atomic.Int64
	stopping            atomic.Bool
	wg                  sync.WaitGroup // one per dialog, from its INVITE to its end
}

// New builds a UA; Listen opens its socket.
func New(cfg Config) (*UA, error) {
	if cfg.Route == nil || cfg.OnSession == nil {
		return nil, errors.New("mediaua: Route and OnSession are required")
	}
	if !cfg.MediaIP.IsValid() {
		return nil, errors.New("mediaua: a media IP is required")
	}
	u := &UA{cfg: cfg, log: cfg.Log}
	if u.log == nil {
		u.log = slog.Default()
	}
	return u, nil
}

// Listen opens the SIP socket (port 0 picks one; Addr tells) and readies
// the SIP stack; Run serves it.
func (u *UA) Listen() error {
	pc, err := net.ListenPacket("udp", u.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", u.cfg.Listen, err)
	}
	// Big socket buffers, as the SIP edge has: under load the default
	// ~200 KB drops INVITEs and BYEs in a burst (seen in bench/flow at
	// 300 calls/s: callers refused with 480). The kernel caps them at
	// net.core.rmem_max / wmem_max.
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
	}
	host, _, _ := net.SplitHostPort(pc.LocalAddr().String())
	sipLog := u.log.With("lib", "sipgo")
	u.ua, err = sipgo.NewUA(sipgo.WithUserAgent(u.cfg.UserAgent), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		pc.Close()
		return err
	}
	if u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(sipLog)); err != nil {
		u.ua.Close()
		pc.Close()
		return err
	}
	if u.cli, err = sipgo.NewClient(u.ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(sipLog)); err != nil {
		u.ua.Close()
		pc.Close()
		return err
	}
	u.pc = pc
	port := pc.LocalAddr().(*net.UDPAddr).Port
	u.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.cfg.ContactUser, Host: host, Port: port}}
	u.dlgs = sipgo.NewDialogServerCache(u.cli, u.contact)
	u.srv.OnInvite(u.onInvite)
	u.srv.OnAck(u.onAck)
	u.srv.OnBye(u.onBye)
	u.srv.OnInfo(u.onInfo)
	u.srv.OnNotify(u.onNotify)
	u.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// INVITEs are answered at once, so there is never one to cancel.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	u.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		code, reason := 200, "OK"
		if u.stopping.Load() || (u.cfg.MaxDialogs > 0 && u.live.Load() >= int64(u.cfg.MaxDialogs)) {
			code, reason = 503, "Service Unavailable"
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	})
	return nil
}

// Addr is the SIP address (host:port), "" before Listen.
func (u *UA) Addr() string {
	if u.pc == nil {
		return ""
	}
	return u.pc.LocalAddr().String()
}

// Active is the number of dialogs, from their INVITE to their end.
func (u *UA) Active() int { return int(u.live.Load()) }

// Serve serves SIP until ctx ends or the socket fails (that error), then
// returns; Stop ends the dialogs and closes the UA. Listen must have run.
func (u *UA) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- u.srv.ServeUDP(u.pc) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

// Stop refuses new dialogs, hangs up every one (why is the reason
// logged), waits for them at most wait and closes the socket. It reports
// whether they all ended in time.
func (u *UA) Stop(why string, wait time.Duration) bool {
	u.stopping.Store(true)
	u.dialogs.Range(func(_, v any) bool {
		v.(*Dialog).Hangup(why)
		return true
	})
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	ended := true
	select {
	case <-done:
	case <-time.After(wait):
		ended = false
	}
	u.pc.Close()
	u.ua.Close()
	return ended
}

// Dialog is one dialog and its media session.
type Dialog struct {
	// Call is the call's global id: the INVITE's event.CallIDHeader (the
	// call server's), or a new one for a call of its own (Direct).
	Call event.CallID
	// Direct says the dialog is a call of its own, not a leg the call
	// server dialed: the role reports the call, not only its leg.
	Direct bool
	// Invite is the dialog's INVITE.
	Invite *sip.Request
	// Log carries call=<Call> and what Route added.
	Log *slog.Logger
	// Session is the dialog's media session (nil during Route).
	Session *media.Session
	// Value is the role's own state, set by Route or Admit.
	Value any

	ua     *UA
	dlg    *sipgo.DialogServerSession
	ctx    context.Context
	cancel context.CancelFunc
	// ack carries the ACK's SDP answer for a late-offer INVITE.
	ack chan []byte
	// notifies carries the NOTIFYs of the dialog's subscriptions (the
	// refer subscription of a transfer, RFC 3515) to the role.
	notifies chan *sip.Request
	// reoffer is set while a re-INVITE without SDP waits for its ACK's answer.
	reoffer atomic.Bool
	// held is the last hold state reported to OnHold; guarded by holdMu
	// since re-INVITEs of one dialog can overlap.
	holdMu sync.Mutex
	held   bool
	// byeOnce makes BYE go out at most once, and never after the remote's.
	byeOnce sync.Once
	// why is the first reason the dialog's context ended, for an end that
	// comes before OnSession runs; guarded by whyMu.
	whyMu sync.Mutex
	why   string
}

// Context ends when the remote hangs up, Hangup is called or the UA stops.
func (d *Dialog) Context() context.Context { return d.ctx }

// Hangup sends BYE unless the remote already hung up (bounded at 5 s),
// and ends d's context.
func (d *Dialog) Hangup(why string) {
	d.byeOnce.Do(func() {
		d.setWhy(why)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.dlg.Bye(ctx); err != nil {
			d.Log.Debug("BYE failed", "error", err)
		}
		d.Log.Info(d.ua.cfg.Names.Local+" hung up", "why", why)
	})
	d.cancel()
}

func (d *Dialog) setWhy(why string) {
	d.whyMu.Lock()
	if d.why == "" {
		d.why = why
	}
	d.whyMu.Unlock()
}

func (d *Dialog) endWhy() string {
	d.whyMu.Lock()
	defer d.whyMu.Unlock()
	return d.why
}

// refuse answers a new INVITE outside any dialog.
func refuse(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.To().Params.Add("tag", sip.GenerateTagN(10))
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// refusal explains a 488 (RFC 3261 §20.43): SRTP keys tandem cannot use
// or the policy's refusal, or no G.711.
func refusal(err error) sip.Header {
	if errors.Is(err, media.ErrNoCrypto) {
		return sip.NewHeader("Warning", `399 tandem "SRTP: no usable a=crypto line (AES_CM_128_HMAC_SHA1_80 or _32, inline key) or media in the clear refused"`)
	}
	return sip.NewHeader("Warning", `304 tandem "G.711 (PCMU or PCMA) required"`)
}

func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		u.onReinvite(req, tx)
		return
	}
	if u.cfg.Sources != nil && !u.cfg.Sources(sourceAddr(req)) {
		u.logRefused(req)
		refuse(req, tx, 403, "Forbidden")
		return
	}
	d := &Dialog{Invite: req, ua: u, ack: make(chan []byte, 1), notifies: make(chan *sip.Request, 16)}
	if !u.identify(req, tx, d) {
		return
	}
	d.Log = u.log.With("call", string(d.Call))
	if !u.cfg.Route(d) {
		refuse(req, tx, 404, "Not Found")
		return
	}
	if n := u.live.Add(1); u.stopping.Load() || (u.cfg.MaxDialogs > 0 && n > int64(u.cfg.MaxDialogs)) {
		u.live.Add(-1)
		refuse(req, tx, 503, "Service Unavailable")
		return
	}
	u.wg.Add(1)
	sess, err := media.NewSession(media.SessionConfig{LocalIP: u.cfg.MediaIP, Logger: d.Log, RTPTimeout: u.cfg.RTPTimeout, SRTP: u.cfg.SRTP})
	if err != nil {
		d.Log.Error("media session", "error", err)
		u.release()
		refuse(req, tx, 500, "Server Internal Error")
		return
	}
	d.Session = sess
	late := len(req.Body()) == 0
	var sdpOut []byte
	if late {
		sdpOut, err = sess.Offer(media.SendRecv)
	} else {
		sdpOut, err = sess.Answer(req.Body())
	}
	if err != nil {
		sess.Close()
		u.release()
		d.Log.Info("offer not acceptable", "error", err)
		refuse(req, tx, 488, "Not Acceptable Here", refusal(err))
		return
	}
	dlg, err := u.dlgs.ReadInvite(req, tx)
	if err != nil {
		sess.Close()
		u.release()
		refuse(req, tx, 400, "Bad Request")
		return
	}
	d.dlg = dlg
	_ = dlg.Respond(100, "Trying", nil)
	if u.cfg.Admit != nil {
		// Before the 200, so that a role out of room is a 503 rather
		// than a dropped call.
		if err := u.cfg.Admit(d); err != nil {
			_ = dlg.Respond(503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "30"))
			_ = dlg.Close()
			sess.Close()
			u.release()
			return
		}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	// Registered before the 200 goes out, so its ACK finds the dialog.
	u.dialogs.Store(dlg.ID, d)
	res := sip.NewResponseFromRequest(dlg.InviteRequest, 200, "OK", sdpOut)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	// WriteResponse waits for the ACK: the dialog starts once the remote
	// confirmed it.
	if err := dlg.WriteResponse(res); err != nil {
		d.Log.Info(u.cfg.Names.Dialog+" not confirmed", "error", err)
		d.finish("no ACK: " + err.Error())
		return
	}
	if late {
		select {
		case answer := <-d.ack:
			if err := sess.SetAnswer(answer); err != nil {
				d.Log.Info("bad SDP answer in ACK", "error", err)
				d.Hangup("bad SDP answer")
				d.finish("bad SDP answer")
				return
			}
		case <-d.ctx.Done(): // the remote hung up, or the UA is stopping
			d.finish(d.endWhy())
			return
		case <-time.After(sip.T1 * 64):
			d.Hangup("no SDP answer")
			d.finish("no SDP answer")
			return
		}
	}
	d.holdMu.Lock()
	d.held = sess.Remote().OnHold()
	d.holdMu.Unlock()
	go func() {
		why := u.cfg.OnSession(d)
		d.Hangup(why)
		d.finish(why)
	}()
}

// sourceAddr is the IP a request came from (the zero Addr if unknown,
// which no Sources admits).
func sourceAddr(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// refusedLogEvery bounds the log lines about refused sources: a scan of
// the port must not flood the log, but a call server left out of Sources
// (every call refused) must show.
const refusedLogEvery = 10 * time.Second

func (u *UA) logRefused(req *sip.Request) {
	n := u.refused.Add(1)
	now := time.Now().UnixNano()
	last := u.refusedLog.Load()
	if now-last < int64(refusedLogEvery) || !u.refusedLog.CompareAndSwap(last, now) {
		return
	}
	u.refused.Add(-n)
	u.log.Warn("INVITE refused (403): its source is neither the call server nor a trunk",
		"from", req.Source(), "to", req.Recipient.String(), "refused_since_last", n)
}

func (u *UA) release() {
	u.live.Add(-1)
	u.wg.Done()
}

// finish ends d and releases it; called once, by whoever ends it.
func (d *Dialog) finish(why string) {
	d.cancel()
	if d.ua.cfg.OnEnd != nil {
		d.ua.cfg.OnEnd(d, why)
	}
	d.Session.Close()
	d.ua.dialogs.Delete(d.dlg.ID)
	_ = d.dlg.Close()
	d.ua.release()
}

func (u *UA) lookup(req *sip.Request) *Dialog {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	if v, ok := u.dialogs.Load(id); ok {
		return v.(*Dialog)
	}
	return nil
}

func noDialog(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}

func (u *UA) onAck(req *sip.Request, tx sip.ServerTransaction) {
	d := u.lookup(req)
	if d == nil {
		return
	}
	if body := req.Body(); len(body) > 0 {
		if d.reoffer.CompareAndSwap(true, false) {
			// The answer to the offer of a re-INVITE without SDP.
			if err := d.Session.SetAnswer(body); err != nil {
				d.Log.Info("bad SDP answer in re-INVITE's ACK", "error", err)
			} else {
				d.holdChanged()
			}
		} else {
			select {
			case d.ack <- body:
			default:
			}
		}
	}
	_ = d.dlg.ReadAck(req, tx)
}

func (u *UA) onBye(req *sip.Request, tx sip.ServerTransaction) {
	d := u.lookup(req)
	if d == nil {
		noDialog(req, tx)
		return
	}
	_ = d.dlg.ReadBye(req, tx)
	remote := u.cfg.Names.Remote + " hung up"
	d.byeOnce.Do(func() { d.setWhy(remote) }) // we must not send BYE now
	d.Log.Info(remote)
	d.cancel()
}

func (u *UA) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	d := u.lookup(req)
	if d == nil {
		noDialog(req, tx)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	key, dur, err := media.ParseDTMFInfo(ct, req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 415, "Unsupported Media Type", nil))
		return
	}
	_ = d.Session.InjectDTMF(key, dur)
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// onNotify answers a NOTIFY in a dialog and hands it to the role
// (Notifies). One nobody reads is still answered: a subscription's
// notifier must not be left retransmitting.
func (u *UA) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	d := u.lookup(req)
	if d == nil {
		noDialog(req, tx)
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	select {
	case d.notifies <- req:
	default:
		d.Log.Info("NOTIFY dropped: nobody reads the dialog's subscriptions", "event", headerValue(req, "Event"))
	}
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// Notifies delivers the NOTIFYs received in the dialog, already answered.
func (d *Dialog) Notifies() <-chan *sip.Request { return d.notifies }

// Request sends req in the dialog (sipgo fills From, To, Call-ID, CSeq,
// Contact and the route) and returns its final response.
func (d *Dialog) Request(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	res, err := d.dlg.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("mediaua: %s: %w", req.Method, err)
	}
	return res, nil
}

// RemoteTarget is where requests in the dialog go: the INVITE's Contact.
func (d *Dialog) RemoteTarget() sip.Uri {
	if c := d.Invite.Contact(); c != nil {
		return *c.Address.Clone()
	}
	return *d.Invite.From().Address.Clone()
}

// onReinvite applies a new offer: the media moved (a 3PCC re-INVITE from
// the call server), put on or taken off hold; or, without SDP, offers and
// takes the answer from the ACK.
func (u *UA) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	d := u.lookup(req)
	if d == nil {
		noDialog(req, tx)
		return
	}
	res, offered := Reanswer(req, d.Session, &u.contact)
	d.reoffer.Store(offered)
	_ = tx.Respond(res)
	if res.StatusCode != 200 || offered {
		return
	}
	if u.cfg.OnReinvite != nil {
		u.cfg.OnReinvite(d)
	}
	d.holdChanged()
}

// holdChanged tells OnHold when the remote's hold state changed.
func (d *Dialog) holdChanged() {
	now := d.Session.Remote().OnHold()
	d.holdMu.Lock()
	was := d.held
	d.held = now
	d.holdMu.Unlock()
	if now != was && d.ua.cfg.OnHold != nil {
		d.ua.cfg.OnHold(d, now)
	}
}

// Reanswer answers a re-INVITE of a dialog whose media is sess: a 200
// with our answer to its offer, or with our offer when it has none
// (offered: the answer comes in the ACK), carrying contact; a 488 with a
// Warning when the offer has no G.711 or no SRTP keys tandem can use.
func Reanswer(req *sip.Request, sess *media.Session, contact *sip.ContactHeader) (res *sip.Response, offered bool) {
	var body []byte
	var err error
	offered = len(req.Body()) == 0
	if offered {
		body, err = sess.Offer(media.SendRecv)
	} else {
		body, err = sess.Answer(req.Body())
	}
	if err != nil {
		res = sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(refusal(err))
		return res, false
	}
	res = sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(contact))
	return res, offered
}
