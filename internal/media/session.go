package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// InBandMode says when the in-band (Goertzel) DTMF detector runs.
type InBandMode uint8

// In-band detection modes.
const (
	// InBandAuto runs the detector only when the peer did not negotiate
	// telephone-event: a peer that did sends RFC 4733 and may also leave the
	// tones in the audio, which would count each key twice.
	InBandAuto InBandMode = iota
	InBandOn
	InBandOff
)

// SessionConfig configures one RTP session (one call leg's audio).
type SessionConfig struct {
	// LocalIP is the address to bind the RTP/RTCP port pair on, ports chosen
	// by the OS. Ignored when Conn is set.
	LocalIP netip.Addr
	// AdvertiseIP is the address written in our SDP when LocalIP is a
	// wildcard or behind NAT; defaults to the bound address.
	AdvertiseIP netip.Addr
	// Conn and RTCPConn are sockets already bound by the caller (a port
	// range it manages). The session owns and closes them. RTCPConn may be
	// nil: then no RTCP is sent or read.
	Conn, RTCPConn *net.UDPConn
	// Logger receives the session's logs; add call=<id> with With before.
	Logger *slog.Logger
	// RTPTimeout is the media inactivity timer: EventRTPTimeout is sent when
	// no RTP arrives for this long while the peer is meant to be sending.
	// 0 disables it.
	RTPTimeout time.Duration
	// InBand selects in-band DTMF detection.
	InBand InBandMode
	// RTCPInterval is the time between reports; 0 means 5 s (RFC 3550).
	RTCPInterval time.Duration
	// CNAME for RTCP SDES; defaults to "tandem@<advertised address>".
	CNAME string
	// SRTP is when the media is protected (RFC 4568 SDES, see SRTPPolicy);
	// the zero value answers what the peer offers.
	SRTP SRTPPolicy
}

// EventKind is the kind of an Event.
type EventKind uint8

// Event kinds.
const (
	EventDTMF       EventKind = iota // a key was pressed
	EventRTPTimeout                  // no RTP for SessionConfig.RTPTimeout: the caller's side is gone
	EventBye                         // the peer sent RTCP BYE: its stream ended
)

func (k EventKind) String() string {
	return [...]string{"dtmf", "rtp-timeout", "rtcp-bye"}[k%3]
}

// DTMFSource says how a key reached us.
type DTMFSource uint8

// Sources of DTMF.
const (
	SourceRFC4733 DTMFSource = iota // telephone-event packets
	SourceInBand                    // tones in the audio, Goertzel detector
	SourceSIPInfo                   // SIP INFO, passed in by InjectDTMF
)

func (s DTMFSource) String() string {
	return [...]string{"rfc4733", "inband", "sip-info"}[s%3]
}

// Event is something the media stream tells the call: a key, or the end of
// the peer's stream.
type Event struct {
	Kind     EventKind
	Digit    byte // for EventDTMF: 0-9 * # A-D
	Source   DTMFSource
	Duration time.Duration // key duration when the source says (RFC 4733, SIP INFO)
	At       time.Time
}

// Stats are counters of a session, readable at any time.
type Stats struct {
	PacketsSent     uint64
	PacketsReceived uint64
	// LateSends counts packets sent more than 5 ms after their 20 ms slot;
	// MaxLate is the worst lateness seen.
	LateSends uint64
	MaxLate   time.Duration
	// Dropped packets by reason: not RTP, a payload type not negotiated, or
	// a source other than the peer's latched address.
	Garbage, WrongPT, Foreign uint64
	// From the receive side, RFC 3550 A.3 and A.8.
	Lost   int64
	Jitter time.Duration
	// EventsDropped counts events lost because nobody read Events.
	EventsDropped uint64
	// KeysDropped counts keys refused as a flood (more than keyRate a
	// second after a burst of keyBurst).
	KeysDropped uint64
	// SRTPFailed counts SRTP and SRTCP packets dropped because they failed
	// authentication or the replay check (RFC 3711 §3.3): forged, replayed,
	// or sent with a key we were not given.
	SRTPFailed uint64
}

// peerState is a snapshot of where and how to talk to the peer. It is
// replaced whole (never modified) so that both goroutines read it per packet
// without a lock; it changes only on UpdateRemote and when latching.
type peerState struct {
	remote  Remote
	local   Direction      // our direction: what we answered or offered
	sendTo  netip.AddrPort // SDP address, or the latched source
	source  netip.AddrPort // where the peer's packets come from, once latched
	latched bool
}

// canSend says whether we send RTP to the peer now.
func (p *peerState) canSend() bool {
	return p.sendTo.IsValid() && p.local.canSend() && (p.remote.Direction == SendRecv || p.remote.Direction == RecvOnly)
}

