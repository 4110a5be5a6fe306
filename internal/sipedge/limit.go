package sipedge

import (
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Answers and log lines for bad input are bounded per source: an attacker
// who sends garbage (or spoofs a victim's address on UDP) gets neither an
// amplifier nor a way to flood the log.

// rejectBucket is the per-source token bucket for the stateless 400s sent
// to unparsable UDP datagrams. UDP sources can be spoofed, and a 400 copies
// the request's headers and adds its own, so without a limit tandem would
// reflect a flood at whatever address the datagrams name, larger than it
// came. A source gets rejectBurst answers at once and rejectRate a second
// after that; past it, datagrams are dropped unanswered (the sender of a
// real message retransmits, RFC 3261 §17.1.1.2, and is answered later).
const (
	rejectRate  = 5.0
	rejectBurst = 10.0
	// rejectSources bounds the sources tracked; a flood from more spoofed
	// addresses than this is answered only as buckets free up.
	rejectSources = 65536
)

// sourceBuckets is a token bucket per source address, in a bounded map.
type sourceBuckets struct {
	rate, burst float64
	max         int

	mu        sync.Mutex // guards the fields below
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newSourceBuckets(rate, burst float64, max int) *sourceBuckets {
	return &sourceBuckets{rate: rate, burst: burst, max: max, buckets: map[netip.Addr]*bucket{}}
}

// allow takes a token from src's bucket at now, and says whether it had one.
func (s *sourceBuckets) allow(src netip.Addr, now time.Time) bool {
	src = src.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[src]
	if b == nil {
		if len(s.buckets) >= s.max {
			s.sweepLocked(now)
			if len(s.buckets) >= s.max {
				return false
			}
		}
		b = &bucket{tokens: s.burst, at: now}
		s.buckets[src] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = min(s.burst, b.tokens+el*s.rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked forgets the buckets that have refilled (their sources are as
// new), at most once a second so that a full map under a flood does not
// cost a scan per datagram.
func (s *sourceBuckets) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < time.Second {
		return
	}
	s.lastSweep = now
	full := time.Duration(s.burst / s.rate * float64(time.Second))
	for a, b := range s.buckets {
		if now.Sub(b.at) >= full {
			delete(s.buckets, a)
		}
	}
}

// size is the number of sources tracked.
func (s *sourceBuckets) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}

// logOnce lets one line through per source and interval, and counts the
// lines it held back, which the next line reports.
type logOnce struct {
	interval time.Duration
	max      int
	now      func() time.Time

	mu      sync.Mutex // guards seen
	seen    map[string]*logEntry
	dropped int // lines held back for sources that did not fit in seen
}

type logEntry struct {
	at         time.Time
	suppressed int
}

func newLogOnce(interval time.Duration, max int, now func() time.Time) *logOnce {
	return &logOnce{interval: interval, max: max, now: now, seen: map[string]*logEntry{}}
}

// take says whether a line about src may be logged now, and how many were
// held back since the last one.
func (l *logOnce) take(src string) (ok bool, suppressed int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.seen[src]
	if e == nil {
		if len(l.seen) >= l.max {
			for k, v := range l.seen {
				if now.Sub(v.at) >= l.interval {
					l.dropped += v.suppressed
					delete(l.seen, k)
				}
			}
			if len(l.seen) >= l.max {
				l.dropped++
				return false, 0
			}
		}
		l.seen[src] = &logEntry{at: now}
		return true, 0
	}
	if now.Sub(e.at) < l.interval {
		e.suppressed++
		return false, 0
	}
	suppressed = e.suppressed
	e.at, e.suppressed = now, 0
	return true, suppressed
}

// excerptLen bounds how much of a bad message a log line quotes.
const excerptLen = 200

// excerpt is the start of data, bounded, with control characters made
// visible so one line stays one line.
func excerpt(data []byte) string {
	s := data
	cut := false
	if len(s) > excerptLen {
		s, cut = s[:excerptLen], true
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, c := range s {
		switch {
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}

// unparsableLog logs messages that could not be parsed or framed: at WARN,
// once per source IP per minute, with a short excerpt.
type unparsableLog struct{ once *logOnce }

func newUnparsableLog(now func() time.Time) unparsableLog {
	return unparsableLog{once: newLogOnce(time.Minute, 10000, now)}
}

func (u unparsableLog) log(log *slog.Logger, transport, from string, data []byte, err error, answered bool) {
	ok, suppressed := u.once.take(hostOf(from))
	if !ok {
		return
	}
	log.Warn("unparsable SIP message", "transport", transport, "from", from, "bytes", len(data), "answered", answered,
		"error", err, "excerpt", excerpt(data), "suppressed_since_last", suppressed)
}

// hostOf is the host of a host:port, or the whole string.
func hostOf(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return addr
}

// addrOf is the IP of a socket address (the zero Addr when it has none,
// which then shares one bucket).
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
