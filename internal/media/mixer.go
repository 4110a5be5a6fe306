package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of the Mixer.
var (
	// ErrRoomEnded is returned by Join on a mixer whose last party left (or
	// that was closed): a room that ends is not reopened, the caller makes a
	// new Mixer.
	ErrRoomEnded = errors.New("media: mixer: room ended")
	// ErrRoomFull is returned by Join past MixerConfig.MaxParties.
	ErrRoomFull = errors.New("media: mixer: room full")
	// ErrSessionInUse is returned by Join for a session that was started
	// (it has its own send goroutine), closed, or is in a room already.
	ErrSessionInUse = errors.New("media: mixer: session already started or closed")
)

// DefaultMaxParties bounds a room when MixerConfig.MaxParties is 0: a
// contact-center conference is a caller and a few agents or supervisors,
// and the tick's work grows with the parties.
const DefaultMaxParties = 16

// MixerConfig configures one room.
type MixerConfig struct {
	// Logger receives the room's logs; add room=<id> with With before.
	Logger *slog.Logger
	// MaxParties bounds the parties in the room; 0 means DefaultMaxParties.
	MaxParties int
}

// Mixer is one conference room: the audio of N parties, each a Session
// negotiated with its peer, mixed every 20 ms. Each party hears the sum of
// the others (an N-1 mix: never its own voice), encoded in the codec it
// negotiated, so PCMU and PCMA parties share a room.
//
// Threading: one goroutine per room (the room goroutine) owns the clock,
// the member list and every party's send state; it is started by the first
// Join and ends when the last party leaves (Done is closed then). Each
// party's session keeps its receive and RTCP goroutines, which hand decoded
// audio to the room goroutine through the party's jitter buffer. Join,
// Leave and Close may be called from any goroutine.
type Mixer struct {
	log *slog.Logger
	max int

	// mu guards count, started and ended, so that a Join racing the last
	// Leave either joins the running room or sees ErrRoomEnded, never a
	// room that ends with it inside.
	mu      sync.Mutex
	count   int // parties joined and not yet removed by the room goroutine
	started bool
	ended   bool

	joins   chan *Party   // Join → room goroutine; capacity max, and count ≤ max, so never blocks
	closing atomic.Bool   // Close was called: the room goroutine removes everyone
	done    chan struct{} // closed by the room goroutine when it ends

	// Counters written by the room goroutine.
	ticks, lateTicks, maxLate atomic.Uint64
}

// MixerStats are counters of a room.
type MixerStats struct {
	Ticks     uint64        // 20 ms slots mixed
	LateTicks uint64        // slots mixed more than 5 ms after their time
	MaxLate   time.Duration // the worst lateness seen
	Parties   int           // parties in the room now
}

// NewMixer returns an empty room. Nothing runs until the first Join.
func NewMixer(cfg MixerConfig) *Mixer {
	m := &Mixer{log: cfg.Logger, max: cfg.MaxParties, done: make(chan struct{})}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.max <= 0 {
		m.max = DefaultMaxParties
	}
	m.joins = make(chan *Party, m.max)
	return m
}

// Party is one session's place in a room.
type Party struct {
	m    *Mixer
	sess *Session
	jb   jitterBuffer
	// leaving is set by Leave; the room goroutine removes the party at its
	// next slot and then closes gone.
	leaving atomic.Bool
	gone    chan struct{}

	// Owned by the room goroutine.
	st    *sender
	in    [FrameSamples]int16 // this slot's frame of the party's voice
	talks bool                // in holds the party's voice this slot

	// Counters: written by the room goroutine, read by Stats.
	mixedIn, concealed atomic.Uint64
}

// PartyStats are counters of one party.
type PartyStats struct {
	// MixedIn counts slots in which the party's voice was in the mix.
	MixedIn uint64
	// Concealed counts slots in which the party should have been heard but
	// no audio had arrived in time (loss, jitter, a key being sent): the
	// others heard silence from it, the room did not wait.
	Concealed uint64
	// Dropped counts samples thrown away because they arrived faster than
	// the room plays them (a burst, or a peer whose clock runs fast).
	Dropped uint64
}

// Session returns the party's media session, for Play (an announcement or
// music to this party alone, replacing the mix while it plays), SendDTMF,
// Record (what the party says), Events and Stats.
func (p *Party) Session() *Session { return p.sess }

