package conference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
)

// Config configures the bridge.
type Config struct {
	// Listen is the bridge's own SIP address (UDP); port 0 picks one.
	Listen string
	// MediaIP is the address RTP is received on and offered in SDP.
	MediaIP string
	// MaxRooms bounds the rooms open at once; past it a new room gets 503.
	MaxRooms int
	// MaxParties bounds the parties of one room; past it, 503.
	MaxParties int
	// RTPTimeout hangs up a party that sent no RTP for this long while it
	// should be sending; 0 disables it.
	RTPTimeout time.Duration
}

// Validate returns the first problem of cfg, naming the field.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("conference: listen %q: %w", c.Listen, err)
	}
	if _, err := netip.ParseAddr(c.MediaIP); err != nil {
		return fmt.Errorf("conference: media_ip %q: %w", c.MediaIP, err)
	}
	if c.MaxRooms < 1 {
		return errors.New("conference: max_rooms must be 1 or more")
	}
	if c.MaxParties < 2 {
		return errors.New("conference: max_parties must be 2 or more")
	}
	return nil
}

// Deps are the bridge's collaborators.
type Deps struct {
	Log    *slog.Logger
	Events event.Sink
}

// RoomID names a room: what follows "conf-" in the Request-URI's user part.
type RoomID string

// roomPrefix starts the user part of every room URI.
const roomPrefix = "conf-"

// ParseRoom returns the room a Request-URI user part names, or false.
func ParseRoom(user string) (RoomID, bool) {
	id, ok := strings.CutPrefix(user, roomPrefix)
	if !ok || len(id) == 0 || len(id) > 64 {
		return "", false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return "", false
		}
	}
	return RoomID(id), true
}

// RoomURI is the SIP URI that joins room id on the bridge at hostport:
// sip:conf-<id>@<hostport>.
func RoomURI(hostport string, id RoomID) string {
	return "sip:" + roomPrefix + string(id) + "@" + hostport
}

// Bridge is the conference bridge role.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	events event.Sink
	ip     netip.Addr

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dlgs    *sipgo.DialogServerCache
	contact sip.ContactHeader
	pc      net.PacketConn

	// mu guards rooms: a room is created by the first INVITE for it and
	// removed when its mixer ends (its last party left).
	mu    sync.Mutex
	rooms map[RoomID]*media.Mixer

	parties  sync.Map // dialog id → *party
	live     atomic.Int64
	stopping atomic.Bool
	wg       sync.WaitGroup // one per party, from its INVITE to its end
}

// New builds a bridge; cfg must be valid (see Config.Validate).
func New(cfg Config, deps Deps) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, log: deps.Log, events: deps.Events, rooms: map[RoomID]*media.Mixer{}}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("role", "conference")
	if b.events == nil {
		b.events = event.Discard{}
	}
	b.ip, _ = netip.ParseAddr(cfg.MediaIP)
	return b, nil
}

// Listen opens the bridge's SIP socket (port 0 picks one; Addr tells).
func (b *Bridge) Listen() error {
	pc, err := net.ListenPacket("udp", b.cfg.Listen)
	if err != nil {
		return fmt.Errorf("conference: listen %s: %w", b.cfg.Listen, err)
	}
	// Big socket buffers, as the SIP edge has: under load the default
	// ~200 KB drops INVITEs and BYEs in a burst (seen in bench/flow at
	// 300 calls/s: callers refused with 480). The kernel caps them at
	// net.core.rmem_max / wmem_max.
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
	}
	b.pc = pc
	host, _, _ := net.SplitHostPort(pc.LocalAddr().String())
	sipLog := b.log.With("lib", "sipgo")
	b.ua, err = sipgo.NewUA(sipgo.WithUserAgent("tandem-conference"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		pc.Close()
		return fmt.Errorf("conference: %w", err)
	}
	if b.srv, err = sipgo.NewServer(b.ua, sipgo.WithServerLogger(sipLog)); err != nil {
		pc.Close()
		return fmt.Errorf("conference: %w", err)
	}
	if b.cli, err = sipgo.NewClient(b.ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(sipLog)); err != nil {
		pc.Close()
		return fmt.Errorf("conference: %w", err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	b.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "conference", Host: host, Port: port}}
	b.dlgs = sipgo.NewDialogServerCache(b.cli, b.contact)
	b.srv.OnInvite(b.onInvite)
	b.srv.OnAck(b.onAck)
	b.srv.OnBye(b.onBye)
	b.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// INVITEs are answered at once, so there is never one to cancel.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	b.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		code, reason := 200, "OK"
		if b.stopping.Load() {
			code, reason = 503, "Service Unavailable"
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	})
	return nil
}

