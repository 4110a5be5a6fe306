package sipedge

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// Stream connections (TCP and TLS) accepted by the edge.
//
// sipgo reads each accepted connection on a goroutine of its own through
// the net.Conn the listener gave it; the edge's listener hands it a
// streamConn, which adds what sipgo leaves out:
//
//   - An idle timeout. sipgo never times a connection out, so a peer could
//     hold thousands open for nothing. A connection that carried nothing in
//     either direction for sip.tcp_idle_timeout is closed, unless a live
//     registration came over it (calls to that phone go back over it, RFC
//     5626 §5): it lives as long as the registration. RFC 5626 CRLF
//     keep-alives are traffic, so a phone that sends them keeps its
//     connection.
//   - An answer to what cannot be framed. RFC 3261 §18.3 leaves nothing to
//     resync on after a framing error but to close; sipgo closes with no
//     answer and logs the whole read at ERROR. streamConn frames the stream
//     beside sipgo with sipgo's own stream parser, and when a message will
//     fail it answers 400 (513 Message Too Large past sipgo's 64 KB limit)
//     where the message holds the headers a response needs, logs it at WARN
//     (once per source per minute, a short excerpt), and ends the stream
//     before sipgo sees the bad bytes. The messages framed before it are
//     still answered: the connection stops being read but stays open
//     until nothing was written on it for lingerQuiet (at most 64*T1), so
//     their responses leave over it rather than be lost or sent to their
//     Via's address (RFC 3261 §18.2.2).
//
// The framing parses each message a second time (the UDP read filter does
// the same for datagrams): the price of answering instead of closing
// silently, paid on the stream transports, which carry little of the
// traffic.

// defaultTCPIdleTimeout is used when the edge is built without one (the
// config fills sip.tcp_idle_timeout).
const defaultTCPIdleTimeout = 5 * time.Minute

// After a framing error the connection lingers, unread, until it has been
// quiet for lingerQuiet, and at most 64*T1 (the longest a transaction of a
// message read before it can run).
const lingerQuiet = time.Second

// streamListener wraps the accepted connections of one TCP or TLS listener.
type streamListener struct {
	net.Listener
	e         *Edge
	transport string
	out       prometheus.Counter
	idle      time.Duration
}

func (l streamListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &streamConn{Conn: c, e: l.e, transport: l.transport, out: l.out, idle: l.idle, shadow: parser.NewSIPStream()}
	sc.touch()
	return sc, nil
}

// streamConn is one accepted stream connection. Read runs on sipgo's one
// reader goroutine per connection; Write on whichever goroutine sends.
type streamConn struct {
	net.Conn
	e         *Edge
	transport string // "tcp" or "tls"
	out       prometheus.Counter
	idle      time.Duration

	// last is the time of the last read or write, in Unix nanoseconds.
	last atomic.Int64

	// Owned by the reader goroutine (Read):
	// shadow frames the stream as sipgo's parser will; cur holds the bytes
	// of the message being framed, from its first byte; refused says a
	// message failed and the stream lingers (then ends); ended says the
	// connection is closed and Read returns EOF from now on.
	shadow  *sip.ParserStream
	cur     []byte
	refused bool
	ended   bool
}

func (c *streamConn) touch() { c.last.Store(time.Now().UnixNano()) }

