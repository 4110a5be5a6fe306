package sipedge

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSourceBuckets: a burst, then the rate; per source; the map bounded.
func TestSourceBuckets(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	s := newSourceBuckets(5, 10, 3)
	n := 0
	for i := 0; i < 100; i++ {
		if s.allow(a, t0) {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("a burst of 100 at once: %d allowed, want the burst of 10", n)
	}
	if !s.allow(b, t0) {
		t.Fatal("another source is limited by the first")
	}
	// One second later: the rate, 5 more.
	n = 0
	for i := 0; i < 100; i++ {
		if s.allow(a, t0.Add(time.Second)) {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("a second later: %d allowed, want 5", n)
	}
	// The mapped form of an address is the same source.
	if s.allow(netip.MustParseAddr("::ffff:192.0.2.1"), t0.Add(time.Second)) {
		t.Fatal("the IPv4-mapped address escapes the bucket")
	}
	// The map holds 3 sources: a fourth waits until buckets refill.
	if !s.allow(netip.MustParseAddr("192.0.2.3"), t0.Add(time.Second)) {
		t.Fatal("third source refused")
	}
	if s.allow(netip.MustParseAddr("192.0.2.4"), t0.Add(time.Second)) {
		t.Fatal("a source past the bound was tracked")
	}
	if s.size() != 3 {
		t.Fatalf("%d sources tracked, want 3", s.size())
	}
	later := t0.Add(time.Minute)
	if !s.allow(netip.MustParseAddr("192.0.2.4"), later) {
		t.Fatal("refilled buckets were not swept for a new source")
	}
	if s.size() > 3 {
		t.Fatalf("%d sources tracked, want at most 3", s.size())
	}
}

// TestLogOnce: one line per source and interval, the held-back count
// reported with the next.
func TestLogOnce(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLogOnce(time.Minute, 2, func() time.Time { return now })
	if ok, _ := l.take("a"); !ok {
		t.Fatal("first line held back")
	}
	for i := 0; i < 5; i++ {
		if ok, _ := l.take("a"); ok {
			t.Fatal("a second line within the interval")
		}
	}
	if ok, _ := l.take("b"); !ok {
		t.Fatal("another source held back")
	}
	if ok, _ := l.take("c"); ok {
		t.Fatal("a source past the bound logged")
	}
	now = now.Add(time.Minute)
	ok, suppressed := l.take("a")
	if !ok || suppressed != 5 {
		t.Fatalf("after the interval: %v, %d held back; want a line reporting 5", ok, suppressed)
	}
}

func TestExcerpt(t *testing.T) {
	long := []byte("INVITE sip:a@b SIP/2.0\r\n" + strings.Repeat("X-Pad: 0123456789\r\n", 2000))
	e := excerpt(long)
	if len(e) > excerptLen*4+3 {
		t.Fatalf("excerpt of %d bytes", len(e))
	}
	if strings.ContainsAny(e, "\r\n") || !strings.HasPrefix(e, `INVITE sip:a@b SIP/2.0\r\n`) || !strings.HasSuffix(e, "...") {
		t.Fatalf("excerpt %q", e)
	}
	if got := excerpt([]byte{0, 'a', 0x7f}); got != `\x00a\x7f` {
		t.Fatalf("control characters: %q", got)
	}
}
