package media

import (
	"context"
	"testing"
	"time"
)

// Sessions on a shared Pacer behave as with their own goroutine: exact
// 20 ms spacing, keys and audio end to end, and clean removal on Close.
func TestPacedSessions(t *testing.T) {
	p := NewPacer(2)
	defer p.Close()
	peer := newRawPeer(t)
	s := newSession(t, SessionConfig{Pacer: p})
	s.UpdateRemote(Remote{Addr: peer.addr(), Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: 101}, SendRecv)
	s.Start(t.Context())
	first, t0 := peer.read(time.Second)
	prev := first
	var last time.Time
	for i := 1; i <= 50; i++ {
		pk, at := peer.read(time.Second)
		if pk.SequenceNumber != prev.SequenceNumber+1 || pk.Timestamp != prev.Timestamp+160 {
			t.Fatalf("packet %d: %v after %v", i, pk.Header, prev.Header)
		}
		prev, last = pk, at
	}
	if el := last.Sub(t0); el < 950*time.Millisecond || el > 1100*time.Millisecond {
		t.Errorf("50 intervals took %v", el)
	}
	s.Close()
	peer.expectNothing(100 * time.Millisecond)

	a, b := newSession(t, SessionConfig{Pacer: p}), newSession(t, SessionConfig{Pacer: p})
	connect(t, a, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, d := range []byte("42") {
		if err := a.SendDTMF(ctx, d, 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if got := digits(waitEvents(t, b, 2, 3*time.Second)); got != "42" {
		t.Fatalf("digits %q", got)
	}
	src := speechLike(0.6, 11)
	done := make(chan Recording, 1)
	go func() {
		rec, _ := b.Record(ctx, RecordOptions{MaxTime: 1200 * time.Millisecond})
		done <- rec
	}()
	for b.rec.Load() == nil {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			t.Fatal("recorder not armed")
		}
	}
	if _, err := a.Play(ctx, PlayOptions{}, NewPrompt("s", src)); err != nil {
		t.Fatal(err)
	}
	rec := <-done
	i, j := onset(rec.Samples, 500), onset(src, 500)
	if i < j {
		t.Fatalf("no audio recorded")
	}
	if c, _ := bestNCC(src, rec.Samples[i-j:], 200); c < 0.9 {
		t.Fatalf("correlation %.3f", c)
	}
}