// Session is the audio of one call leg: an RTP stream to and from the peer,
// with prompts played into it, DTMF detected and sent, and recording.
//
// Threading: the send goroutine owns the RTP clock (sequence number,
// timestamp, pacing) and advances the current playback; the receive goroutine
// owns the receive statistics, the RFC 4733 state and the in-band detector;
// the RTCP goroutine reads reports. The API methods may be called from any
// goroutine; they hand work over through the atomics and channels below.
type Session struct {
	log      *slog.Logger
	cfg      SessionConfig
	conn     *net.UDPConn   // immutable after NewSession
	rtcpConn *net.UDPConn   // immutable; may be nil
	ssrc     uint32         // immutable, random (RFC 3550 section 8)
	localRTP netip.AddrPort // advertised RTP address, immutable
	sdpID    uint64         // o= session id, immutable

	// sdpMu guards sdpVersion, which must grow with each SDP we produce,
	// and the SRTP keys of ours below; held for a whole negotiation.
	sdpMu      sync.Mutex
	sdpVersion uint64
	// ours are our a=crypto lines, one key per suite, made when first
	// needed and kept for the dialog, so a peer re-offering (hold,
	// resume) goes on with the keys it has; a new key of the peer's (a
	// new party, moved here by the call server) gets new keys of ours.
	ours []Crypto
	// offered are the lines of our last offer, for SetAnswer.
	offered []Crypto
	// peerKey is the peer's key in use, to see it change.
	peerKey *CryptoKey

	peer atomic.Pointer[peerState] // replaced by UpdateRemote and the receive goroutine (latching, CAS)
	play atomic.Pointer[playback]  // set by Play, cleared by Play or the send goroutine when done
	rec  atomic.Pointer[recorder]  // set by Record; written to by the receive goroutine under recorder.mu

	dtmfOut chan *dtmfSend // SendDTMF → send goroutine

	// evMu guards evClosed and the close of events: producers (receive,
	// send and RTCP goroutines, InjectDTMF) hold it shared while sending.
	evMu     sync.RWMutex
	evClosed bool
	events   chan Event

	startOnce sync.Once
	started   atomic.Bool
	stopAfter func() bool // set by Start; unregisters the ctx hook
	closeOnce sync.Once
	quit      chan struct{} // closed by Close
	closing   atomic.Bool   // set by Close before quit is closed; the send goroutine polls it each slot
	wg        sync.WaitGroup

	// Counters: written by one goroutine each, read by Stats.
	sent, received                    atomic.Uint64
	late                              lateness // slots sent late
	garbage, wrongPT, foreign, evDrop atomic.Uint64
	srtpFailed                        atomic.Uint64
	// keysDropped counts keys refused by keyBucket.
	keysDropped atomic.Uint64
	// keyBucket rate-limits keys from every source; it has its own lock
	// because keys come from the receive goroutine and from InjectDTMF.
	keyBucket tokenBucket
	lastRecv  atomic.Int64 // unix nanoseconds of the last RTP packet from the peer
	rx        rxStats      // receive statistics, see rxStats

	// From RTCP received (RTCP goroutine → send goroutine for the next report).
	lastSR     atomic.Uint32 // LSR of the last SR received
	lastSRTime atomic.Int64  // when it arrived, unix ns
	rtcpTo     atomic.Pointer[netip.AddrPort]

	// hook connects the audio to other audio in the process (a conference
	// room); set by attach, cleared by detach and Close, read once per
	// packet by the receive goroutine and once per slot by the send one.
	hook atomic.Pointer[audioHook]
}

// audioHook connects a session's audio to other audio in the process (a
// conference room: see Mixer) through the session's own receive and send
// paths, so that latching, statistics, keys, recording, prompts, sent DTMF,
// hold, RTCP and the inactivity timer work as on any session.
type audioHook struct {
	// sink gets the peer's audio, decoded, on the receive goroutine after
	// the recorder: gap samples were missing before pcm (loss, or the peer
	// sending a key as events instead of audio). It must not block, and
	// must not keep pcm, which the next packet overwrites.
	sink func(gap int, pcm []int16)
	// source fills the next 20 ms frame, on the send goroutine. It is asked
	// once a slot whatever the slot sends (a prompt or a key may take it,
	// the peer may hold), so that a source with a clock of its own stays in
	// step; its frame is sent in place of silence when nothing else takes
	// the slot. false means it has nothing: silence is sent.
	source func(frame *[FrameSamples]int16) bool
}

// attach connects h to the session. It fails when a hook is attached
// already or the session is closing.
func (s *Session) attach(h *audioHook) bool {
	if !s.hook.CompareAndSwap(nil, h) {
		return false
	}
	// Close sets closing before it detaches: either it detaches h, or we
	// see closing here and take h back.
	if s.closing.Load() {
		s.hook.CompareAndSwap(h, nil)
		return false
	}
	return true
}

// detach disconnects h if it is the hook attached; the paths go back to
// silence and to the recorder alone at their next slot or packet.
func (s *Session) detach(h *audioHook) { s.hook.CompareAndSwap(h, nil) }

// attached reports whether h is the hook connected now: false once detached
// or the session closed.
func (s *Session) attached(h *audioHook) bool { return s.hook.Load() == h }

// rxStats are the receive-side counters of RFC 3550 appendix A, written only
// by the receive goroutine and read (atomically) by the send goroutine when it
// builds a report.
type rxStats struct {
	ssrc     atomic.Uint32
	baseSeq  atomic.Uint32
	maxSeq   atomic.Uint32 // extended (cycles << 16 | seq)
	received atomic.Uint32
	jitter   atomic.Uint32 // in timestamp units, ×16 as RFC 3550 A.8 keeps it
}

// NewSession binds (or adopts) the RTP and RTCP sockets. Nothing is sent until
// Start; call Answer (or Offer and SetAnswer) to learn the peer first.
func NewSession(cfg SessionConfig) (*Session, error) {
	s := &Session{
		cfg:     cfg,
		log:     cfg.Logger,
		dtmfOut: make(chan *dtmfSend, 16),
		events:  make(chan Event, 64),
		quit:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.RTCPInterval <= 0 {
		s.cfg.RTCPInterval = 5 * time.Second
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("media: session: random: %w", err)
	}
	s.ssrc = binary.BigEndian.Uint32(rnd[0:])
	s.sdpID = binary.BigEndian.Uint64(rnd[4:]) >> 2 // keep it positive for peers that parse it signed
	s.conn, s.rtcpConn = cfg.Conn, cfg.RTCPConn
	if s.conn == nil {
		ip := cfg.LocalIP
		if !ip.IsValid() {
			return nil, errors.New("media: session: LocalIP or Conn must be set")
		}
		var err error
		s.conn, s.rtcpConn, err = bindPair(ip)
		if err != nil {
			return nil, err
		}
	}
	bound := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	adv := cfg.AdvertiseIP
	if !adv.IsValid() {
		adv = bound.Addr().Unmap()
	}
	s.localRTP = netip.AddrPortFrom(adv, bound.Port())
	if s.cfg.CNAME == "" {
		s.cfg.CNAME = "tandem@" + adv.String()
	}
	s.peer.Store(&peerState{local: SendRecv, remote: Remote{EventPT: -1, Direction: SendRecv}})
	s.lastRecv.Store(time.Now().UnixNano())
	return s, nil
}

// bindPair binds an even RTP port and the next odd one for RTCP (RFC 3550
// section 11), letting the OS pick. Bounded: gives up after 64 tries.
func bindPair(ip netip.Addr) (*net.UDPConn, *net.UDPConn, error) {
	var lastErr error
	for range 64 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, nil, fmt.Errorf("media: session: bind %s: %w", ip, err)
		}
		port := c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
		if port%2 != 0 || port == 65535 {
			c.Close()
			continue
		}
		r, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port+1)))
		if err != nil {
			lastErr = err
			c.Close()
			continue
		}
		return c, r, nil
	}
	return nil, nil, fmt.Errorf("media: session: no free RTP/RTCP port pair on %s: %v", ip, lastErr)
}

