package media

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// tonePeer is the far end of one party: a UDP socket that says a sine tone
// in its codec every 20 ms and keeps what it hears, decoded.
type tonePeer struct {
	t     *testing.T
	conn  *net.UDPConn
	codec Codec
	freq  float64

	mu      sync.Mutex // guards heard, packets and silent
	heard   []int16
	packets int
	silent  bool // stop sending (the party goes quiet)

	quit chan struct{}
	wg   sync.WaitGroup
}

func newTonePeer(t *testing.T, codec Codec, freq float64) *tonePeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := &tonePeer{t: t, conn: c, codec: codec, freq: freq, quit: make(chan struct{})}
	t.Cleanup(p.stop)
	return p
}

// offer is the peer's SDP offer with only its codec.
func (p *tonePeer) offer(dir Direction) []byte {
	p.t.Helper()
	b, err := Offer(Local{Addr: p.conn.LocalAddr().(*net.UDPAddr).AddrPort(), SessionID: 7, Version: 1,
		Codecs: []Codec{p.codec}, Direction: dir})
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// party makes a session for this peer, negotiated from its offer.
func (p *tonePeer) party(t *testing.T) *Session {
	t.Helper()
	s := newSession(t, SessionConfig{})
	if _, err := s.Answer(p.offer(SendRecv)); err != nil {
		t.Fatal(err)
	}
	return s
}

// start sends the tone to the session's address and reads what comes back.
// Both loops end at stop; the sender is paced by a ticker, which is what a
// phone does (its own clock, not the room's).
func (p *tonePeer) start(to netip.AddrPort) {
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(FrameDuration)
		defer tick.Stop()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.codec.PT, SSRC: uint32(p.freq)}}
		var pcm [FrameSamples]int16
		var payload [FrameSamples]byte
		buf := make([]byte, 1500)
		start := time.Now()
		for n := 0; ; n++ {
			// Frame n is due at start + n×20 ms; a late tick (a loaded
			// test machine) sends the frames due at once, as a phone's
			// clock would have produced them.
			for time.Since(start) < time.Duration(n)*FrameDuration {
				select {
				case <-p.quit:
					return
				case <-tick.C:
				}
			}
			p.mu.Lock()
			silent := p.silent
			p.mu.Unlock()
			if silent {
				continue
			}
			for i := range pcm {
				pcm[i] = int16(6000 * math.Sin(2*math.Pi*p.freq*float64(n*FrameSamples+i)/SampleRate))
			}
			if p.codec.Law == ALaw {
				EncodeALaw(payload[:], pcm[:])
			} else {
				EncodeULaw(payload[:], pcm[:])
			}
			pkt.SequenceNumber++
			pkt.Timestamp += FrameSamples
			pkt.Payload = payload[:]
			m, _ := pkt.MarshalTo(buf)
			_, _ = p.conn.WriteToUDPAddrPort(buf[:m], to)
		}
	}()
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		pcm := make([]int16, 1500)
		for {
			n, err := p.conn.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != p.codec.PT {
				continue
			}
			var k int
			if p.codec.Law == ALaw {
				k = DecodeALaw(pcm, pkt.Payload)
			} else {
				k = DecodeULaw(pcm, pkt.Payload)
			}
			p.mu.Lock()
			p.heard = append(p.heard, pcm[:k]...)
			p.packets++
			p.mu.Unlock()
		}
	}()
}

func (p *tonePeer) stop() {
	select {
	case <-p.quit:
		return
	default:
	}
	close(p.quit)
	p.conn.Close()
	p.wg.Wait()
}

func (p *tonePeer) setSilent(v bool) {
	p.mu.Lock()
	p.silent = v
	p.mu.Unlock()
}

// mark is the position in what the peer heard, to take what follows.
func (p *tonePeer) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.heard)
}

func (p *tonePeer) received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.packets
}

// since returns what the peer heard after mark i, skipping the first skip
// samples (the mix settling after a change).
func (p *tonePeer) since(i, skip int) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i+skip >= len(p.heard) {
		return nil
	}
	return append([]int16(nil), p.heard[i+skip:]...)
}

