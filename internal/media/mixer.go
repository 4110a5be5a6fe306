package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// ErrSessionInUse is returned by Join for a session that is closed or
	// in a room already.
	ErrSessionInUse = errors.New("media: mixer: session closed or in a room already")
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
// A party's session runs as any session does, with its own send, receive
// and RTCP goroutines; the room is attached to it by a hook (see audioHook)
// that hands the room what the peer says, decoded by the session's receive
// path, and gives the session's send path the party's mix to send in place
// of silence. So latching, keys, recording, prompts, sent DTMF, hold, RTCP
// and the inactivity timer are the session's own, in a room or not.
//
// Threading: one goroutine per room (the room goroutine) owns the clock of
// the mix and the member list; it is started by the first Join and ends
// when the last party leaves (Done is closed then). Two buffers per party
// carry its audio across goroutines: in, from its receive goroutine to the
// room (a jitter buffer against the network), and out, from the room to its
// send goroutine (the two clocks tick at the same rate but in their own
// phase). Join, Leave and Close may be called from any goroutine.
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
	ticks atomic.Uint64
	late  lateness
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
	hook audioHook // attached to sess from Join until the room removes the party
	in   jitterBuffer
	out  jitterBuffer
	// leaving is set by Leave; the room goroutine removes the party at its
	// next slot and then closes gone.
	leaving atomic.Bool
	gone    chan struct{}

	// Owned by the room goroutine.
	voice [FrameSamples]int16 // this slot's frame of the party's voice
	talks bool                // voice holds the party's voice this slot

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
	// Missed counts slots in which the party's session found no mix ready
	// (the room goroutine was late, or its clock and the session's crossed)
	// and sent silence instead; after the first, the room keeps one more
	// frame ready for it.
	Missed uint64
}

// Session returns the party's media session, for Play (an announcement or
// music to this party alone, replacing the mix while it plays), SendDTMF,
// Record (what the party says), Events and Stats.
func (p *Party) Session() *Session { return p.sess }

// Stats returns the party's counters.
func (p *Party) Stats() PartyStats {
	return PartyStats{MixedIn: p.mixedIn.Load(), Concealed: p.concealed.Load(), Dropped: p.in.dropped.Load(),
		Missed: p.out.underruns.Load()}
}

// Join adds s to the room, starting s if it was not started. s has
// negotiated its peer (Answer, or Offer and SetAnswer) or does so later (a
// late offer): until then it is neither mixed in nor sent anything. From
// then on the room's mix is what the party hears when no
// prompt plays or key is sent, and what it says is mixed for the others;
// s.Play, s.SendDTMF, s.Record and s.Events work as on any session. The
// caller keeps ownership of s: after Leave (or when the room ends) it closes
// it. Closing s without Leave takes the party out of the room as well.
//
// Hold is read from s's negotiated directions at each slot, so a re-INVITE
// applied with s.Answer takes effect at the next 20 ms: a party whose peer
// does not send (sendonly is the peer holding us with its own music,
// recvonly a listener such as a supervisor's silent monitor, inactive, or
// c=0.0.0.0) is not mixed in, and a party that does not want to receive
// is sent nothing (by its session, as on hold anywhere).
func (m *Mixer) Join(s *Session) (*Party, error) {
	p := newParty(m, s)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended || m.closing.Load() {
		return nil, ErrRoomEnded
	}
	if m.count >= m.max {
		return nil, fmt.Errorf("%w (%d parties)", ErrRoomFull, m.max)
	}
	if !s.attach(&p.hook) {
		return nil, ErrSessionInUse
	}
	// The session is the caller's: Close (or the ctx it was started with)
	// ends it, not the room.
	s.Start(context.Background())
	m.count++
	m.joins <- p
	if !m.started {
		m.started = true
		go m.run()
	}
	return p, nil
}

func newParty(m *Mixer, s *Session) *Party {
	p := &Party{m: m, sess: s, gone: make(chan struct{})}
	p.in.init(jbStart, jbStart, jbMax)
	p.out.init(outStart, outMaxStart, outMax)
	p.hook = audioHook{sink: p.said, source: p.hears}
	return p
}

// said is the party's audio sink: what its peer says, from its receive
// goroutine.
func (p *Party) said(gap int, pcm []int16) { p.in.write(gap, pcm) }

// hears is the party's frame source: its mix, to its send goroutine.
func (p *Party) hears(frame *[FrameSamples]int16) bool { return p.out.read(frame) }

// Leave takes the party out of the room and returns once it is out (within
// one slot): its session sends silence (or its own prompts) again, and what
// it says goes to no one else. The session stays open; the caller closes
// it. Leave is safe to call more than once and after the room ended.
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
	return MixerStats{Ticks: m.ticks.Load(), LateTicks: m.late.count.Load(),
		MaxLate: time.Duration(m.late.worst.Load()), Parties: m.Len()}
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
	mix     [FrameSamples]int16 // one party's N-1 mix
}