func (c *streamConn) Write(b []byte) (int, error) {
	c.out.Inc()
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

// Read reads what sipgo will parse: the bytes read, less a message that
// cannot be framed (answered here instead), or io.EOF once the connection
// was idle too long or refused.
func (c *streamConn) Read(b []byte) (int, error) {
	for {
		if c.ended {
			return 0, io.EOF
		}
		if c.refused {
			c.linger()
			c.end()
			return 0, io.EOF
		}
		if c.idle > 0 {
			_ = c.Conn.SetReadDeadline(time.Unix(0, c.last.Load()).Add(c.idle))
		}
		n, err := c.Conn.Read(b)
		if n > 0 {
			c.touch()
			n = c.frame(b[:n])
			if n > 0 {
				return n, nil
			}
			if c.refused {
				continue
			}
			// Everything read was held back (it belongs to nothing sipgo
			// may see): read on.
			if err == nil {
				continue
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if c.keepOpen() {
				continue
			}
			c.e.log.Debug("closing idle connection", "transport", c.transport, "from", c.RemoteAddr().String(), "idle", c.idle)
			c.e.mIdleClosed.Inc()
			c.end()
			return 0, io.EOF
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			// A reset or a broken TLS record: a peer's doing, not
			// tandem's error; sipgo would log each at ERROR.
			c.e.log.Debug("connection read failed", "transport", c.transport, "from", c.RemoteAddr().String(), "error", err)
		}
		c.end()
		return 0, io.EOF
	}
}

// keepOpen decides, at the idle deadline, whether the connection lives on:
// it was written to since the deadline was set, or a live registration
// came over it.
func (c *streamConn) keepOpen() bool {
	if time.Since(time.Unix(0, c.last.Load())) < c.idle {
		return true
	}
	if c.e.reg.hasSource(c.RemoteAddr().String(), c.e.now()) {
		c.touch()
		return true
	}
	return false
}

// end makes Read return io.EOF from now on and frees the framing state;
// sipgo closes the connection when it reads the EOF (and logs a close it
// did not make).
func (c *streamConn) end() {
	c.ended = true
	c.freeFraming()
}

func (c *streamConn) freeFraming() {
	c.cur = nil
	if c.shadow != nil {
		c.shadow.Close()
		c.shadow = nil
	}
}

// linger keeps a refused connection open, discarding what arrives, until
// nothing was written on it for lingerQuiet or 64*T1 passed, or the
// peer closed it. Reading (rather than sleeping) wakes it as soon as the
// connection is closed under it, at shutdown.
func (c *streamConn) linger() {
	limit := time.Now().Add(64 * sip.T1)
	var scratch [512]byte
	for {
		quiet := time.Unix(0, c.last.Load()).Add(lingerQuiet)
		if !time.Now().Before(quiet) || !time.Now().Before(limit) {
			return
		}
		if quiet.After(limit) {
			quiet = limit
		}
		_ = c.Conn.SetReadDeadline(quiet)
		if _, err := c.Conn.Read(scratch[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}

// frame runs data through the shadow parser and returns how many of its
// leading bytes sipgo may see: all of them, or on a framing error those
// before the message that failed (which is answered, and the stream
// ended).
func (c *streamConn) frame(data []byte) int {
	if c.shadow == nil {
		return len(data)
	}
	// The reads sipgo skips before parsing (transport_tcp.go): all NUL,
	// or a keep-alive CRLF between messages.
	if len(bytes.Trim(data, "\x00")) == 0 {
		return len(data)
	}
	if len(data) <= 4 && len(c.cur) == 0 && len(bytes.Trim(data, "\r\n")) == 0 {
		return len(data)
	}
	_, _ = c.shadow.Write(data)
	c.cur = append(c.cur, data...)
	for c.shadow.Buffer().Len() > 0 {
		_, n, err := c.shadow.ParseNext()
		if err == nil {
			c.cur = c.cur[min(n, len(c.cur)):]
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		// What was read before the failed message started is sipgo's;
		// the failed message may have started in an earlier read, which
		// sipgo holds (and drops when the stream ends).
		good := max(len(data)-len(c.cur), 0)
		c.refuse(err)
		return good
	}
	if len(c.cur) == 0 {
		c.cur = nil // do not keep a big message's buffer on an idle connection
	}
	return len(data)
}

// refuse answers the message in c.cur that failed with err, when it holds
// what a response is built from, logs it and stops reading the stream
// (Read lingers, then ends it).
func (c *streamConn) refuse(err error) {
	from := c.RemoteAddr().String()
	var res []byte
	code := "unframable"
	if errors.Is(err, sip.ErrMessageTooLarge) {
		code = "too_large"
		res = statelessResponse(c.cur, 513, "Message Too Large", err)
	} else {
		res = statelessReject(c.cur, err)
	}
	c.e.mRejected.WithLabelValues(code).Inc()
	c.e.unparsable.log(c.e.log, c.transport, from, c.cur, err, res != nil)
	if res != nil {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, werr := c.Write(res); werr != nil {
			c.e.log.Debug("answer to an unframable message not sent", "from", from, "error", werr)
		}
		_ = c.Conn.SetWriteDeadline(time.Time{})
	}
	c.refused = true
	c.freeFraming()
}

// hasSource reports whether a live registration came from src (host:port)
// over a stream transport: its connection is how calls reach the phone.
// It scans every binding, which is fine at the rate idle deadlines pass.
func (r *registrar) hasSource(src string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, bs := range r.aors {
		for _, b := range bs {
			if b.Source == src && b.Expires.After(now) && (strings.EqualFold(b.Transport, "tcp") || strings.EqualFold(b.Transport, "tls")) {
				return true
			}
		}
	}
	return false
}