// waitHeard waits until the peer heard n more samples after mark i.
func (p *tonePeer) waitHeard(t *testing.T, i, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.mark() < i+n {
		if time.Now().After(deadline) {
			t.Fatalf("peer %.0f Hz heard %d samples of %d in 5 s", p.freq, p.mark()-i, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// level is the amplitude of the freq component of x (Goertzel): a sine of
// amplitude A gives about A.
func level(x []int16, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(x))
}

// hears checks that x holds each of want at a clear level and none of
// notWant: the others' tones are at about 6000, G.711 noise far below.
func hears(t *testing.T, who string, x []int16, want, notWant []float64) {
	t.Helper()
	if len(x) < 1600 {
		t.Fatalf("%s heard only %d samples", who, len(x))
	}
	for _, f := range want {
		if l := level(x, f); l < 3000 {
			t.Errorf("%s: %.0f Hz at level %.0f, want it heard (about 6000)", who, f, l)
		}
	}
	for _, f := range notWant {
		if l := level(x, f); l > 300 {
			t.Errorf("%s: %.0f Hz at level %.0f, want it absent", who, f, l)
		}
	}
}

func join(t *testing.T, m *Mixer, s *Session) *Party {
	t.Helper()
	p, err := m.Join(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// inRoom opens a room, joins a session for each peer to it and starts the
// peers talking.
func inRoom(t *testing.T, peers ...*tonePeer) (*Mixer, []*Session, []*Party) {
	t.Helper()
	m := NewMixer(MixerConfig{})
	t.Cleanup(m.Close) // at once if the test ended the room
	ss := make([]*Session, len(peers))
	ps := make([]*Party, len(peers))
	for i, peer := range peers {
		ss[i] = peer.party(t)
		ps[i] = join(t, m, ss[i])
		peer.start(ss[i].LocalAddr())
	}
	return m, ss, ps
}

// TestMixerEachHearsTheOthers: three parties, two in PCMU and one in PCMA,
// each saying its own tone; each hears the other two tones and not its own.
func TestMixerEachHearsTheOthers(t *testing.T) {
	freqs := []float64{440, 1000, 1700}
	codecs := []Codec{PCMU, PCMA, PCMU}
	peers := make([]*tonePeer, 3)
	for i := range peers {
		peers[i] = newTonePeer(t, codecs[i], freqs[i])
	}
	m, _, _ := inRoom(t, peers...)
	marks := make([]int, 3)
	time.Sleep(300 * time.Millisecond) // let every party's buffer start
	for i, p := range peers {
		marks[i] = p.mark()
	}
	for i, p := range peers {
		p.waitHeard(t, marks[i], 8000)
	}
	for i, p := range peers {
		var others []float64
		for j, f := range freqs {
			if j != i {
				others = append(others, f)
			}
		}
		hears(t, codecs[i].Name()+" party", p.since(marks[i], 0), others, []float64{freqs[i]})
	}
	if st := m.Stats(); st.Ticks == 0 || st.Parties != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestMixerJoinLeave: A and B talk; C joins mid-stream and is heard; B
// leaves and is no longer heard; when the last leaves the room ends and
// does not reopen.
func TestMixerJoinLeave(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	b := newTonePeer(t, PCMA, 1000)
	m, _, ps := inRoom(t, a, b)
	pa, pb := ps[0], ps[1]
	a.waitHeard(t, 0, 4000)
	i := a.mark()
	a.waitHeard(t, i, 4000)
	hears(t, "A with B", a.since(i, 0), []float64{1000}, []float64{440, 1700})

	// C's session was started before it joins (a caller who heard the
	// IVR first): the room takes it as it is.
	c := newTonePeer(t, PCMU, 1700)
	sc := c.party(t)
	sc.Start(t.Context())
	pc := join(t, m, sc)
	c.start(sc.LocalAddr())
	i = a.mark()
	a.waitHeard(t, i, 6000)
	hears(t, "A after C joined", a.since(i, 1600), []float64{1000, 1700}, []float64{440})
	j := c.mark()
	c.waitHeard(t, j, 6000)
	hears(t, "C", c.since(j, 1600), []float64{440, 1000}, []float64{1700})

	pb.Leave()
	i = a.mark()
	a.waitHeard(t, i, 6000)
	hears(t, "A after B left", a.since(i, 800), []float64{1700}, []float64{440, 1000})
	// Once it left, B's session is its own again: it sends its silence,
	// none of the room's voices, until the caller closes it.
	j = b.mark()
	b.waitHeard(t, j, 4000)
	hears(t, "B after it left", b.since(j, 0), nil, []float64{440, 1700})
	if m.Len() != 2 {
		t.Errorf("room has %d parties, want 2", m.Len())
	}

	pa.Leave()
	pc.Leave()
	select {
	case <-m.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("empty room did not end")
	}
	if _, err := m.Join(newTonePeer(t, PCMU, 300).party(t)); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("join after the end: %v, want ErrRoomEnded", err)
	}
	pa.Leave() // again, after the end: returns at once
}

// TestMixerSessionClosedInRoom: a session closed without Leave is out of
// the room at the next slot, and the room ends with the last one.
func TestMixerSessionClosedInRoom(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	b := newTonePeer(t, PCMA, 1000)
	m, ss, ps := inRoom(t, a, b)
	sa, sb, pb := ss[0], ss[1], ps[1]
	a.waitHeard(t, 0, 4000)
	sb.Close()
	deadline := time.Now().Add(2 * time.Second)
	for m.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("room has %d parties 2 s after a session closed, want 1", m.Len())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pb.Leave() // after the fact: returns at once
	i := a.mark()
	a.waitHeard(t, i, 4000)
	hears(t, "A after B closed", a.since(i, 800), nil, []float64{440, 1000})
	if _, err := m.Join(sb); !errors.Is(err, ErrSessionInUse) {
		t.Errorf("join of a closed session: %v, want ErrSessionInUse", err)
	}
	sa.Close()
	select {
	case <-m.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("room did not end when its last session closed")
	}
}

// TestMixerSilentPartyIsNoStall: a party that stops sending is silence to
// the others, who keep hearing each other without a gap.
func TestMixerSilentPartyIsNoStall(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	b := newTonePeer(t, PCMU, 1000)
	c := newTonePeer(t, PCMA, 1700)
	m, _, ps := inRoom(t, a, b, c)
	pc := ps[2]
	a.waitHeard(t, 0, 4000)
	c.setSilent(true)
	time.Sleep(100 * time.Millisecond)
	i := a.mark()
	ticks, concealed := m.Stats().Ticks, pc.Stats().Concealed
	a.waitHeard(t, i, 8000)
	hears(t, "A while C is silent", a.since(i, 0), []float64{1000}, []float64{440, 1700})
	// The room kept its clock without C's frames: every slot since counted
	// C as concealed (silence), none waited for it.
	dt, dc := m.Stats().Ticks-ticks, pc.Stats().Concealed-concealed
	if dt < 40 || dc < dt-1 {
		t.Errorf("while C was silent: %d slots, %d of them concealed for C", dt, dc)
	}
}

// TestMixerHold: a party whose peer holds the call (a=sendonly) is not
// mixed in and is sent nothing; off hold it is heard again.
func TestMixerHold(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	b := newTonePeer(t, PCMA, 1000)
	_, ss, _ := inRoom(t, a, b)
	sb := ss[1]
	a.waitHeard(t, 0, 4000)

	if _, err := sb.Answer(b.offer(SendOnly)); err != nil { // B holds
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	n := b.received()
	i := a.mark()
	a.waitHeard(t, i, 4000)
	hears(t, "A while B holds", a.since(i, 0), nil, []float64{1000})
	if got := b.received(); got > n+1 {
		t.Errorf("held party got %d packets", got-n)
	}

	if _, err := sb.Answer(b.offer(SendRecv)); err != nil { // B resumes
		t.Fatal(err)
	}
	i = a.mark()
	a.waitHeard(t, i, 6000)
	hears(t, "A after B resumed", a.since(i, 1600), []float64{1000}, []float64{440})
	j := b.mark()
	b.waitHeard(t, j, 6000)
	hears(t, "B after resuming", b.since(j, 800), []float64{440}, []float64{1000})
}

// TestMixerMove: a re-INVITE that moves a party's media (the call server's
// 3PCC move to another phone) points the room at the new peer: the new
// peer, in another codec, hears the room and is heard.
func TestMixerMove(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	old := newTonePeer(t, PCMU, 1000)
	_, ss, _ := inRoom(t, a, old)
	sb := ss[1]
	a.waitHeard(t, 0, 4000)

	moved := newTonePeer(t, PCMA, 1700)
	if _, err := sb.Answer(moved.offer(SendRecv)); err != nil {
		t.Fatal(err)
	}
	old.stop() // the old phone's stream ends with the move
	moved.start(sb.LocalAddr())
	i := a.mark()
	a.waitHeard(t, i, 6000)
	hears(t, "A after the move", a.since(i, 1600), []float64{1700}, []float64{440, 1000})
	moved.waitHeard(t, 0, 6000)
	hears(t, "the new peer", moved.since(0, 1600), []float64{440}, []float64{1700})
}

// TestMixerPlayToOneParty: a prompt played to one party replaces the mix
// for it alone.
func TestMixerPlayToOneParty(t *testing.T) {
	a := newTonePeer(t, PCMU, 440)
	b := newTonePeer(t, PCMU, 1000)
	_, ss, _ := inRoom(t, a, b)
	sa := ss[0]
	a.waitHeard(t, 0, 1600)
	i := a.mark()
	if _, err := sa.Play(t.Context(), PlayOptions{}, Tone("announce", 600*time.Millisecond, 6000, 2500)); err != nil {
		t.Fatal(err)
	}
	x := a.since(i, 0)
	hears(t, "A during the prompt", x, []float64{2500}, []float64{1000})
	j := b.mark()
	b.waitHeard(t, j, 1600)
	hears(t, "B", b.since(j, 0), []float64{440}, []float64{2500})
}

func TestMixerJoinErrors(t *testing.T) {
	m := NewMixer(MixerConfig{MaxParties: 1})
	t.Cleanup(m.Close)
	closed := newSession(t, SessionConfig{})
	closed.Close()
	if _, err := m.Join(closed); !errors.Is(err, ErrSessionInUse) {
		t.Errorf("closed session: %v", err)
	}
	s := newSession(t, SessionConfig{})
	join(t, m, s)
	if _, err := m.Join(s); !errors.Is(err, ErrRoomFull) {
		t.Errorf("second join into a room of 1: %v", err)
	}
	m2 := NewMixer(MixerConfig{})
	t.Cleanup(m2.Close)
	if _, err := m2.Join(s); !errors.Is(err, ErrSessionInUse) {
		t.Errorf("session in another room: %v", err)
	}
}

// TestMixClipping: the N-1 mix saturates at full scale instead of wrapping.
func TestMixClipping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		voices []int16 // one sample per party
		own    int     // the party whose mix is taken
		want   int16
	}{
		{"quiet sum", []int16{1000, 2000, 3000}, 0, 5000},
		{"own voice removed", []int16{30000, 5, 7}, 1, 30007},
		{"positive clip", []int16{0, 30000, 30000}, 0, 32767},
		{"negative clip", []int16{0, -30000, -30000}, 0, -32768},
		{"full scale both ways cancel", []int16{0, 32767, -32768}, 0, -1},
		{"four loud", []int16{20000, 20000, 20000, 20000}, 3, 32767},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sum [FrameSamples]int32
			var own, out [FrameSamples]int16
			for i, v := range tc.voices {
				for j := range sum {
					sum[j] += int32(v)
					if i == tc.own {
						own[j] = v
					}
				}
			}
			minusOwn(&out, &sum, &own)
			for j, v := range out {
				if v != tc.want {
					t.Fatalf("sample %d = %d, want %d", j, v, tc.want)
				}
			}
		})
	}
	var sum [FrameSamples]int32
	var out [FrameSamples]int16
	sum[0], sum[1] = 1<<20, -(1 << 20)
	clip(&out, &sum)
	if out[0] != 32767 || out[1] != -32768 {
		t.Errorf("clip: %d %d", out[0], out[1])
	}
}

// constFrame is a frame of samples all v, to follow frames through a buffer.
func constFrame(v int16) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

// TestJitterBuffer: playout waits for the prebuffer, an underrun is silence
// and restarts it, a pile-up is cut back, lost packets are filled.
func TestJitterBuffer(t *testing.T) {
	var b jitterBuffer
	b.init(jbStart, jbStart, jbMax)
	var dst [FrameSamples]int16
	b.write(0, constFrame(1))
	if b.read(&dst) {
		t.Fatal("played before the prebuffer filled")
	}
	b.write(0, constFrame(2))
	if !b.read(&dst) || dst[0] != 1 {
		t.Fatalf("first frame: %d", dst[0])
	}
	if !b.read(&dst) || dst[0] != 2 {
		t.Fatalf("second frame: %d", dst[0])
	}
	if b.read(&dst) {
		t.Fatal("read from an empty buffer")
	}
	// After the underrun it waits for the prebuffer again.
	b.write(0, constFrame(3))
	if b.read(&dst) {
		t.Fatal("played after an underrun before the prebuffer refilled")
	}
	// A lost packet (timestamp gap of one frame) is filled with silence.
	b.write(FrameSamples, constFrame(4))
	for _, want := range []int16{3, 0, 4} {
		if !b.read(&dst) || dst[0] != want {
			t.Fatalf("got %d, want %d", dst[0], want)
		}
	}
	// A burst of 7 frames is cut back to the prebuffer: the newest two play.
	b.skip()
	for v := range int16(7) {
		b.write(0, constFrame(10+v))
	}
	if !b.read(&dst) || dst[0] != 15 {
		t.Fatalf("after a burst got %d, want 15", dst[0])
	}
	if b.dropped.Load() != 5*FrameSamples {
		t.Errorf("dropped %d samples, want %d", b.dropped.Load(), 5*FrameSamples)
	}
	// Past its capacity (8 frames) the ring keeps the newest samples, the
	// copy wrapping round its end: with 22 held, 8 frames more push it out.
	b.skip()
	b.dropped.Store(0)
	for v := range int16(3) {
		b.write(0, constFrame(20+v))
	}
	for _, want := range []int16{20, 21} {
		if !b.read(&dst) || dst[0] != want {
			t.Fatalf("got %d, want %d", dst[0], want)
		}
	}
	var long []int16
	for v := range int16(8) {
		long = append(long, constFrame(23+v)...)
	}
	b.write(0, long)
	if got, want := b.dropped.Load(), uint64(FrameSamples); got != want {
		t.Errorf("dropped %d samples, want %d", got, want)
	}
	if b.n != jbCap {
		t.Fatalf("holds %d samples, want %d", b.n, jbCap)
	}
	for i := range b.n {
		if want := 23 + int16(i/FrameSamples); b.ring[(b.r+i)%jbCap] != want {
			t.Fatalf("sample %d = %d, want %d", i, b.ring[(b.r+i)%jbCap], want)
		}
	}
}

// TestOutBuffer: the buffer from the room to a session plays from one
// frame; when the two clocks' order swaps (two reads between writes) the
// party misses a slot once, and from then on one frame more is kept so the
// same swap costs nothing; a pile-up is cut back.
func TestOutBuffer(t *testing.T) {
	var b jitterBuffer
	b.init(outStart, outMaxStart, outMax)
	var dst [FrameSamples]int16
	steps := []struct {
		op   string // "w" writes frame v, "r" reads and wants v (0: wants nothing)
		v    int16
		miss uint64 // underruns after the step
	}{
		{"w", 1, 0}, {"r", 1, 0}, // plays from one frame
		{"w", 2, 0}, {"r", 2, 0},
		{"r", 0, 1},              // the reader came first: a miss
		{"w", 3, 1}, {"r", 0, 1}, // now it waits for two frames
		{"w", 4, 1}, {"r", 3, 1},
		{"r", 4, 1}, {"w", 5, 1}, {"w", 6, 1}, // the same swap again: no miss
		{"r", 5, 1}, {"w", 7, 1}, {"r", 6, 1},
		{"w", 8, 1}, {"w", 9, 1}, {"w", 10, 1}, // a burst: 4 frames held
		{"r", 9, 1}, // cut back to two, the newest two
		{"r", 10, 1},
	}
	for i, st := range steps {
		switch st.op {
		case "w":
			b.write(0, constFrame(st.v))
		case "r":
			ok := b.read(&dst)
			if st.v == 0 && ok || st.v != 0 && (!ok || dst[0] != st.v) {
				t.Fatalf("step %d: read %v %d, want %d", i, ok, dst[0], st.v)
			}
		}
		if got := b.underruns.Load(); got != st.miss {
			t.Fatalf("step %d: %d underruns, want %d", i, got, st.miss)
		}
	}
}