// Addr is the bridge's SIP address (host:port).
func (b *Bridge) Addr() string {
	if b.pc == nil {
		return ""
	}
	return b.pc.LocalAddr().String()
}

// Active is the number of parties in all rooms (joining ones included).
func (b *Bridge) Active() int { return int(b.live.Load()) }

// Rooms is the number of rooms open.
func (b *Bridge) Rooms() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.rooms)
}

// RoomSize is the number of parties in room id (0 when it is not open).
func (b *Bridge) RoomSize(id RoomID) int {
	b.mu.Lock()
	m := b.rooms[id]
	b.mu.Unlock()
	if m == nil {
		return 0
	}
	return m.Len()
}

// Run serves until ctx ends, then hangs up every party and waits for them
// (at most 10 s).
func (b *Bridge) Run(ctx context.Context) error {
	if b.pc == nil {
		if err := b.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- b.srv.ServeUDP(b.pc) }()
	b.log.Info("conference bridge listening", "addr", b.Addr())
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			serveErr = fmt.Errorf("conference: serve: %w", err)
		}
	}
	b.stopping.Store(true)
	b.parties.Range(func(_, v any) bool {
		v.(*party).hangup("bridge stopping")
		return true
	})
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.log.Warn("parties still in rooms at stop", "parties", b.live.Load())
	}
	b.pc.Close()
	b.ua.Close()
	return serveErr
}

// join puts s into room id, opening the room if needed.
func (b *Bridge) join(id RoomID, s *media.Session) (*media.Party, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range 2 { // a room that ended just now is replaced once
		m := b.rooms[id]
		if m == nil {
			if len(b.rooms) >= b.cfg.MaxRooms {
				return nil, fmt.Errorf("%w (%d rooms)", errTooManyRooms, b.cfg.MaxRooms)
			}
			m = media.NewMixer(media.MixerConfig{Logger: b.log.With("room", string(id)), MaxParties: b.cfg.MaxParties})
			b.rooms[id] = m
			go b.forget(id, m)
			b.log.Info("room opened", "room", string(id))
		}
		p, err := m.Join(s)
		if errors.Is(err, media.ErrRoomEnded) {
			delete(b.rooms, id)
			continue
		}
		return p, err
	}
	return nil, media.ErrRoomEnded
}

// forget removes room id from the table when its mixer ends.
func (b *Bridge) forget(id RoomID, m *media.Mixer) {
	<-m.Done()
	b.mu.Lock()
	if b.rooms[id] == m {
		delete(b.rooms, id)
	}
	b.mu.Unlock()
	st := m.Stats()
	b.log.Info("room closed", "room", string(id), "slots", st.Ticks, "late_slots", st.LateTicks, "max_late", st.MaxLate)
}

var errTooManyRooms = errors.New("conference: too many rooms")

// party is one leg in a room.
type party struct {
	b    *Bridge
	call event.CallID
	leg  event.LegID
	room RoomID
	peer string
	log  *slog.Logger
	dlg  *sipgo.DialogServerSession
	sess *media.Session
	mp   *media.Party // nil until joined

	// ack carries the ACK's SDP answer for a late-offer INVITE.
	ack chan []byte
	// reoffer is set while a re-INVITE without SDP waits for its ACK's answer.
	reoffer atomic.Bool
	// held is the last hold state reported, for LegHeld/LegResumed; guarded
	// by holdMu since re-INVITEs of one dialog can overlap.
	holdMu sync.Mutex
	held   bool

	ctx     context.Context
	cancel  context.CancelFunc
	byeOnce sync.Once
}

