package media

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

func newSession(t *testing.T, cfg SessionConfig) *Session {
	t.Helper()
	if !cfg.LocalIP.IsValid() && cfg.Conn == nil {
		cfg.LocalIP = loopback
	}
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect negotiates b's offer with a's answer, as a late-offer call would,
// and starts both.
func connect(t *testing.T, a, b *Session) {
	t.Helper()
	offer, err := b.Offer(SendRecv)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := a.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	a.Start(t.Context())
	b.Start(t.Context())
}

// waitEvents reads n events or fails at the deadline.
func waitEvents(t *testing.T, s *Session, n int, d time.Duration) []Event {
	t.Helper()
	var got []Event
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for len(got) < n {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("events closed after %v", got)
			}
			got = append(got, ev)
		case <-deadline.C:
			t.Fatalf("after %v: got %d events %v, want %d", d, len(got), got, n)
		}
	}
	return got
}

// noEvent checks that nothing more arrives within d.
func noEvent(t *testing.T, s *Session, d time.Duration) {
	t.Helper()
	select {
	case ev := <-s.Events():
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

func digits(evs []Event) string {
	var b []byte
	for _, e := range evs {
		b = append(b, e.Digit)
	}
	return string(b)
}

// onset returns the index of the first sample louder than level.
func onset(x []int16, level int16) int {
	for i, v := range x {
		if v > level || v < -level {
			return i
		}
	}
	return -1
}

func TestSessionPlayRecordEndToEnd(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	connect(t, a, b)
	src := speechLike(1.5, 7)
	prompt := NewPrompt("speech", src)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	recDone := make(chan Recording, 1)
	go func() {
		rec, err := b.Record(ctx, RecordOptions{MaxTime: 2500 * time.Millisecond, FinalSilence: 400 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		recDone <- rec
	}()
	// Record must be armed before the prompt starts; wait for it.
	for deadline := time.Now().Add(2 * time.Second); b.rec.Load() == nil; {
		if time.Now().After(deadline) {
			t.Fatal("recorder not armed")
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
		}
	}
	res, err := a.Play(ctx, PlayOptions{}, prompt)
	if err != nil || !res.Completed || res.Played != prompt.Duration() {
		t.Fatalf("play: %+v %v", res, err)
	}
	rec := <-recDone
	if rec.Reason != StopFinalSilence || !rec.Speech {
		t.Errorf("recording ended by %v (speech %v), want finalsilence", rec.Reason, rec.Speech)
	}
	i := onset(rec.Samples, 500)
	j := onset(src, 500)
	if i < 0 || j < 0 {
		t.Fatalf("no audio recorded (%d samples)", len(rec.Samples))
	}
	got := rec.Samples[i-j:]
	c, lag := bestNCC(src, got, 200)
	t.Logf("recorded %v, %d samples, correlation %.4f at lag %d; a %+v; b %+v", rec.Duration, len(rec.Samples), c, lag, a.Stats(), b.Stats())
	if c < 0.9 {
		t.Fatalf("recorded audio correlates %.3f with the source, want > 0.9", c)
	}
}

func TestSessionRFC4733Digits(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	connect(t, a, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, d := range []byte("15#*9") {
		if err := a.SendDTMF(ctx, d, 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	evs := waitEvents(t, b, 5, 3*time.Second)
	if got := digits(evs); got != "15#*9" {
		t.Fatalf("got %q", got)
	}
	for _, e := range evs {
		if e.Kind != EventDTMF || e.Source != SourceRFC4733 || e.Duration != 60*time.Millisecond {
			t.Errorf("event %+v", e)
		}
	}
	noEvent(t, b, 200*time.Millisecond) // end packets sent three times count once
	if err := a.SendDTMF(ctx, 'x', time.Second); !errors.Is(err, ErrBadDigit) {
		t.Fatalf("bad digit: %v", err)
	}
}

// Without telephone-event, keys go in-band both ways: SendDTMF plays tones
// and the Goertzel detector finds them in the decoded audio.
func TestSessionInBandDigits(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	offer := sdpLines("v=0", "o=b 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio "+itoa(int(b.LocalAddr().Port()))+" RTP/AVP 8")
	if _, err := a.Answer(offer); err != nil {
		t.Fatal(err)
	}
	b.UpdateRemote(Remote{Addr: a.LocalAddr(), Codec: PCMA, Codecs: []Codec{PCMA}, EventPT: -1}, SendRecv)
	a.Start(t.Context())
	b.Start(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p, err := DTMFPrompt("*07", 80*time.Millisecond, 80*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Play(ctx, PlayOptions{}, p); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(ctx, 'D', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	evs := waitEvents(t, b, 4, 3*time.Second)
	if got := digits(evs); got != "*07D" {
		t.Fatalf("got %q", got)
	}
	for _, e := range evs {
		if e.Source != SourceInBand {
			t.Errorf("event %+v", e)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSessionBargeIn(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	connect(t, a, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	long := Tone("long", 5*time.Second, 3000, 440)
	type result struct {
		r   PlayResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := a.Play(ctx, PlayOptions{BargeIn: true}, long)
		done <- result{r, err}
	}()
	if err := b.SendDTMF(ctx, '3', 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.r.Completed || r.r.Digit != '3' || r.r.Played >= long.Duration() {
			t.Fatalf("play result %+v %v", r.r, r.err)
		}
	case <-ctx.Done():
		t.Fatal("barge-in did not stop the prompt")
	}
	// The key is also an input for the collector.
	if evs := waitEvents(t, a, 1, time.Second); evs[0].Digit != '3' {
		t.Fatalf("events %v", evs)
	}
	// A prompt without barge-in plays to its end despite keys.
	go func() {
		r, err := a.Play(ctx, PlayOptions{}, Tone("short", 300*time.Millisecond, 3000, 440))
		done <- result{r, err}
	}()
	b.SendDTMF(ctx, '4', 40*time.Millisecond)
	if r := <-done; !r.r.Completed || r.err != nil {
		t.Fatalf("no-barge-in play %+v %v", r.r, r.err)
	}
}

// rawPeer is a plain UDP socket speaking RTP by hand, to check what a
// session sends on the wire and how it treats what it receives.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newRawPeer(t *testing.T) *rawPeer {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c}
}

func (p *rawPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// read returns the next RTP packet and its arrival time, failing after d.
func (p *rawPeer) read(d time.Duration) (rtp.Packet, time.Time) {
	p.t.Helper()
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("raw peer read: %v", err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("raw peer: not RTP: %v", err)
	}
	return pkt, time.Now()
}

// expectSilence checks that nothing arrives for d.
func (p *rawPeer) expectNothing(d time.Duration) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1500)
	if n, err := p.conn.Read(buf); err == nil {
		p.t.Fatalf("got %d bytes, expected nothing", n)
	}
}

func (p *rawPeer) send(to netip.AddrPort, pkt rtp.Packet) {
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

func TestSessionWireFormatAndPacing(t *testing.T) {
	peer := newRawPeer(t)
	s := newSession(t, SessionConfig{})
	s.UpdateRemote(Remote{Addr: peer.addr(), Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: 101}, SendRecv)
	s.Start(t.Context())
	first, t0 := peer.read(time.Second)
	if !first.Marker || first.PayloadType != 0 || len(first.Payload) != 160 || first.Payload[0] != ULawSilence {
		t.Fatalf("first packet %v", first.Header)
	}
	prev := first
	var last time.Time
	const n = 50
	for i := 1; i <= n; i++ {
		p, at := peer.read(time.Second)
		ok := p.SequenceNumber == prev.SequenceNumber+1 && p.SSRC == first.SSRC &&
			(p.Timestamp == prev.Timestamp+160 && !p.Marker ||
				// After a stall of the machine the sender skips slots:
				// the timestamp jumps by whole frames and the marker says so.
				p.Marker && (p.Timestamp-prev.Timestamp)%160 == 0)
		if !ok {
			t.Fatalf("packet %d: %v after %v", i, p.Header, prev.Header)
		}
		prev, last = p, at
	}
	// The RTP clock follows real time: an absolute clock does not drift
	// (sleeping 20 ms per packet would lose the wake-up delay each time).
	wall := last.Sub(t0)
	rtpTime := time.Duration(prev.Timestamp-first.Timestamp) * time.Second / SampleRate
	if d := wall - rtpTime; d > 60*time.Millisecond || d < -60*time.Millisecond || wall < 950*time.Millisecond {
		t.Errorf("%d packets: %v of wall time for %v of RTP time", n, wall, rtpTime)
	}
	// A key of 100 ms: marker on the first event packet, one timestamp,
	// durations 20-80 ms, then the end packet (100 ms) three times.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	go s.SendDTMF(ctx, '7', 100*time.Millisecond)
	var evs []rtp.Packet
	for len(evs) < 7 {
		p, _ := peer.read(time.Second)
		if p.PayloadType == 101 {
			evs = append(evs, p)
		} else if len(evs) > 0 {
			t.Fatalf("audio inside an event: %v", p.Header)
		}
	}
	var te TelephoneEvent
	for i, p := range evs {
		if err := te.Unmarshal(p.Payload); err != nil || te.Event != 7 {
			t.Fatalf("event packet %d: %v %+v", i, err, te)
		}
		if p.Marker != (i == 0) || p.Timestamp != evs[0].Timestamp {
			t.Fatalf("event packet %d header %v", i, p.Header)
		}
		wantEnd := i >= 4
		if te.End != wantEnd || te.Duration != uint16(160*min(i+1, 5)) {
			t.Fatalf("event packet %d: %+v", i, te)
		}
	}
	// Audio resumes, its timestamp in step with the time the key took.
	p, _ := peer.read(time.Second)
	if p.PayloadType != 0 || !p.Marker || p.Timestamp != evs[6].Timestamp+7*160 {
		t.Fatalf("after the key: %v (event ts %d)", p.Header, evs[6].Timestamp)
	}
}

func TestSessionSymmetricRTPAndForeignSources(t *testing.T) {
	peer, intruder := newRawPeer(t), newRawPeer(t)
	s := newSession(t, SessionConfig{})
	// The SDP names an address where nobody listens (a NATed peer's private
	// address, say); the peer's packets come from elsewhere.
	s.UpdateRemote(Remote{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: 101}, SendRecv)
	s.Start(t.Context())
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 99}, Payload: make([]byte, 160)}
	peer.send(s.LocalAddr(), pkt)
	if p, _ := peer.read(time.Second); p.SSRC == 99 {
		t.Fatal("echo?")
	}
	// Garbage, a wrong payload type and another source are all ignored.
	intruder.send(s.LocalAddr(), rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 5, SSRC: 7}, Payload: make([]byte, 160)})
	peer.conn.WriteToUDPAddrPort([]byte("garbage!"), s.LocalAddr())
	bad := pkt
	bad.PayloadType = 18
	peer.send(s.LocalAddr(), bad)
	intruder.expectNothing(100 * time.Millisecond) // still sending to the latched peer only
	peer.read(time.Second)
	st := s.Stats()
	if st.Foreign != 1 || st.Garbage != 1 || st.WrongPT != 1 || st.PacketsReceived != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSessionHoldAndResume(t *testing.T) {
	peer := newRawPeer(t)
	s := newSession(t, SessionConfig{})
	r := Remote{Addr: peer.addr(), Codec: PCMA, Codecs: []Codec{PCMA}, EventPT: -1}
	s.UpdateRemote(r, SendRecv)
	s.Start(t.Context())
	p, _ := peer.read(time.Second)
	if p.PayloadType != 8 || p.Payload[0] != ALawSilence {
		t.Fatalf("%v", p.Header)
	}
	// The peer's re-INVITE with a=sendonly: we stop sending entirely.
	hold := r
	hold.Direction = SendOnly
	s.UpdateRemote(hold, RecvOnly)
	for { // drain what was in flight
		peer.conn.SetReadDeadline(time.Now().Add(60 * time.Millisecond))
		if _, err := peer.conn.Read(make([]byte, 1500)); err != nil {
			break
		}
	}
	peer.expectNothing(200 * time.Millisecond)
	// Old-style hold, c=0.0.0.0: nothing sent, but what the peer sends
	// (music on hold, say) is still taken from it.
	s.UpdateRemote(Remote{Codec: PCMA, Codecs: []Codec{PCMA}, EventPT: -1}, SendRecv)
	for seq := range uint16(3) {
		peer.send(s.LocalAddr(), rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 3}, Payload: make([]byte, 160)})
	}
	peer.expectNothing(100 * time.Millisecond)
	if st := s.Stats(); st.Foreign != 0 || st.PacketsReceived != 3 {
		t.Fatalf("during hold: %+v", st)
	}
	s.UpdateRemote(r, SendRecv)
	p2, _ := peer.read(time.Second)
	if !p2.Marker || p2.Timestamp-p.Timestamp < 160*10 {
		t.Fatalf("after hold: %v, before: %v", p2.Header, p.Header)
	}
}

func TestSessionRTCPAndTimeout(t *testing.T) {
	peer := newRawPeer(t)
	rtcpPeer := newRawPeer(t)
	s := newSession(t, SessionConfig{RTCPInterval: 100 * time.Millisecond, RTPTimeout: 300 * time.Millisecond})
	s.UpdateRemote(Remote{Addr: peer.addr(), RTCPAddr: rtcpPeer.addr(), Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: 101}, SendRecv)
	s.Start(t.Context())
	buf := make([]byte, 1500)
	rtcpPeer.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var info rtcpInfo
	for !info.hasSR {
		n, err := rtcpPeer.conn.Read(buf)
		if err != nil {
			t.Fatalf("no SR: %v", err)
		}
		if info, err = parseRTCP(buf[:n], 0); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing comes from the peer: the inactivity timer fires.
	evs := waitEvents(t, s, 1, 2*time.Second)
	if evs[0].Kind != EventRTPTimeout {
		t.Fatalf("event %+v", evs[0])
	}
	// The peer says BYE.
	var bye [64]byte
	n := appendReport(bye[:], 1234, false, time.Now(), 0, 0, 0, nil, "peer", true)
	rtcpPeer.conn.WriteToUDPAddrPort(bye[:n], netip.AddrPortFrom(loopback, s.LocalAddr().Port()+1))
	if evs := waitEvents(t, s, 1, 2*time.Second); evs[0].Kind != EventBye {
		t.Fatalf("event %+v", evs[0])
	}
}

func TestSessionRecordTermination(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	connect(t, a, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// A key ends the recording and is not passed on as input.
	done := make(chan Recording, 1)
	go func() {
		rec, _ := b.Record(ctx, RecordOptions{MaxTime: 5 * time.Second, DTMFTerm: true, Beep: true})
		done <- rec
	}()
	// The beep reaches a, then a presses a key.
	p, err := a.Record(ctx, RecordOptions{MaxTime: 400 * time.Millisecond})
	if err != nil || p.Reason != StopMaxTime {
		t.Fatalf("%+v %v", p.Reason, err)
	}
	if c := goertzelLevel(p.Samples, 1000); c < 1000 {
		t.Errorf("no beep heard: 1 kHz level %.0f", c)
	}
	a.SendDTMF(ctx, '#', 60*time.Millisecond)
	rec := <-done
	if rec.Reason != StopDTMF || rec.Digit != '#' {
		t.Fatalf("recording ended by %v %q", rec.Reason, rec.Digit)
	}
	noEvent(t, b, 100*time.Millisecond)
	// Silence only: no input.
	rec, err = b.Record(ctx, RecordOptions{MaxTime: 5 * time.Second, NoInputTimeout: 300 * time.Millisecond, FinalSilence: 100 * time.Millisecond})
	if err != nil || rec.Reason != StopNoInput || rec.Speech {
		t.Fatalf("%v %v", rec.Reason, err)
	}
	// Max time, with the WAV written.
	path := t.TempDir() + "/r.wav"
	rec, err = b.Record(ctx, RecordOptions{MaxTime: 200 * time.Millisecond, Path: path})
	if err != nil || rec.Reason != StopMaxTime || rec.Path != path {
		t.Fatalf("%+v %v", rec.Reason, err)
	}
	back, _, err := ReadWAVFile(path)
	if err != nil || len(back) != len(rec.Samples) || len(back) < 1500 {
		t.Fatalf("wav back: %d samples, want %d: %v", len(back), len(rec.Samples), err)
	}
	// Cancelling the context ends it with the context's error.
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if _, err := b.Record(cctx, RecordOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// goertzelLevel returns the amplitude of freq in x.
func goertzelLevel(x []int16, freq float64) float64 {
	coef := 2 * cosine(freq)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coef*s1 - s2
		s2, s1 = s1, s
	}
	return gzAmp(s1*s1+s2*s2-coef*s1*s2) * gzWin / float64(len(x))
}

func TestSessionCloseEndsEverything(t *testing.T) {
	a, b := newSession(t, SessionConfig{}), newSession(t, SessionConfig{})
	connect(t, a, b)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := a.Play(ctx, PlayOptions{}, Tone("t", 10*time.Second, 1000, 500))
		done <- err
	}()
	for a.play.Load() == nil {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("play after cancel: %v", err)
	}
	a.Close()
	if _, ok := <-a.Events(); ok {
		t.Fatal("events not closed")
	}
	if _, err := a.Play(t.Context(), PlayOptions{}, Tone("t", time.Second, 1000, 500)); !errors.Is(err, ErrClosed) {
		t.Fatalf("play after close: %v", err)
	}
	a.Close() // twice is fine
}

// Close leaves no goroutine behind: sessions come and go with every call.
func TestSessionNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		a, err := NewSession(SessionConfig{LocalIP: loopback, RTCPInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewSession(SessionConfig{LocalIP: loopback})
		if err != nil {
			t.Fatal(err)
		}
		offer, _ := b.Offer(SendRecv)
		ans, _ := a.Answer(offer)
		b.SetAnswer(ans)
		a.Start(t.Context())
		b.Start(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		a.SendDTMF(ctx, '1', 40*time.Millisecond)
		cancel()
		a.Close()
		b.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
}

// Keys from SIP INFO take the same path as keys from the media.
func TestSessionInjectDTMF(t *testing.T) {
	s := newSession(t, SessionConfig{})
	s.Start(t.Context())
	d, dur, err := ParseDTMFInfo("application/dtmf-relay", []byte("Signal=b\r\nDuration=250\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InjectDTMF(d, dur); err != nil {
		t.Fatal(err)
	}
	ev := waitEvents(t, s, 1, time.Second)[0]
	if ev.Digit != 'B' || ev.Source != SourceSIPInfo || ev.Duration != 250*time.Millisecond {
		t.Fatalf("%+v", ev)
	}
	if err := s.InjectDTMF('x', 0); !errors.Is(err, ErrBadDigit) {
		t.Fatal(err)
	}
}

// TestSessionAudioHook drives the send path slot by slot and the receive
// path packet by packet: the hook's frame goes out where silence would, a
// prompt or a hold still wins over it, its source is asked every slot
// regardless, and its sink gets the decoded audio with the gap before it.
func TestSessionAudioHook(t *testing.T) {
	peer := newRawPeer(t)
	s := newSession(t, SessionConfig{})
	r := Remote{Addr: peer.addr(), Codec: PCMA, Codecs: []Codec{PCMA}, EventPT: 101, Direction: SendRecv}
	s.UpdateRemote(r, SendRecv)

	var asked int
	say := true
	var heard []int16
	var gaps []int
	h := &audioHook{
		source: func(f *[FrameSamples]int16) bool {
			asked++
			for i := range f {
				f[i] = int16(1000 * asked)
			}
			return say
		},
		sink: func(gap int, pcm []int16) {
			gaps = append(gaps, gap)
			heard = append(heard, pcm...)
		},
	}
	if !s.attach(h) {
		t.Fatal("attach to a fresh session failed")
	}
	if s.attach(&audioHook{}) {
		t.Fatal("a second hook was attached")
	}

	prompt := Tone("p", FrameDuration, 6000, 2500)
	silence := bytes.Repeat([]byte{ALawSilence}, FrameSamples)
	st := s.newSender()
	for _, tc := range []struct {
		name  string
		setup func()
		want  []byte // payload the peer gets; nil: nothing sent
		asked int    // source calls so far
	}{
		{"hook frame", func() {}, aLawFrame(1000), 1},
		{"source has nothing", func() { say = false }, silence, 2},
		{"prompt wins", func() {
			say = true
			s.play.Store(&playback{prompts: []*Prompt{prompt}, done: make(chan struct{}), barge: make(chan byte, 1), marker: true})
		}, prompt.Frame(ALaw, 0), 3},
		{"after the prompt", func() { s.play.Store(nil) }, aLawFrame(4000), 4},
		{"peer holds", func() { held := r; held.Direction = SendOnly; s.UpdateRemote(held, RecvOnly) }, nil, 5},
		{"resumed", func() { s.UpdateRemote(r, SendRecv) }, aLawFrame(6000), 6},
		{"detached", func() { s.detach(h) }, silence, 6},
	} {
		tc.setup()
		s.tick(st)
		if tc.want == nil {
			peer.expectNothing(50 * time.Millisecond)
		} else if p, _ := peer.read(time.Second); string(p.Payload) != string(tc.want) {
			t.Errorf("%s: sent % x..., want % x...", tc.name, p.Payload[:4], tc.want[:4])
		}
		if asked != tc.asked {
			t.Errorf("%s: source asked %d times, want %d", tc.name, asked, tc.asked)
		}
	}

	// Receive: two frames with one lost between them.
	if !s.attach(h) {
		t.Fatal("attach after detach failed")
	}
	rv := &receiver{detector: NewToneDetector(), start: time.Now()}
	var wire [1500]byte
	for i, ts := range []uint32{160, 480} {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: uint16(i + 1), Timestamp: ts, SSRC: 9},
			Payload: aLawFrame(int16(100 * (i + 1)))}
		n, _ := pkt.MarshalTo(wire[:])
		s.handleRTP(rv, wire[:n], peer.addr(), time.Now())
	}
	if len(gaps) != 2 || gaps[0] != 0 || gaps[1] != FrameSamples || len(heard) != 2*FrameSamples {
		t.Fatalf("sink got gaps %v and %d samples, want [0 160] and 320", gaps, len(heard))
	}
	if got, want := heard[FrameSamples], ALawDecode(ALawEncode(200)); got != want {
		t.Errorf("sink's second frame is %d, want %d", got, want)
	}

	s.Close()
	if s.attached(h) || s.attach(&audioHook{}) {
		t.Error("a closed session keeps or takes a hook")
	}
}

// aLawFrame is a frame of samples all v, in A-law.
func aLawFrame(v int16) []byte {
	return bytes.Repeat([]byte{ALawEncode(v)}, FrameSamples)
}
