package sipedge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"
)

// refuseAll is a call handler that refuses every request, for edges
// started only to test their transport.
type refuseAll struct{}

func (refuseAll) HandleInvite(req *sip.Request, tx sip.ServerTransaction, _ Origin) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
}

func (refuseAll) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if !req.IsAck() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

func (refuseAll) HandleStrayResponse(*sip.Response) {}

// logBuffer collects log output for assertions; slog handlers may write
// from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runStreamEdge runs an edge with UDP and TCP listeners on loopback, idle
// the TCP idle timeout, and returns it with its log.
func runStreamEdge(t *testing.T, idle time.Duration) (*Edge, *logBuffer) {
	t.Helper()
	cfg := parseCfg(t, `
sip: {listen: [{transport: udp, address: "127.0.0.1:0"}, {transport: tcp, address: "127.0.0.1:0"}]}
trunks: [{name: lo, networks: ["127.0.0.0/8"]}]
users: [{user: "1001", password: a}]
`)
	cfg.SIP.TCPIdleTimeout = 0 // set below, under the 1s the config allows
	logs := &logBuffer{}
	e, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e.tcpIdle = idle
	e.Handle(refuseAll{})
	if err := e.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("edge: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("edge did not stop")
		}
	})
	return e, logs
}

func dialEdge(t *testing.T, e *Edge) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", e.Addr("tcp"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads c until the edge closes it, and fails unless that
// happens within d; it returns what was read.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("connection still open after %s: %v (read %q)", d, err, b)
	}
	return b
}

// options is an OPTIONS request over TCP from the connection c, with body
// bytes after it and the Content-Length given (or none when cl is "").
func options(c net.Conn, cl string, body string) string {
	port := c.LocalAddr().(*net.TCPAddr).Port
	m := fmt.Sprintf("OPTIONS sip:edge@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-%d\r\n"+
		"From: <sip:test@127.0.0.1>;tag=1\r\nTo: <sip:edge@127.0.0.1>\r\n"+
		"Call-ID: stream-%d@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n", port, port, port)
	if cl != "" {
		m += "Content-Length: " + cl + "\r\n"
	}
	return m + "\r\n" + body
}

// TestTCPIdleConnectionCloses: a connection that carries nothing is closed
// by the edge once the idle timeout passes, not before; one that keeps
// sending RFC 5626 keep-alives stays.
func TestTCPIdleConnectionCloses(t *testing.T) {
	// Long enough that a loaded machine's scheduling cannot stretch the
	// gap between two keep-alives (a pong's wait plus idle/4, at most
	// 3/4 idle) past the timeout.
	const idle = 1500 * time.Millisecond
	e, _ := runStreamEdge(t, idle)

	quiet := dialEdge(t, e)
	start := time.Now()
	closedWithin(t, quiet, idle+2*time.Second)
	if el := time.Since(start); el < idle-50*time.Millisecond {
		t.Fatalf("closed after %s, before the idle timeout %s", el, idle)
	}

	// Keep-alives every idle/4 or so for more than an idle period: still open.
	alive := dialEdge(t, e)
	r := bufio.NewReader(alive)
	for i := 0; i < 6; i++ {
		if _, err := alive.Write([]byte("\r\n\r\n")); err != nil {
			t.Fatalf("keep-alive %d: %v", i, err)
		}
		// The pong (RFC 5626 §4.4.1) proves the connection is served.
		_ = alive.SetReadDeadline(time.Now().Add(idle / 2))
		pong := make([]byte, 2)
		if _, err := io.ReadFull(r, pong); err != nil || string(pong) != "\r\n" {
			t.Fatalf("keep-alive %d: no pong (%q, %v): the connection was closed", i, pong, err)
		}
		// A quarter of an idle period passes with nothing from the edge
		// (it sends nothing unasked): a read that must time out.
		_ = alive.SetReadDeadline(time.Now().Add(idle / 4))
		if n, err := r.Read(pong); n > 0 || errTimeout(err) != err {
			t.Fatalf("keep-alive %d: unexpected read %q, %v", i, pong[:n], err)
		}
	}
	m := &dto.Metric{}
	if err := e.mIdleClosed.Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 1 {
		t.Fatalf("idle connections closed: %v, want 1", got)
	}
}

// errTimeout returns err when it is a timeout (and another error when not),
// so that errTimeout(err) == err says err is a timeout.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errors.New("not a timeout")
}