func (b *Bridge) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		b.onReinvite(req, tx)
		return
	}
	respond := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		res.To().Params.Add("tag", sip.GenerateTagN(10))
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		_ = tx.Respond(res)
	}
	id, ok := ParseRoom(req.Recipient.User)
	if !ok {
		respond(404, "Not Found")
		return
	}
	if b.stopping.Load() {
		respond(503, "Service Unavailable")
		return
	}
	b.wg.Add(1)
	b.live.Add(1)
	call := event.CallID(req.CallID().Value())
	if h := req.GetHeader("X-Tandem-Call-ID"); h != nil {
		call = event.CallID(h.Value())
	}
	log := b.log.With("call", string(call), "room", string(id))
	sess, err := media.NewSession(media.SessionConfig{LocalIP: b.ip, Logger: log, RTPTimeout: b.cfg.RTPTimeout})
	if err != nil {
		log.Error("media session", "error", err)
		b.release()
		respond(500, "Server Internal Error")
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
		sess.Close()
		b.release()
		log.Info("no common codec", "error", err)
		respond(488, "Not Acceptable Here", sip.NewHeader("Warning", `304 tandem "G.711 (PCMU or PCMA) required"`))
		return
	}
	// Join before answering, so that a full room is a 503 rather than a
	// dropped call. With a late offer the peer is not known yet: the room
	// neither mixes nor sends to the party until the ACK's answer.
	mp, err := b.join(id, sess)
	if err != nil {
		sess.Close()
		b.release()
		log.Info("party refused", "error", err)
		respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	dlg, err := b.dlgs.ReadInvite(req, tx)
	if err != nil {
		mp.Leave()
		sess.Close()
		b.release()
		respond(400, "Bad Request")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &party{b: b, call: call, leg: event.LegID(req.CallID().Value()), room: id, log: log, dlg: dlg, sess: sess, mp: mp,
		ack: make(chan []byte, 1), ctx: ctx, cancel: cancel, peer: req.Source()}
	if f := req.From(); f != nil {
		p.peer = f.Address.String()
	}
	// Register before the 200 goes out, so its ACK finds the party.
	b.parties.Store(dlg.ID, p)
	res := sip.NewResponseFromRequest(dlg.InviteRequest, 200, "OK", sdpOut)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := dlg.WriteResponse(res); err != nil {
		log.Info("party not confirmed", "error", err)
		p.finish("no ACK: " + err.Error())
		return
	}
	if late {
		select {
		case answer := <-p.ack:
			if err := sess.SetAnswer(answer); err != nil {
				log.Info("bad SDP answer in ACK", "error", err)
				p.hangup("bad SDP answer")
				p.finish("bad SDP answer")
				return
			}
		case <-ctx.Done(): // the bridge is stopping
			p.finish("bridge stopping")
			return
		case <-time.After(sip.T1 * 64):
			p.hangup("no SDP answer")
			p.finish("no SDP answer")
			return
		}
	}
	p.holdMu.Lock()
	p.held = sess.Remote().OnHold()
	p.holdMu.Unlock()
	log.Info("party joined", "codec", sess.Remote().Codec, "room_size", b.RoomSize(id))
	b.emit(p, event.LegAnswered, "joined room "+string(id))
	go p.watch()
}

func (b *Bridge) release() {
	b.live.Add(-1)
	b.wg.Done()
}

func (b *Bridge) emit(p *party, k event.Kind, reason string) {
	b.events.Emit(event.Event{Time: time.Now(), Kind: k, Call: p.call, Leg: p.leg, Side: "conference", Peer: p.peer, Reason: reason})
}

func (b *Bridge) lookup(req *sip.Request) *party {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	if v, ok := b.parties.Load(id); ok {
		return v.(*party)
	}
	return nil
}

func (b *Bridge) onAck(req *sip.Request, tx sip.ServerTransaction) {
	p := b.lookup(req)
	if p == nil {
		return
	}
	if body := req.Body(); len(body) > 0 {
		if p.reoffer.CompareAndSwap(true, false) {
			// The answer to the offer of a re-INVITE without SDP.
			if err := p.sess.SetAnswer(body); err != nil {
				p.log.Info("bad SDP answer in re-INVITE's ACK", "error", err)
			} else {
				p.holdChanged()
			}
		} else {
			select {
			case p.ack <- body:
			default:
			}
		}
	}
	_ = p.dlg.ReadAck(req, tx)
}

func (b *Bridge) onBye(req *sip.Request, tx sip.ServerTransaction) {
	p := b.lookup(req)
	if p == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = p.dlg.ReadBye(req, tx)
	p.byeOnce.Do(func() {}) // the party hung up: we must not send BYE
	p.log.Info("party hung up")
	p.cancel()
}

// onReinvite applies a new offer: the party's media moved (a 3PCC
// re-INVITE from the call server), put on or taken off hold; or, without
// SDP, offers and takes the answer from the ACK.
func (b *Bridge) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	p := b.lookup(req)
	if p == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	var body []byte
	var err error
	if len(req.Body()) == 0 {
		p.reoffer.Store(true)
		body, err = p.sess.Offer(media.SendRecv)
	} else {
		body, err = p.sess.Answer(req.Body())
	}
	if err != nil {
		p.reoffer.Store(false)
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `304 tandem "G.711 (PCMU or PCMA) required"`))
		_ = tx.Respond(res)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&b.contact))
	_ = tx.Respond(res)
	if len(req.Body()) > 0 {
		r := p.sess.Remote()
		p.log.Info("party re-INVITE", "addr", r.Addr, "codec", r.Codec, "direction", r.Direction)
		p.holdChanged()
	}
}