// Stats returns the party's counters.
func (p *Party) Stats() PartyStats {
	return PartyStats{MixedIn: p.mixedIn.Load(), Concealed: p.concealed.Load(), Dropped: p.jb.dropped.Load()}
}

// Join adds s to the room. s must have negotiated its peer (Answer, or Offer
// and SetAnswer) and must not be started: the room takes the place of its
// send goroutine, and starts its receive and RTCP goroutines. From then on
// s.Play, s.SendDTMF and s.Record work as on a started session; the room's
// mix is what the party hears when no prompt plays. The caller keeps
// ownership of s: after Leave (or when the room ends) it closes it.
//
// Hold is read from s's negotiated directions at each slot, so a re-INVITE
// applied with s.Answer takes effect at the next 20 ms: a party whose peer
// does not send (sendonly is the peer holding us with its own music,
// recvonly a listener such as a supervisor's silent monitor, inactive, or
// c=0.0.0.0) is not mixed in, and a party that does not want to receive
// is sent nothing.
func (m *Mixer) Join(s *Session) (*Party, error) {
	p := &Party{m: m, sess: s, gone: make(chan struct{}), st: s.newSender()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended || m.closing.Load() {
		return nil, ErrRoomEnded
	}
	if m.count >= m.max {
		return nil, fmt.Errorf("%w (%d parties)", ErrRoomFull, m.max)
	}
	ran := false
	// startOnce is the session's own: a session that was started, or is
	// closing (Close runs startOnce first), refuses; a session that joins
	// can no longer be started, and Close waits for our goroutines.
	s.startOnce.Do(func() {
		select {
		case <-s.quit:
			return
		default:
		}
		ran = true
		s.started.Store(true)
		s.wg.Add(1)
		go s.mixRecvLoop(p)
		if s.rtcpConn != nil {
			s.wg.Add(1)
			go s.rtcpLoop()
		}
	})
	if !ran {
		return nil, ErrSessionInUse
	}
	m.count++
	m.joins <- p
	if !m.started {
		m.started = true
		go m.run()
	}
	return p, nil
}

// Leave takes the party out of the room and returns once the room no
// longer sends to it (within one slot). The session stays open; the caller
// closes it. Leave is safe to call more than once and after the room ended.
func (p *Party) Leave() {
	p.leaving.Store(true)
	select {
	case <-p.gone:
	case <-p.m.done:
	}
}

// Done is closed when the room ends: its last party left, or Close.
func (m *Mixer) Done() <-chan struct{} { return m.done }

// Len returns the number of parties in the room (joining ones included).
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// Stats returns the room's counters.
func (m *Mixer) Stats() MixerStats {
	return MixerStats{Ticks: m.ticks.Load(), LateTicks: m.lateTicks.Load(),
		MaxLate: time.Duration(m.maxLate.Load()), Parties: m.Len()}
}

// Close ends the room: every party leaves (their sessions stay open) and
// Close returns when the room goroutine has stopped.
func (m *Mixer) Close() {
	m.mu.Lock()
	m.closing.Store(true)
	if !m.started {
		// No goroutine to end it: end it here.
		m.started = true
		m.ended = true
		close(m.done)
	}
	m.mu.Unlock()
	<-m.done
}

// room is the state of the room goroutine, owned by it alone.
type room struct {
	parties []*Party            // capacity max: appending never allocates
	sum     [FrameSamples]int32 // Σ of the voices of this slot
	out     [FrameSamples]int16 // one party's N-1 mix
}

// run is the room goroutine. It paces slots on an absolute clock, as a
// Session's send goroutine does (see sendLoop): slot n is at start + n×20 ms
// and a stall skips slots instead of bursting them.
func (m *Mixer) run() {
	r := &room{parties: make([]*Party, 0, m.max)}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	for n := int64(0); ; n++ {
		slot := start.Add(time.Duration(n) * FrameDuration)
		if d := time.Until(slot); d > 0 {
			timer.Reset(d)
			<-timer.C
		}
		now := time.Now()
		if late := now.Sub(slot); late > maxCatchUp {
			n += int64(late / FrameDuration)
			slot = start.Add(time.Duration(n) * FrameDuration)
		}
		if !m.members(r) {
			return
		}
		if late := now.Sub(slot); late > 5*time.Millisecond {
			m.lateTicks.Add(1)
			if uint64(late) > m.maxLate.Load() {
				m.maxLate.Store(uint64(late))
			}
		}
		r.mix(slot, now)
		m.ticks.Add(1)
	}
}

// members applies joins and leaves. It returns false, having closed done,
// when the room is empty and no Join is pending: the room has ended.
func (m *Mixer) members(r *room) bool {
	for {
		select {
		case p := <-m.joins:
			r.parties = append(r.parties, p)
			continue
		default:
		}
		break
	}
	closing := m.closing.Load()
	for i := 0; i < len(r.parties); {
		p := r.parties[i]
		if !closing && !p.leaving.Load() && !p.sess.closing.Load() {
			i++
			continue
		}
		// Swap-remove; the order of parties does not matter to the mix.
		last := len(r.parties) - 1
		r.parties[i] = r.parties[last]
		r.parties[last] = nil
		r.parties = r.parties[:last]
		m.mu.Lock()
		m.count--
		m.mu.Unlock()
		if !p.sess.closing.Load() {
			p.sess.sendReport(p.st, true) // RTCP BYE: our stream to it ends
		}
		close(p.gone)
	}
	if len(r.parties) > 0 {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count > 0 && !closing {
		return true // a Join is on its way through m.joins
	}
	if !m.ended {
		m.ended = true
		close(m.done)
	}
	return false
}

// mix does one slot: every party's frame in, each party's N-1 mix out.
// Work is bounded: N frames read, N×160 additions, N encodings and N
// packets, with no allocation.
func (r *room) mix(slot, now time.Time) {
	r.sum = [FrameSamples]int32{}
	for _, p := range r.parties {
		rem := p.sess.peer.Load().remote
		p.talks = false
		if !speaks(rem) {
			// Not mixed in, but what it sends still drains, so that when
			// it comes off hold it is heard from its latest audio.
			p.jb.skip()
			continue
		}
		if !p.jb.read(&p.in) {
			p.concealed.Add(1)
			continue
		}
		p.talks = true
		p.mixedIn.Add(1)
		for j, v := range p.in {
			r.sum[j] += int32(v)
		}
	}
	for _, p := range r.parties {
		ps := p.sess.peer.Load()
		if ps.canSend() {
			if p.talks {
				minusOwn(&r.out, &r.sum, &p.in)
			} else {
				clip(&r.out, &r.sum)
			}
			law := ps.remote.Codec.Law
			if law == ALaw {
				EncodeALaw(p.st.silence[ALaw][:], r.out[:])
			} else {
				EncodeULaw(p.st.silence[ULaw][:], r.out[:])
			}
		}
		// The session's own slot logic sends the frame: the mix is in
		// st.silence[law], the frame its tick sends when no prompt or key
		// takes the slot, so prompts (Play), keys (SendDTMF), hold, the
		// RTP timestamp after a stall, RTCP reports and the inactivity
		// timer work as in a session that is not in a room.
		p.sess.sendSlot(p.st, slot, now)
	}
}

// speaks says whether a peer's audio belongs in the mix: it sends to us
// (sendrecv) and has not put us on hold.
func speaks(r Remote) bool { return r.Direction == SendRecv && r.Addr.IsValid() }

// minusOwn writes the mix without one party's voice, clipped to 16 bits.
func minusOwn(out *[FrameSamples]int16, sum *[FrameSamples]int32, own *[FrameSamples]int16) {
	for j := range out {
		out[j] = sat16(sum[j] - int32(own[j]))
	}
}

// clip writes the whole mix, clipped to 16 bits.
func clip(out *[FrameSamples]int16, sum *[FrameSamples]int32) {
	for j := range out {
		out[j] = sat16(sum[j])
	}
}

// sat16 saturates: loud voices summed clip at full scale instead of
// wrapping round to the opposite sign, which would be a loud crack.
func sat16(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// Jitter buffer sizes, in samples. The room plays a party's audio only once
// jbStart is buffered (20 ms of allowance for jitter beyond the frame being
// played), and keeps the delay under jbMax by dropping the oldest samples:
// a conference wants little delay more than it wants every sample.
const (
	jbCap   = 8 * FrameSamples
	jbStart = 2 * FrameSamples
	jbMax   = 5 * FrameSamples
	// jbMaxGap is the longest run of missing samples filled with silence
	// to keep the timing; a longer gap (a peer that stops sending in
	// silence, a key sent as events) starts afresh instead.
	jbMaxGap = 3 * FrameSamples
)

// jitterBuffer is a party's received audio between its receive goroutine
// (write) and the room goroutine (read, skip); mu guards the ring.
type jitterBuffer struct {
	mu      sync.Mutex
	ring    [jbCap]int16
	r, n    int  // read position and samples held
	playing bool // playout started; cleared by an underrun
	dropped atomic.Uint64
}

// write appends gap samples of silence, then pcm.
func (b *jitterBuffer) write(gap int, pcm []int16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gap > jbMaxGap || !b.playing && b.n == 0 {
		gap = 0
	}
	for range gap {
		b.push(0)
	}
	for _, v := range pcm {
		b.push(v)
	}
}

func (b *jitterBuffer) push(v int16) {
	if b.n == jbCap { // full: the oldest sample goes
		b.r = (b.r + 1) % jbCap
		b.n--
		b.dropped.Add(1)
	}
	b.ring[(b.r+b.n)%jbCap] = v
	b.n++
}

// read takes one frame. It returns false (the party is silent this slot)
// before playout starts and on an underrun, which restarts the prebuffer.
func (b *jitterBuffer) read(dst *[FrameSamples]int16) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.playing {
		if b.n < jbStart {
			return false
		}
		b.playing = true
	}
	if b.n < FrameSamples {
		b.playing = false
		return false
	}
	if b.n > jbMax {
		// Audio piled up (a burst after a stall, a fast clock): drop the
		// oldest down to the prebuffer so the delay stays small.
		drop := b.n - jbStart
		b.r = (b.r + drop) % jbCap
		b.n -= drop
		b.dropped.Add(uint64(drop))
	}
	for j := range dst {
		dst[j] = b.ring[(b.r+j)%jbCap]
	}
	b.r = (b.r + FrameSamples) % jbCap
	b.n -= FrameSamples
	return true
}

// skip empties the buffer (a party on hold).
func (b *jitterBuffer) skip() {
	b.mu.Lock()
	b.r, b.n, b.playing = 0, 0, false
	b.mu.Unlock()
}

// mixRecvLoop is the receive goroutine of a session in a room: recvLoop with
// the decoded audio going to the party's jitter buffer as well.
func (s *Session) mixRecvLoop(p *Party) {
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
			continue
		}
		s.mixRTP(p, rv, rv.buf[:n], from, time.Now())
	}
}