// LocalAddr returns the RTP address we advertise.
func (s *Session) LocalAddr() netip.AddrPort { return s.localRTP }

// Remote returns what is known of the peer now.
func (s *Session) Remote() Remote { return s.peer.Load().remote }

// localLocked returns the SDP parameters of our side, with the next
// version. sdpMu is held.
func (s *Session) localLocked(dir Direction) Local {
	s.sdpVersion++
	return Local{Addr: s.localRTP, SessionID: s.sdpID, Version: s.sdpVersion, Direction: dir, SRTP: s.cfg.SRTP}
}

// keepOurs notes our line of a negotiation as our key of its suite.
// sdpMu is held.
func (s *Session) keepOurs(c Crypto) {
	for i := range s.ours {
		if s.ours[i].Suite == c.Suite {
			s.ours[i] = c
			return
		}
	}
	s.ours = append(s.ours, c)
}

// Answer negotiates the peer's SDP offer (from an INVITE or re-INVITE),
// applies it and returns our answer for the 200 OK. On error nothing changes
// and the SIP side should answer 488 (see ErrNoCommonCodec, ErrNoCrypto).
func (s *Session) Answer(offer []byte) ([]byte, error) {
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	ans, r, err := Answer(offer, s.localWith(SendRecv, s.ours))
	if err != nil {
		return nil, err
	}
	if r.srtp != nil && s.peerKey != nil && !sameKey(*s.peerKey, r.srtp.recv[0]) && len(s.ours) > 0 {
		// A new key of the peer's is a new stream (often a new party, the
		// call server having moved the media): it starts its rollover
		// counter at 0, so ours must start afresh too, with a new key
		// (RFC 3711 §3.3.1, RFC 4568 §7.1.4).
		if ans, r, err = Answer(offer, s.localWith(SendRecv, nil)); err != nil {
			return nil, err
		}
		s.ours = nil
	}
	s.noteKeys(r)
	s.UpdateRemote(r, r.Direction.reverse())
	return ans, nil
}

// localWith is localLocked with our a=crypto lines.
func (s *Session) localWith(dir Direction, crypto []Crypto) Local {
	l := s.localLocked(dir)
	l.Crypto = crypto
	return l
}

// noteKeys keeps the keys a negotiation settled on. sdpMu is held.
func (s *Session) noteKeys(r Remote) {
	if r.srtp == nil {
		return
	}
	k := r.srtp.recv[0]
	s.peerKey = &k
	s.keepOurs(Crypto{Tag: r.Crypto.Tag, Suite: r.srtp.suite.name, Keys: []CryptoKey{r.srtp.send}})
}

// Offer returns an SDP offer for a late-offer INVITE (no SDP in it: we offer
// in the 200 OK and the peer answers in the ACK) or a re-INVITE we send.
// dir is SendRecv, or SendOnly to put the peer on hold. It carries our
// a=crypto lines unless SRTP is off (see Offer).
func (s *Session) Offer(dir Direction) ([]byte, error) {
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	var lines []Crypto
	for i, suite := range offerSuites { // our keys of the suites offered, tags 1...
		for _, c := range s.ours {
			if c.Suite == suite {
				c.Tag = i + 1
				lines = append(lines, c)
			}
		}
	}
	if len(lines) < len(offerSuites) {
		lines = nil // some suite has no key yet: make a set
	}
	lines, err := OfferCrypto(s.cfg.SRTP, lines)
	if err != nil {
		return nil, err
	}
	for _, c := range lines {
		s.keepOurs(c)
	}
	s.offered = lines
	l := s.localWith(dir, lines)
	for { // CAS: the receive goroutine may latch meanwhile
		p := s.peer.Load()
		np := *p
		np.local = dir
		if s.peer.CompareAndSwap(p, &np) {
			break
		}
	}
	return Offer(l)
}

// SetAnswer applies the peer's answer to our last Offer.
func (s *Session) SetAnswer(answer []byte) error {
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	r, err := ParseAnswer(answer, Local{SRTP: s.cfg.SRTP, Crypto: s.offered})
	if err != nil {
		return err
	}
	s.noteKeys(r)
	s.UpdateRemote(r, s.peer.Load().local)
	return nil
}

// UpdateRemote points the session at a (new) peer stream: after a re-INVITE
// moved the media, or put it on or off hold. local is our direction. The
// latch is reset: the next packets from the peer decide where we send.
func (s *Session) UpdateRemote(r Remote, local Direction) {
	old := s.peer.Load()
	s.peer.Store(&peerState{remote: r, local: local, sendTo: r.Addr})
	if r.RTCPAddr.IsValid() {
		a := r.RTCPAddr
		s.rtcpTo.Store(&a)
	}
	suite := "none"
	if r.srtp != nil {
		suite = r.srtp.suite.name
	}
	s.log.Debug("media: remote updated", "addr", r.Addr, "codec", r.Codec, "telephone-event", r.EventPT,
		"direction", r.Direction, "hold", r.OnHold(), "srtp", suite, "was", old.remote.Addr)
}

// Start starts the send, receive and RTCP goroutines. The session stops when
// ctx ends or Close is called.
func (s *Session) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		select {
		case <-s.quit:
			return
		default:
		}
		s.started.Store(true)
		s.wg.Add(2)
		go s.sendLoop(s.newSender())
		go s.recvLoop()
		if s.rtcpConn != nil {
			s.wg.Add(1)
			go s.rtcpLoop()
		}
		// Unregistered by Close, so a long-lived ctx does not keep closed
		// sessions reachable.
		s.stopAfter = context.AfterFunc(ctx, func() { s.Close() })
	})
}

