package sipedge

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tortureMessages are RFC 4475's messages, read in place from the shared
// test data: the seed corpus of the fuzz targets here.
func tortureMessages(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "sip-torture", "messages", "*.dat"))
	if err != nil || len(files) == 0 {
		f.Fatalf("RFC 4475 messages not found beside the project (../shared/testdata/sip-torture): %v", err)
	}
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func request(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

var okHeaders = []string{
	"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1",
	"From: <sip:a@127.0.0.1>;tag=1", "To: <sip:b@127.0.0.1>", "Call-ID: v1", "Max-Forwards: 70",
}

func plainInvite(extra ...string) string {
	return request(append(append([]string{"INVITE sip:2000@127.0.0.1 SIP/2.0", "CSeq: 1 INVITE"}, okHeaders...), append(extra, "Content-Length: 0")...)...)
}

// TestValidate: what RFC 3261 §8.2 refuses, each with its code.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		code      int
	}{
		{"fine", plainInvite(), 0},
		{"version", strings.Replace(plainInvite(), "SIP/2.0\r\n", "SIP/7.0\r\n", 1), 505},
		{"no Call-ID", strings.Replace(plainInvite(), "Call-ID: v1\r\n", "", 1), 400},
		{"two Max-Forwards", plainInvite("Max-Forwards: 69"), 400},
		{"CSeq method", strings.Replace(plainInvite(), "CSeq: 1 INVITE", "CSeq: 1 OPTIONS", 1), 400},
		{"headers in the Request-URI", strings.Replace(plainInvite(), "sip:2000@127.0.0.1", "sip:2000@127.0.0.1?Subject=x", 1), 400},
		{"scheme", strings.Replace(plainInvite(), "sip:2000@127.0.0.1 ", "mailto:a@b ", 1), 416},
		{"Require", plainInvite("Require: nosuchext"), 420},
		{"Accept without SDP", plainInvite("Accept: text/plain"), 406},
		{"Max-Forwards 0", strings.Replace(plainInvite(), "Max-Forwards: 70", "Max-Forwards: 0", 1), 483},
		{"Max-Forwards 1 (the call server's to refuse)", strings.Replace(plainInvite(), "Max-Forwards: 70", "Max-Forwards: 1", 1), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parser.ParseSIP([]byte(tc.msg))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			rej := validate(m.(*sip.Request))
			got := 0
			if rej != nil {
				got = rej.code
			}
			if got != tc.code {
				t.Fatalf("validate: %d, want %d", got, tc.code)
			}
		})
	}
}

// TestStatelessReject: the answer to a datagram sipgo cannot parse.
func TestStatelessReject(t *testing.T) {
	cause := errors.New("bad")
	for _, tc := range []struct {
		name, msg, status string // "" status: no answer
	}{
		{"bad header", request("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK2", "From: <sip:a@b>;tag=1", "To: <sip:a@b>", "Call-ID: x", "CSeq: 1 OPTIONS", "Content-Length: x"), "SIP/2.0 400 Bad Request"},
		{"compact forms", request("OPTIONS sip:a@b SIP/2.0", "v: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK2", "f: <sip:a@b>;tag=1", "t: <sip:a@b>", "i: x", "CSeq: 1 OPTIONS", "l: x"), "SIP/2.0 400 Bad Request"},
		{"unknown scheme", request("OPTIONS soap.beep://a:1 SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK3", "Call-ID: y", "CSeq: 1 OPTIONS"), "SIP/2.0 416 Unsupported URI Scheme"},
		{"a response", request("SIP/2.0 999 Huge", "Via: SIP/2.0/UDP h;branch=z9hG4bK4", "Call-ID: z", "CSeq: 1 OPTIONS"), ""},
		{"an ACK", request("ACK sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK5", "Call-ID: z", "CSeq: 1 ACK"), ""},
		{"no Via", request("OPTIONS sip:a@b SIP/2.0", "Call-ID: z", "CSeq: 1 OPTIONS"), ""},
		{"not SIP", "\x16\x03\x01\x00", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := statelessReject([]byte(tc.msg), cause)
			if tc.status == "" {
				if res != nil {
					t.Fatalf("answered %q, want no answer", res)
				}
				return
			}
			m, err := parser.ParseSIP(res)
			if err != nil {
				t.Fatalf("the answer does not parse: %v\n%s", err, res)
			}
			if line, _, _ := strings.Cut(string(res), "\r\n"); line != tc.status {
				t.Fatalf("status %q, want %q", line, tc.status)
			}
			r := m.(*sip.Response)
			if r.Via() == nil || r.CallID() == nil || r.CSeq() == nil || r.GetHeader("Warning") == nil {
				t.Fatalf("the answer lacks Via, Call-ID, CSeq or Warning:\n%s", res)
			}
		})
	}
	if res := statelessResponse([]byte(request("INVITE sip:a@b SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK6", "Call-ID: big", "CSeq: 1 INVITE", "Content-Length: 99999999")), 513, "Message Too Large", sip.ErrMessageTooLarge); !bytes.HasPrefix(res, []byte("SIP/2.0 513 Message Too Large\r\n")) {
		t.Fatalf("513: %q", res)
	}
}