// mixRTP is handleRTP for a party: the same checks, latching, statistics,
// RFC 4733 and in-band keys and recording, and the audio to the jitter
// buffer. Keep the two in step.
func (s *Session) mixRTP(p *Party, rv *receiver, b []byte, from netip.AddrPort, now time.Time) {
	if err := rv.pkt.Unmarshal(b); err != nil || rv.pkt.Version != 2 {
		s.garbage.Add(1)
		return
	}
	ps := s.peer.Load()
	pt := int(rv.pkt.PayloadType)
	law, isAudio := Law(0), false
	for _, c := range ps.remote.Codecs {
		if int(c.PT) == pt {
			law, isAudio = c.Law, true
			break
		}
	}
	isEvent := pt == ps.remote.EventPT && ps.remote.EventPT >= 0
	if !isAudio && !isEvent {
		s.wrongPT.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if !ps.latched {
		// Symmetric RTP, as in handleRTP.
		np := *ps
		np.latched, np.source = true, from
		if ps.remote.Addr.IsValid() {
			np.sendTo = from
		}
		if !s.peer.CompareAndSwap(ps, &np) {
			return
		}
		if from != ps.remote.Addr {
			s.log.Info("media: latched to RTP source", "from", from, "sdp", ps.remote.Addr)
		}
	} else if from != ps.source {
		s.foreign.Add(1)
		return
	}
	s.lastRecv.Store(now.UnixNano())
	s.received.Add(1)
	if !s.track(rv, now, isAudio) {
		return
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
	gap := 0
	if rv.haveAud {
		if d := int32(rv.pkt.Timestamp - rv.lastTS - uint32(len(pcm))); d > 0 && d < SampleRate {
			gap = int(d)
		}
	}
	rv.lastTS, rv.haveAud = rv.pkt.Timestamp, true
	if !p.leaving.Load() {
		p.jb.write(gap, pcm)
	}
	if r := s.rec.Load(); r != nil {
		r.add(gap, pcm)
	}
	if s.cfg.InBand == InBandOn || s.cfg.InBand == InBandAuto && ps.remote.EventPT < 0 {
		if gap > 0 {
			rv.detector.Reset()
		}
		rv.detector.Process(pcm, func(d byte) { s.digit(d, SourceInBand, 0) })
	}
}