// Events returns the channel of DTMF keys and end-of-stream events. It is
// closed by Close. Keys that barge in a prompt are delivered here too, so a
// collector sees the whole input; a key that ends a Record is not.
func (s *Session) Events() <-chan Event { return s.events }

// emit delivers an event without ever blocking the media goroutines: when
// nobody reads, events are counted as dropped.
func (s *Session) emit(ev Event) {
	s.evMu.RLock()
	defer s.evMu.RUnlock()
	if s.evClosed {
		return
	}
	select {
	case s.events <- ev:
	default:
		if s.evDrop.Add(1) == 1 { // once per session: a stuck reader must not flood the log
			s.log.Warn("media: event dropped, nobody reads Events", "kind", ev.Kind, "digit", string(rune(ev.Digit)))
		}
	}
}

// digit routes a detected key: to the playback it barges in, to the
// recording it ends, and otherwise (and also after barge-in) to Events.
func (s *Session) digit(d byte, src DTMFSource, dur time.Duration) {
	now := time.Now()
	if !s.keyBucket.take(now) {
		// A flood of keys (a broken or hostile peer) is dropped rather than
		// driving the application: people do not press 20 keys a second.
		if s.keysDropped.Add(1) == 1 {
			s.log.Warn("media: DTMF flood, keys dropped", "source", src)
		}
		return
	}
	s.log.Debug("media: dtmf", "digit", string(rune(d)), "source", src)
	if r := s.rec.Load(); r != nil && r.opts.DTMFTerm && r.stop(StopDTMF, d) {
		return
	}
	if p := s.play.Load(); p != nil && p.bargein {
		select {
		case p.barge <- d:
		default:
		}
	}
	s.emit(Event{Kind: EventDTMF, Digit: d, Source: src, Duration: dur, At: now})
}

// InjectDTMF reports a key received by signalling (SIP INFO, parsed with
// ParseDTMFInfo) through the same path as keys from the media.
func (s *Session) InjectDTMF(d byte, dur time.Duration) error {
	ev, ok := DigitEvent(d)
	if !ok {
		return fmt.Errorf("media: inject %q: %w", d, ErrBadDigit)
	}
	d, _ = EventDigit(ev) // 'a' → 'A'
	s.digit(d, SourceSIPInfo, dur)
	return nil
}

// Close stops the session, sends RTCP BYE, closes the sockets and the Events
// channel, and waits for its goroutines. It is safe to call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		// Wait for a Start in progress, and make any later Start a no-op.
		s.startOnce.Do(func() {})
		s.closing.Store(true)
		s.hook.Store(nil)
		close(s.quit)
		if s.stopAfter != nil {
			s.stopAfter()
		}
		// Wake the readers; the sockets stay open until the send goroutine
		// has sent its BYE on its way out.
		past := time.Unix(1, 0)
		s.conn.SetReadDeadline(past)
		if s.rtcpConn != nil {
			s.rtcpConn.SetReadDeadline(past)
		}
		s.wg.Wait()
		s.conn.Close()
		if s.rtcpConn != nil {
			s.rtcpConn.Close()
		}
		s.evMu.Lock()
		s.evClosed = true
		close(s.events)
		s.evMu.Unlock()
	})
	return nil
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	st := Stats{
		PacketsSent:     s.sent.Load(),
		PacketsReceived: s.received.Load(),
		LateSends:       s.late.count.Load(),
		MaxLate:         time.Duration(s.late.worst.Load()),
		Garbage:         s.garbage.Load(),
		WrongPT:         s.wrongPT.Load(),
		Foreign:         s.foreign.Load(),
		EventsDropped:   s.evDrop.Load(),
		KeysDropped:     s.keysDropped.Load(),
		SRTPFailed:      s.srtpFailed.Load(),
		Jitter:          time.Duration(s.rx.jitter.Load()>>4) * time.Second / SampleRate,
	}
	if n := s.rx.received.Load(); n > 0 {
		st.Lost = int64(s.rx.maxSeq.Load()) - int64(s.rx.baseSeq.Load()) + 1 - int64(n)
	}
	return st
}

// ---- Playing ----

// PlayOptions controls one Play.
type PlayOptions struct {
	// BargeIn stops the prompts at the first key the caller presses.
	BargeIn bool
}

// PlayResult says how a Play ended.
type PlayResult struct {
	Completed bool          // every prompt played to its end
	Digit     byte          // the key that barged in, 0 if none
	Played    time.Duration // audio sent before the end
}

// playback is one Play in progress. prompts and bargein are immutable; pos
// fields are owned by the send goroutine.
type playback struct {
	prompts []*Prompt
	bargein bool
	barge   chan byte     // receive goroutine → Play: a key barged in (cap 1)
	done    chan struct{} // closed by the send goroutine after the last frame
	stopped atomic.Bool   // set by Play when it gives up (barge-in, ctx): the sender drops it
	frames  atomic.Int64  // frames sent, for PlayResult.Played
	marker  bool          // send goroutine: first frame not yet sent
	idx     int           // send goroutine: current prompt
	frame   int           // send goroutine: next frame of it
}

// next returns the next frame for law l, or nil at the end.
func (p *playback) next(l Law) []byte {
	for p.idx < len(p.prompts) {
		pr := p.prompts[p.idx]
		if p.frame < pr.Frames() {
			f := pr.Frame(l, p.frame)
			p.frame++
			p.frames.Add(1)
			return f
		}
		p.idx++
		p.frame = 0
	}
	return nil
}

// Play sends prompts to the peer one after the other and returns when they
// end, when a key barges in (opts.BargeIn), or when ctx ends (then the
// prompts stop at once and ctx's error is returned). Only one Play or Record
// runs at a time on a session.
func (s *Session) Play(ctx context.Context, opts PlayOptions, prompts ...*Prompt) (PlayResult, error) {
	if !s.started.Load() {
		return PlayResult{}, ErrNotStarted
	}
	if s.rec.Load() != nil {
		return PlayResult{}, ErrBusy
	}
	pb := &playback{prompts: prompts, bargein: opts.BargeIn, barge: make(chan byte, 1), done: make(chan struct{}), marker: true}
	if !s.play.CompareAndSwap(nil, pb) {
		return PlayResult{}, ErrBusy
	}
	giveUp := func() {
		pb.stopped.Store(true)
		s.play.CompareAndSwap(pb, nil)
	}
	played := func() time.Duration { return time.Duration(pb.frames.Load()) * FrameDuration }
	select {
	case <-pb.done:
		return PlayResult{Completed: true, Played: played()}, nil
	case d := <-pb.barge:
		giveUp()
		return PlayResult{Digit: d, Played: played()}, nil
	case <-ctx.Done():
		giveUp()
		return PlayResult{Played: played()}, ctx.Err()
	case <-s.quit:
		giveUp()
		return PlayResult{Played: played()}, ErrClosed
	}
}