// TestTCPRegisteredConnectionStays: a connection a live registration came
// over outlives the idle timeout (calls to the phone go over it).
func TestTCPRegisteredConnectionStays(t *testing.T) {
	const idle = 300 * time.Millisecond
	e, _ := runStreamEdge(t, idle)
	c := dialEdge(t, e)
	req := regReq(t, "reg-tcp", 1, "600", "sip:1001@127.0.0.1:5999;transport=tcp")
	req.SetSource(c.LocalAddr().String())
	req.SetTransport("TCP")
	if r := e.reg.register("1001", req); r.code != 200 {
		t.Fatalf("register: %d", r.code)
	}
	_ = c.SetReadDeadline(time.Now().Add(4 * idle))
	b := make([]byte, 1)
	if _, err := c.Read(b); errTimeout(err) != err {
		t.Fatalf("the registered connection ended within 4 idle periods: %v", err)
	}
	// The registration gone, the connection goes at the next deadline.
	e.reg.drop("1001")
	closedWithin(t, c, 3*idle+time.Second)
}

// TestTCPFramingErrors: what sipgo cannot frame on a stream is answered
// before the connection closes: 400 without Content-Length, 513 past the
// size limit, and a message before the bad one is still answered over the
// connection.
func TestTCPFramingErrors(t *testing.T) {
	e, logs := runStreamEdge(t, time.Minute)
	cases := []struct {
		name  string
		build func(c net.Conn) string
		want  []string // status lines, in order
	}{
		{"no Content-Length", func(c net.Conn) string { return options(c, "", "") }, []string{"SIP/2.0 400 Bad Request"}},
		{"too large", func(c net.Conn) string {
			return options(c, "70000", strings.Repeat("x", 70000))
		}, []string{"SIP/2.0 513 Message Too Large"}},
		{"header section past the limit", func(c net.Conn) string {
			return strings.Replace(options(c, "0", ""), "Max-Forwards", "X-Pad: "+strings.Repeat("p", 70000)+"\r\nMax-Forwards", 1)
		}, []string{"SIP/2.0 513 Message Too Large"}},
		{"good then garbage", func(c net.Conn) string { return options(c, "0", "") + "NOT SIP AT ALL\r\n\r\n" }, []string{"SIP/2.0 200 OK"}},
		{"garbage with no headers to answer", func(net.Conn) string { return "\x16\x03\x01 hello\r\n\r\n" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialEdge(t, e)
			go func() { _, _ = c.Write([]byte(tc.build(c))) }()
			got := closedWithin(t, c, 5*time.Second)
			var lines []string
			for _, l := range strings.Split(string(got), "\r\n") {
				if strings.HasPrefix(l, "SIP/2.0 ") {
					lines = append(lines, l)
				}
			}
			if strings.Join(lines, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("answers %q, want %q\n%s", lines, tc.want, got)
			}
		})
	}
	// Logged at WARN once for the source, with a short excerpt; sipgo's
	// ERROR line with the whole read is gone.
	out := logs.String()
	if n := strings.Count(out, `msg="unparsable SIP message"`); n != 1 {
		t.Errorf("unparsable messages logged %d times from one source, want once a minute:\n%s", n, out)
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("an ERROR line about bad input:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 1500 {
			t.Errorf("a log line of %d bytes", len(l))
		}
	}
}

// TestUDPRejectRateLimited: the stateless 400 to unparsable datagrams is
// sent at most rejectBurst at once to one source, then at the bucket's
// rate; a source of its own still gets its answer.
func TestUDPRejectRateLimited(t *testing.T) {
	e, _ := runStreamEdge(t, time.Minute)
	dst, err := net.ResolveUDPAddr("udp", e.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	bad := func(c *net.UDPConn, i int) []byte {
		port := c.LocalAddr().(*net.UDPAddr).Port
		return []byte(fmt.Sprintf("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d\r\n"+
			"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: rl%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: x\r\n\r\n", port, i, i))
	}
	flood, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	const sent = 100
	for i := 0; i < sent; i++ {
		if _, err := flood.WriteToUDP(bad(flood, i), dst); err != nil {
			t.Fatal(err)
		}
	}
	answers := 0
	buf := make([]byte, 4096)
	for {
		// The 100 were sent in well under a second: at most the burst and
		// a few refilled tokens can come back. Count until the edge has
		// been quiet for a while.
		_ = flood.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := flood.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 400 ")) {
			t.Fatalf("not a 400: %q", buf[:n])
		}
		answers++
	}
	if answers < int(rejectBurst) || answers > int(rejectBurst)+10 {
		t.Fatalf("%d datagrams answered %d times, want about the burst of %v", sent, answers, rejectBurst)
	}
	// Another source is answered at once: the limit is per source.
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("127.0.0.2: %v", err)
	}
	defer other.Close()
	if _, err := other.WriteToUDP(bad(other, 1000), dst); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := other.ReadFromUDP(buf); err != nil || !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 400 ")) {
		t.Fatalf("another source got %q, %v; want its 400", buf[:n], err)
	}
}