// run is the room goroutine. It paces slots on an absolute clock, as a
// Session's send goroutine does (see slotClock). The parties' sessions
// send on clocks of their own, at the same rate; each party's out buffer
// takes up the difference of phase.
func (m *Mixer) run() {
	r := &room{parties: make([]*Party, 0, m.max)}
	c := newSlotClock()
	defer c.stop()
	for {
		slot, now := c.next()
		if !m.members(r) {
			return
		}
		m.late.note(slot, now)
		r.mixSlot()
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
		if !closing && !p.leaving.Load() && p.sess.attached(&p.hook) {
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
		p.sess.detach(&p.hook) // the session goes back to its own silence
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

// mixSlot does one slot: every party's frame in, each party's N-1 mix out
// to its session. Work is bounded: N frames read, N×160 additions and N
// frames written, with no allocation; the sessions encode and send.
func (r *room) mixSlot() {
	r.sum = [FrameSamples]int32{}
	for _, p := range r.parties {
		p.talks = false
		if !speaks(p.sess.Remote()) {
			// Not mixed in, but what it sends still drains, so that when
			// it comes off hold it is heard from its latest audio.
			p.in.skip()
			continue
		}
		if !p.in.read(&p.voice) {
			p.concealed.Add(1)
			continue
		}
		p.talks = true
		p.mixedIn.Add(1)
		for j, v := range p.voice {
			r.sum[j] += int32(v)
		}
	}
	for _, p := range r.parties {
		// Written even for a party that is sent nothing (on hold, or its
		// prompt playing): its session drains the buffer every slot, so
		// what it hears next is this slot's mix, not a stale one.
		if p.talks {
			minusOwn(&r.mix, &r.sum, &p.voice)
		} else {
			clip(&r.mix, &r.sum)
		}
		p.out.write(0, r.mix[:])
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

// Sizes of the out buffer, from the room goroutine to a party's send
// goroutine. Both tick every 20 ms of the same clock, so one frame is
// enough; only when their phases are so close that wake-up jitter swaps
// their order (seen as an underrun) does the buffer keep a second frame.
const (
	outStart    = FrameSamples
	outMaxStart = 2 * FrameSamples
	outMax      = 3 * FrameSamples
)

// jitterBuffer carries a party's audio from one goroutine (write) to
// another (read, skip) that runs on a clock of its own: what the party says,
// from its receive goroutine to the room goroutine (in), and what it hears,
// from the room goroutine to its send goroutine (out). mu guards the ring
// and its positions.
type jitterBuffer struct {
	mu      sync.Mutex
	ring    [jbCap]int16
	r, n    int  // read position and samples held
	playing bool // playout started; cleared by an underrun
	// Depths in samples, set by init: see there.
	start, maxStart, limit int
	dropped, underruns     atomic.Uint64
}

// init sets the depths, in samples: playout starts once start is held,
// each underrun raises start by a frame up to maxStart, and past limit the
// oldest samples are dropped down to start.
func (b *jitterBuffer) init(start, maxStart, limit int) {
	b.start, b.maxStart, b.limit = start, maxStart, limit
}

// write appends gap samples of silence, then pcm.
func (b *jitterBuffer) write(gap int, pcm []int16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gap > jbMaxGap || !b.playing && b.n == 0 {
		gap = 0
	}
	b.put(zeros[:gap])
	b.put(pcm)
}

// zeros is the silence write appends for a gap; read only.
var zeros [jbMaxGap]int16

// put appends x to the ring in at most two copies; when it is full the
// oldest samples go.
func (b *jitterBuffer) put(x []int16) {
	if len(x) >= jbCap { // only the newest jbCap samples can stay
		b.dropped.Add(uint64(b.n + len(x) - jbCap))
		x = x[len(x)-jbCap:]
		b.r, b.n = 0, 0
	}
	if over := b.n + len(x) - jbCap; over > 0 {
		b.r = (b.r + over) % jbCap
		b.n -= over
		b.dropped.Add(uint64(over))
	}
	w := (b.r + b.n) % jbCap
	k := copy(b.ring[w:], x)
	copy(b.ring[:], x[k:])
	b.n += len(x)
}

// read takes one frame. It returns false (silence this slot) before
// playout starts and on an underrun, which restarts the prebuffer.
func (b *jitterBuffer) read(dst *[FrameSamples]int16) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.playing {
		if b.n < b.start {
			return false
		}
		b.playing = true
	}
	if b.n < FrameSamples {
		b.playing = false
		b.underruns.Add(1)
		b.start = min(b.start+FrameSamples, b.maxStart)
		return false
	}
	if b.n > b.limit {
		// Audio piled up (a burst after a stall, a fast clock): drop the
		// oldest down to the prebuffer so the delay stays small.
		drop := b.n - b.start
		b.r = (b.r + drop) % jbCap
		b.n -= drop
		b.dropped.Add(uint64(drop))
	}
	k := copy(dst[:], b.ring[b.r:])
	copy(dst[k:], b.ring[:])
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