// ---- Sending DTMF ----

// dtmfSend is one key to send; the send goroutine owns it once queued.
type dtmfSend struct {
	event    uint8
	samples  int // duration in timestamp units
	done     chan error
	sentEnds int
	elapsed  int
	ts       uint32
	started  bool
}

// SendDTMF sends key d as RFC 4733 telephone-events lasting dur (rounded to
// 20 ms, at least 40 ms): packets with the marker on the first, the same
// timestamp on all, and three end packets. When the peer did not negotiate
// telephone-event the key is played in-band as tones instead. It returns once
// the key has been sent.
func (s *Session) SendDTMF(ctx context.Context, d byte, dur time.Duration) error {
	ev, ok := DigitEvent(d)
	if !ok {
		return fmt.Errorf("media: send dtmf %q: %w", d, ErrBadDigit)
	}
	if !s.started.Load() {
		return ErrNotStarted
	}
	dur = max(dur, 40*time.Millisecond)
	dur = min(dur, 8*time.Second) // the 16-bit duration field holds 8.19 s
	if s.peer.Load().remote.EventPT < 0 {
		p, err := DTMFPrompt(string(d), dur, 60*time.Millisecond)
		if err != nil {
			return err
		}
		_, err = s.Play(ctx, PlayOptions{}, p)
		return err
	}
	frames := int((dur + FrameDuration - 1) / FrameDuration)
	req := &dtmfSend{event: ev, samples: frames * FrameSamples, done: make(chan error, 1)}
	select {
	case s.dtmfOut <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return ErrClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return ErrClosed
	}
}

// ---- The send goroutine ----

// sender is the state of the send goroutine, owned by it alone.
type sender struct {
	pkt rtp.Packet
	buf [1500]byte
	// srtp protects what is sent when the peer's snapshot has keys; cbuf
	// takes the protected packet (the payload, the auth tag and an MKI).
	srtp            srtpState
	cbuf            [1500 + 16 + 128]byte
	hdr             rtp.Header  // scratch for EncryptRTP
	rtcpHdr         rtcp.Header // scratch for EncryptRTCP
	srtcpBuf        [256 + 20 + 128]byte
	silence         [2][FrameSamples]byte // per law
	hookPCM         [FrameSamples]int16   // the hook's frame of this slot
	hookFrame       [FrameSamples]byte    // and encoded
	evBuf           [4]byte
	marker          bool // next audio packet starts a talkspurt
	dtmf            *dtmfSend
	gap             int // ticks of audio to send after a key before the next
	octets          uint32
	packets         uint32
	sentSinceReport bool
	// For the fraction lost of the next report (RFC 3550 A.3).
	expectedPrior, receivedPrior uint32
	rtcpBuf                      [256]byte
	// Pacing.
	n                     int64     // slots done
	lastSlot              time.Time // the previous slot's time
	reportAt, reportEvery int64     // slot of the next RTCP report, and the interval
	timeoutFired          bool
}

// newSender prepares the send state: random initial sequence number and
// timestamp (RFC 3550 section 5.1), silence frames, report schedule.
func (s *Session) newSender() *sender {
	st := &sender{marker: true}
	for l := range 2 {
		for i := range st.silence[l] {
			st.silence[l][i] = Law(l).silence()
		}
	}
	st.pkt.Header = rtp.Header{Version: 2, SSRC: s.ssrc}
	var seed [6]byte
	rand.Read(seed[:])
	st.pkt.SequenceNumber = binary.BigEndian.Uint16(seed[0:])
	st.pkt.Timestamp = binary.BigEndian.Uint32(seed[2:])
	st.reportEvery = max(int64(s.cfg.RTCPInterval/FrameDuration), 1)
	st.reportAt = int64(seed[5]) % st.reportEvery // spread the sessions' reports
	return st
}

// sendLoop is the session's send goroutine: one packet a slot of its
// clock, until Close.
func (s *Session) sendLoop(st *sender) {
	defer s.wg.Done()
	c := newSlotClock()
	defer c.stop()
	for {
		slot, now := c.next()
		if s.closing.Load() {
			s.sendReport(st, true)
			return
		}
		s.sendSlot(st, slot, now)
	}
}

// slotClock paces 20 ms slots on an absolute clock: slot n is at start +
// n×20 ms, and the timer is set to that instant each time. Sleeping 20 ms
// after each slot instead would add every wake-up delay to the next and
// the stream would drift slower than the peer's clock, filling its jitter
// buffer; on an absolute clock one late wake-up costs one late slot and
// the next is on time again. Owned by the goroutine it paces (a session's
// send goroutine, a room's).
type slotClock struct {
	timer *time.Timer
	start time.Time
	n     int64 // the next slot
}

func newSlotClock() *slotClock {
	return &slotClock{timer: time.NewTimer(time.Hour), start: time.Now()}
}

func (c *slotClock) stop() { c.timer.Stop() }

// next waits for the next slot and returns its time and the time it is
// done. After a stall (a paused VM, a CPU starved by other work) it does
// not burst the missed slots: it skips them, and returns the one due now.
func (c *slotClock) next() (slot, now time.Time) {
	slot = c.start.Add(time.Duration(c.n) * FrameDuration)
	if d := time.Until(slot); d > 0 {
		// A plain receive, not a select with quit: at thousands of
		// sessions the two-channel select was a tenth of the CPU. The
		// goroutine notices its end at the next slot, within 20 ms.
		c.timer.Reset(d)
		<-c.timer.C
	}
	now = time.Now()
	if late := now.Sub(slot); late > maxCatchUp {
		c.n += int64(late / FrameDuration)
		slot = c.start.Add(time.Duration(c.n) * FrameDuration)
	}
	c.n++
	return slot, now
}