// FuzzValidate: validate never panics on what sipgo parses, and answers
// only with the codes it documents.
func FuzzValidate(f *testing.F) {
	for _, m := range tortureMessages(f) {
		f.Add(m)
	}
	f.Add([]byte(plainInvite()))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		rej := validate(req)
		if rej == nil {
			return
		}
		switch rej.code {
		case 400, 406, 415, 416, 420, 483, 505:
		default:
			t.Fatalf("validate answered %d", rej.code)
		}
	})
}

// FuzzStatelessReject: the answer to anything is nothing or a response of
// the two codes, never to a response or an ACK, and never much larger than
// what came (it is sent to an address that may be spoofed).
func FuzzStatelessReject(f *testing.F) {
	for _, m := range tortureMessages(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := statelessReject(data, errors.New("fuzz"))
		if res == nil {
			return
		}
		if !bytes.HasPrefix(res, []byte("SIP/2.0 400 ")) && !bytes.HasPrefix(res, []byte("SIP/2.0 416 ")) {
			t.Fatalf("answer %q", res)
		}
		if bytes.HasPrefix(data, []byte("SIP/")) || bytes.HasPrefix(data, []byte("ACK ")) {
			t.Fatalf("answered a response or an ACK: %q", data)
		}
		// Compact header names grow to full ones (v: → Via:) and a status
		// line, Warning and Content-Length are added: at most twice the
		// input and a few hundred bytes.
		if len(res) > 2*len(data)+300 {
			t.Fatalf("an answer of %d bytes to %d", len(res), len(data))
		}
		if !bytes.HasSuffix(res, []byte("\r\n\r\n")) {
			t.Fatalf("answer not terminated: %q", res)
		}
	})
}

// FuzzReadFilter: the UDP read filter passes what sipgo parses untouched,
// holds back what it cannot (answering it at most within the rate), and
// never panics; TCP reads pass through (streamConn frames those).
func FuzzReadFilter(f *testing.F) {
	for _, m := range tortureMessages(f) {
		f.Add(m, false)
		f.Add(m, true)
	}
	e, err := New(parseCfgF(f, `sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}`), Deps{Log: discardLog()})
	if err != nil {
		f.Fatal(err)
	}
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	f.Fuzz(func(t *testing.T, data []byte, tcp bool) {
		tr := "UDP"
		if tcp {
			tr = "TCP"
		}
		in := append([]byte(nil), data...)
		out, err := e.readFilter(sip.TransportReadProps{Transport: tr, LocalAddr: local, RemoteAddr: remote}, in)
		if err != nil {
			t.Fatalf("read filter error: %v", err)
		}
		_, perr := parser.ParseSIP(data)
		switch {
		case tcp, perr == nil, len(data) <= 4:
			if !bytes.Equal(out, data) {
				t.Fatalf("passed %q, want the input untouched", out)
			}
		default:
			if out != nil {
				t.Fatalf("passed %q, which sipgo cannot parse", out)
			}
		}
	})
}

// FuzzStreamFrame: the stream framing beside sipgo never passes on more
// than it read, passes everything while no message fails, and answers a
// failed message at most once.
func FuzzStreamFrame(f *testing.F) {
	for _, m := range tortureMessages(f) {
		f.Add(m, uint16(7))
	}
	e, err := New(parseCfgF(f, `sip: {listen: [{transport: tcp, address: "127.0.0.1:0"}]}`), Deps{Log: discardLog()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		fc := &fakeConn{}
		c := &streamConn{Conn: fc, e: e, transport: "tcp", out: e.mOut.WithLabelValues("tcp"), shadow: parser.NewSIPStream()}
		defer c.freeFraming()
		size := int(chunk%4096) + 1
		passed := 0
		for off := 0; off < len(data) && !c.refused; off += size {
			part := data[off:min(off+size, len(data))]
			n := c.frame(append([]byte(nil), part...))
			if n < 0 || n > len(part) {
				t.Fatalf("frame passed %d of %d bytes", n, len(part))
			}
			if n < len(part) && !c.refused {
				t.Fatalf("frame held back %d bytes without refusing the stream", len(part)-n)
			}
			passed += n
		}
		if passed > len(data) {
			t.Fatalf("passed %d bytes of %d", passed, len(data))
		}
		if fc.writes > 1 {
			t.Fatalf("%d answers written", fc.writes)
		}
	})
}

// fakeConn is a net.Conn that only counts writes.
type fakeConn struct {
	net.Conn
	writes int
}

func (c *fakeConn) Write(b []byte) (int, error)       { c.writes++; return len(b), nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error  { return nil }
func (c *fakeConn) RemoteAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099} }
func (c *fakeConn) LocalAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }
func (c *fakeConn) SetReadDeadline(t time.Time) error { return nil }
func (c *fakeConn) Close() error                      { return nil }
func (c *fakeConn) Read(b []byte) (int, error)        { return 0, errors.New("fakeConn: no reads") }
func (c *fakeConn) SetDeadline(t time.Time) error     { return nil }

func parseCfgF(f *testing.F, text string) *Config {
	f.Helper()
	cfg, err := parseConfig(f.Name()+".yaml", text)
	if err != nil {
		f.Fatal(err)
	}
	return cfg
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