// holdChanged emits LegHeld or LegResumed when the hold state changed.
func (p *party) holdChanged() {
	now := p.sess.Remote().OnHold()
	p.holdMu.Lock()
	was := p.held
	p.held = now
	p.holdMu.Unlock()
	switch {
	case now && !was:
		p.b.emit(p, event.LegHeld, "room "+string(p.room))
	case !now && was:
		p.b.emit(p, event.LegResumed, "room "+string(p.room))
	}
}

// watch ends the party when its dialog ends (BYE, bridge stop) or its media
// does (RTP timeout).
func (p *party) watch() {
	evs := p.sess.Events()
	for {
		select {
		case <-p.ctx.Done():
			p.finish("hung up")
			return
		case ev, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			if ev.Kind == media.EventRTPTimeout {
				p.hangup("rtp timeout")
				p.finish("rtp timeout")
				return
			}
			// Keys and RTCP BYE do nothing in a room: a re-INVITE may
			// bring the party's stream back after an RTCP BYE.
		}
	}
}

// hangup sends BYE unless the party already hung up, and ends it.
func (p *party) hangup(why string) {
	p.byeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.dlg.Bye(ctx); err != nil {
			p.log.Debug("BYE failed", "error", err)
		}
		p.log.Info("bridge hung up", "why", why)
	})
	p.cancel()
}

// finish takes the party out of its room and releases it; called once, by
// whoever ends it.
func (p *party) finish(why string) {
	p.cancel()
	p.mp.Leave()
	p.sess.Close()
	p.b.parties.Delete(p.dlg.ID)
	_ = p.dlg.Close()
	p.b.emit(p, event.LegEnded, "room "+string(p.room)+": "+why)
	p.log.Info("party left", "why", why, "stats", p.mp.Stats())
	p.b.release()
}