// lateness counts slots done more than 5 ms after their time, and the
// worst lateness; written by the paced goroutine, read by Stats.
type lateness struct{ count, worst atomic.Uint64 }

func (l *lateness) note(slot, now time.Time) {
	if late := now.Sub(slot); late > 5*time.Millisecond {
		l.count.Add(1)
		if uint64(late) > l.worst.Load() {
			l.worst.Store(uint64(late))
		}
	}
}

// maxCatchUp is how late a slot may be and still be sent rather than skipped.
const maxCatchUp = 10 * FrameDuration

// sendSlot does the work of one 20 ms slot: lateness accounting, the packet,
// and every 50th slot the inactivity check, and the periodic RTCP report.
//
// A shared pacer (a few goroutines each sending for many sessions from 1 ms
// buckets) was tried and measured: it saves about a fifth of the CPU when
// the machine has room, but under CPU pressure Go's scheduler shares time
// per goroutine, so a few pacer goroutines among thousands of receive
// goroutines starve and every session they carry goes late at once (95 %
// late at 2,000 calls against 48 % with a goroutine per session, same box).
func (s *Session) sendSlot(st *sender, slot, now time.Time) {
	s.late.note(slot, now)
	// Slots skipped after a stall still advance the timestamp, keeping it in
	// step with real time, and the next packet starts a talkspurt.
	if !st.lastSlot.IsZero() {
		if frames := int64((slot.Sub(st.lastSlot) + FrameDuration/2) / FrameDuration); frames > 1 {
			st.pkt.Timestamp += uint32(frames-1) * FrameSamples
			st.marker = true
		}
	}
	st.lastSlot = slot
	s.tick(st)
	if st.n%50 == 0 && s.cfg.RTPTimeout > 0 {
		st.timeoutFired = s.checkTimeout(now, st.timeoutFired)
	}
	if st.n >= st.reportAt {
		st.reportAt = st.n + st.reportEvery
		s.sendReport(st, false)
	}
	st.n++
}

// tick sends what belongs in one 20 ms slot: a key being sent, else the
// playing prompt, else the hook's frame, else silence.
func (s *Session) tick(st *sender) {
	p := s.peer.Load()
	send := p.canSend()
	law := p.remote.Codec.Law
	hooked := false
	if h := s.hook.Load(); h != nil {
		hooked = h.source(&st.hookPCM) // every slot: see audioHook.source
	}
	// A key being sent takes the slot.
	if st.dtmf == nil && st.gap == 0 {
		select {
		case d := <-s.dtmfOut:
			if p.remote.EventPT < 0 || !send {
				d.done <- errors.New("media: send dtmf: peer does not take telephone-event now")
			} else {
				st.dtmf = d
			}
		default:
		}
	}
	if st.dtmf != nil && send {
		s.sendEvent(st, p)
		return
	}
	if st.gap > 0 {
		st.gap--
	}
	var payload []byte
	if pb := s.play.Load(); pb != nil {
		if pb.stopped.Load() {
			s.play.CompareAndSwap(pb, nil)
		} else if f := pb.next(law); f != nil {
			payload = f
			if pb.marker {
				pb.marker = false
				st.marker = true // a prompt starts a talkspurt
			}
		} else {
			s.play.CompareAndSwap(pb, nil)
			close(pb.done)
		}
	}
	if !send {
		// On hold (or no address yet): time goes on, nothing is sent, and
		// the first packet after is the start of a talkspurt.
		st.pkt.Timestamp += FrameSamples
		st.marker = true
		return
	}
	switch {
	case payload != nil:
	case hooked && law == ALaw:
		EncodeALaw(st.hookFrame[:], st.hookPCM[:])
		payload = st.hookFrame[:]
	case hooked:
		EncodeULaw(st.hookFrame[:], st.hookPCM[:])
		payload = st.hookFrame[:]
	default:
		payload = st.silence[law][:]
	}
	st.pkt.PayloadType = p.remote.Codec.PT
	st.pkt.Marker = st.marker
	st.pkt.Payload = payload
	if s.write(st, p) {
		st.marker = false
	}
	st.pkt.Timestamp += FrameSamples
}

// sendEvent sends the next packet of the key in progress (RFC 4733 section
// 2.5): all with the timestamp of the key's start, the duration growing by
// 20 ms, then the end packet three times.
func (s *Session) sendEvent(st *sender, p *peerState) {
	d := st.dtmf
	if !d.started {
		d.started = true
		d.ts = st.pkt.Timestamp
		st.pkt.Marker = true
	} else {
		st.pkt.Marker = false
	}
	end := false
	if d.elapsed < d.samples {
		d.elapsed += FrameSamples
	}
	if d.elapsed >= d.samples {
		end = true
		d.sentEnds++
	}
	ev := TelephoneEvent{Event: d.event, End: end, Volume: 10, Duration: uint16(min(d.elapsed, 0xFFFF))}
	ev.MarshalTo(st.evBuf[:])
	ts := st.pkt.Timestamp
	st.pkt.Timestamp = d.ts
	st.pkt.PayloadType = uint8(p.remote.EventPT)
	st.pkt.Payload = st.evBuf[:]
	s.write(st, p)
	st.pkt.Timestamp = ts + FrameSamples // the audio clock runs on under the event
	if d.sentEnds >= 3 {
		st.dtmf = nil
		st.gap = 3 // 60 ms of audio between keys
		st.marker = true
		d.done <- nil
	}
}

// write marshals the packet into the reused buffer, protects it when the
// stream is SRTP, and sends it to the peer of p. It never allocates
// (rtp.Packet.MarshalTo, pion's EncryptRTP into a buffer of ours,
// WriteToUDPAddrPort).
func (s *Session) write(st *sender, p *peerState) bool {
	n, err := st.pkt.MarshalTo(st.buf[:])
	if err != nil {
		return false
	}
	st.pkt.SequenceNumber++
	out := st.buf[:n]
	ctx, ok := st.srtp.forSend(p.remote.srtp)
	if !ok {
		return false // keys we cannot use: nothing goes out in the clear
	}
	if ctx != nil {
		if out, err = ctx.EncryptRTP(st.cbuf[:0], out, &st.hdr); err != nil {
			return false
		}
	}
	if _, err := s.conn.WriteToUDPAddrPort(out, p.sendTo); err != nil {
		// ICMP unreachable comes back as an error on the next write; the
		// peer may come back (re-INVITE), so keep going.
		return false
	}
	s.sent.Add(1)
	st.packets++
	st.octets += uint32(len(st.pkt.Payload))
	st.sentSinceReport = true
	return true
}

func (s *Session) checkTimeout(now time.Time, fired bool) bool {
	p := s.peer.Load()
	if !p.remote.Direction.canSend() || !p.local.canReceive() {
		return false // the peer is not meant to send: no timeout on hold
	}
	quiet := now.Sub(time.Unix(0, s.lastRecv.Load()))
	if quiet < s.cfg.RTPTimeout {
		return false
	}
	if !fired {
		s.log.Info("media: no RTP from peer", "for", quiet.Round(time.Millisecond))
		s.emit(Event{Kind: EventRTPTimeout, At: now})
	}
	return true
}

func (d Direction) canReceive() bool { return d == SendRecv || d == RecvOnly }

// sendReport sends an SR (or RR when we have not sent) with a report block
// about the peer's stream, to the peer's RTCP address; with BYE on close.
func (s *Session) sendReport(st *sender, bye bool) {
	if s.rtcpConn == nil {
		return
	}
	to := s.rtcpTo.Load()
	if to == nil {
		return
	}
	now := time.Now()
	var rb *reportBlock
	var block reportBlock
	if rcv := s.rx.received.Load(); rcv > 0 {
		maxSeq := s.rx.maxSeq.Load()
		expected := maxSeq - s.rx.baseSeq.Load() + 1
		expInt := expected - st.expectedPrior
		rcvInt := rcv - st.receivedPrior
		st.expectedPrior, st.receivedPrior = expected, rcv
		var frac uint8
		if lostInt := int64(expInt) - int64(rcvInt); expInt > 0 && lostInt > 0 {
			frac = uint8(lostInt << 8 / int64(expInt))
		}
		block = reportBlock{ssrc: s.rx.ssrc.Load(), fractionLost: frac,
			totalLost: int32(int64(expected) - int64(rcv)), highestSeq: maxSeq, jitter: s.rx.jitter.Load() >> 4}
		if lsr := s.lastSR.Load(); lsr != 0 {
			block.lsr = lsr
			block.dlsr = uint32(now.Sub(time.Unix(0, s.lastSRTime.Load())).Seconds() * 65536)
		}
		rb = &block
	}
	n := appendReport(st.rtcpBuf[:], s.ssrc, st.sentSinceReport, now, st.pkt.Timestamp, st.packets, st.octets, rb, s.cfg.CNAME, bye)
	st.sentSinceReport = false
	if n == 0 {
		return
	}
	out := st.rtcpBuf[:n]
	ctx, ok := st.srtp.forSend(s.peer.Load().remote.srtp)
	if !ok {
		return
	}
	if ctx != nil { // SRTCP (RFC 3711 §3.4), with the same keys as our RTP
		var err error
		if out, err = ctx.EncryptRTCP(st.srtcpBuf[:0], out, &st.rtcpHdr); err != nil {
			return
		}
	}
	s.rtcpConn.WriteToUDPAddrPort(out, *to)
}

// ---- The receive goroutine ----

// receiver is the state of the receive goroutine, owned by it alone.
type receiver struct {
	pkt      rtp.Packet
	buf      [1500]byte
	srtp     srtpState  // the peer's keys, when SRTP
	dec      [1500]byte // the decrypted packet
	hdr      rtp.Header // scratch for DecryptRTP
	pcm      [1500]int16
	events   eventReceiver
	detector *ToneDetector
	seen     bool   // a packet of the current SSRC arrived
	cycles   uint32 // sequence number wrap count << 16
	lastSeq  uint16
	lastTS   uint32 // timestamp of the last audio packet
	haveAud  bool
	transit  int64 // RFC 3550 A.8
	jitter   float64
	start    time.Time
}

func (s *Session) recvLoop() {
	defer s.wg.Done()
	rv := &receiver{detector: NewToneDetector(), start: time.Now()}
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(rv.buf[:])
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors surface here on some systems: not fatal
		}
		s.handleRTP(rv, rv.buf[:n], from, time.Now())
	}
}

// handleRTP processes one datagram. Garbage, unknown payload types and
// packets from other sources are counted and dropped.
//
// An SRTP stream's packets are authenticated and decrypted first: one that
// fails (forged, replayed, or from someone without the key) is dropped
// before it can latch the stream or count as the peer's.
func (s *Session) handleRTP(rv *receiver, b []byte, from netip.AddrPort, now time.Time) {
	p := s.peer.Load()
	ctx, ok := rv.srtp.forRecv(p.remote.srtp)
	if !ok {
		s.srtpFailed.Add(1)
		return
	}
	if ctx != nil {
		plain, err := ctx.DecryptRTP(rv.dec[:0], b, &rv.hdr)
		if err != nil {
			s.srtpFailed.Add(1)
			return
		}
		b = plain
	}
	if err := rv.pkt.Unmarshal(b); err != nil || rv.pkt.Version != 2 {
		s.garbage.Add(1)
		return
	}
	pt := int(rv.pkt.PayloadType)
	law, isAudio := Law(0), false
	for _, c := range p.remote.Codecs {
		if int(c.PT) == pt {
			law, isAudio = c.Law, true
			break
		}
	}
	isEvent := pt == p.remote.EventPT && p.remote.EventPT >= 0
	if !isAudio && !isEvent {
		s.wrongPT.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if !p.latched {
		// Symmetric RTP (RFC 4961): the peer may be behind NAT, so its
		// packets come from somewhere other than its SDP says; send there.
		// Latch once, to the first valid packet, so that a third party
		// cannot take the stream over later.
		np := *p
		np.latched, np.source = true, from
		if p.remote.Addr.IsValid() { // not while it holds us with c=0.0.0.0
			np.sendTo = from
		}
		if !s.peer.CompareAndSwap(p, &np) {
			return // UpdateRemote raced us: judge the next packet against the new peer
		}
		if from != p.remote.Addr {
			s.log.Info("media: latched to RTP source", "from", from, "sdp", p.remote.Addr)
		}
	} else if from != p.source {
		s.foreign.Add(1)
		return
	}
	s.lastRecv.Store(now.UnixNano())
	s.received.Add(1)
	if !s.track(rv, now, isAudio) {
		return // a late or duplicate packet
	}
	if isEvent {
		var ev TelephoneEvent
		if ev.Unmarshal(rv.pkt.Payload) == nil {
			rv.events.packet(rv.pkt.Timestamp, ev, func(d byte, e TelephoneEvent) {
				s.digit(d, SourceRFC4733, time.Duration(e.Duration)*time.Second/SampleRate)
			})
		}
		return
	}
	rv.events.audio(rv.pkt.Timestamp, func(d byte, e TelephoneEvent) {
		s.digit(d, SourceRFC4733, time.Duration(e.Duration)*time.Second/SampleRate)
	})
	payload := rv.pkt.Payload
	if len(payload) > len(rv.pcm) {
		payload = payload[:len(rv.pcm)]
	}
	var pcm []int16
	if law == ALaw {
		pcm = rv.pcm[:DecodeALaw(rv.pcm[:], payload)]
	} else {
		pcm = rv.pcm[:DecodeULaw(rv.pcm[:], payload)]
	}
	// Samples missing between this packet and the last (loss, or the peer
	// sending nothing while it sent a key) are silence to the recorder.
	gap := 0
	if rv.haveAud {
		if d := int32(rv.pkt.Timestamp - rv.lastTS - uint32(len(pcm))); d > 0 && d < SampleRate {
			gap = int(d)
		}
	}
	rv.lastTS, rv.haveAud = rv.pkt.Timestamp, true
	if r := s.rec.Load(); r != nil {
		r.add(gap, pcm)
	}
	if h := s.hook.Load(); h != nil {
		h.sink(gap, pcm)
	}
	if s.cfg.InBand == InBandOn || s.cfg.InBand == InBandAuto && p.remote.EventPT < 0 {
		if gap > 0 {
			rv.detector.Reset()
		}
		rv.detector.Process(pcm, func(d byte) { s.digit(d, SourceInBand, 0) })
	}
}

// track updates the RFC 3550 appendix A sequence and jitter statistics and
// reports whether the packet is new (not older than the highest seen).
func (s *Session) track(rv *receiver, now time.Time, audio bool) bool {
	seq := rv.pkt.SequenceNumber
	if !rv.seen || rv.pkt.SSRC != s.rx.ssrc.Load() {
		// A new source (first packet, or the peer restarted its stream).
		rv.seen, rv.cycles, rv.lastSeq, rv.haveAud, rv.transit = true, 0, seq, false, 0
		rv.jitter = 0
		rv.events = eventReceiver{}
		s.rx.ssrc.Store(rv.pkt.SSRC)
		s.rx.baseSeq.Store(uint32(seq))
		s.rx.maxSeq.Store(uint32(seq))
		s.rx.received.Store(1)
		s.rx.jitter.Store(0)
		return true
	}
	s.rx.received.Add(1)
	delta := int16(seq - rv.lastSeq)
	if delta <= 0 {
		return false
	}
	if seq < rv.lastSeq {
		rv.cycles += 1 << 16
	}
	rv.lastSeq = seq
	s.rx.maxSeq.Store(rv.cycles | uint32(seq))
	if audio {
		// Interarrival jitter in timestamp units (RFC 3550 A.8).
		arrival := int64(now.Sub(rv.start)) * SampleRate / int64(time.Second)
		transit := arrival - int64(rv.pkt.Timestamp)
		if rv.transit != 0 {
			d := math.Abs(float64(transit - rv.transit))
			rv.jitter += (d - rv.jitter) / 16
			s.rx.jitter.Store(uint32(rv.jitter * 16))
		}
		rv.transit = transit
	}
	return true
}

// ---- The RTCP goroutine ----

func (s *Session) rtcpLoop() {
	defer s.wg.Done()
	var buf, dec [1500]byte
	var st srtpState // the peer's keys for SRTCP, owned by this goroutine
	var hdr rtcp.Header
	latched := false
	for {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := buf[:n]
		ctx, ok := st.forRecv(s.peer.Load().remote.srtp)
		if !ok {
			s.srtpFailed.Add(1)
			continue
		}
		if ctx != nil {
			if pkt, err = ctx.DecryptRTCP(dec[:0], pkt, &hdr); err != nil {
				s.srtpFailed.Add(1)
				continue
			}
		}
		info, err := parseRTCP(pkt, s.ssrc)
		if err != nil {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if p := s.peer.Load(); p.latched && from.Addr() != p.source.Addr() {
			continue // not from the host our RTP goes to
		}
		if !latched {
			// RTCP is symmetric too: reports go where the peer's come from.
			latched = true
			s.rtcpTo.Store(&from)
		}
		if info.hasSR {
			s.lastSR.Store(info.lsr)
			s.lastSRTime.Store(time.Now().UnixNano())
		}
		if info.bye {
			s.log.Info("media: peer sent RTCP BYE")
			s.emit(Event{Kind: EventBye, At: time.Now()})
		}
	}
}

// Key flood limits: a person presses at most about 10 keys a second
// (RFC 4733 keys last at least 40 ms with a gap); a burst of keyBurst lets
// an auto-dialler's quick string through.
const (
	keyRate  = 12
	keyBurst = 24
)

// tokenBucket is a small token bucket for keys.
type tokenBucket struct {
	mu     sync.Mutex // guards tokens and last
	tokens float64
	last   time.Time
}

// take reports whether one more key may pass at now.
func (b *tokenBucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = keyBurst
	} else {
		b.tokens = min(keyBurst, b.tokens+now.Sub(b.last).Seconds()*keyRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
