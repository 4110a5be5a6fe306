package mediaua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/media"
)

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// record is what a test UA's callbacks saw.
type record struct {
	mu     sync.Mutex
	calls  []string // d.Call of each session
	direct []bool   // d.Direct of each session
	holds  []bool
	keys   []string
	ends   []string
	reinvs int
}

// startUA serves a UA on a free loopback port that takes INVITEs to user
// "app", whose sessions last until the dialog's context ends; it stops when
// the test ends. opts change its Config before it is built.
func startUA(t *testing.T, admit func(*Dialog) error, opts ...func(*Config)) (*UA, *record) {
	t.Helper()
	rec := &record{}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := Config{
		Listen: "127.0.0.1:0", MediaIP: netip.MustParseAddr("127.0.0.1"), UserAgent: "tandem-test", ContactUser: "test",
		MaxDialogs: 10, Log: log, Names: Names{Dialog: "call", Remote: "caller", Local: "test"},
		Route: func(d *Dialog) bool { return d.Invite.Recipient.User == "app" },
		Admit: admit,
		OnSession: func(d *Dialog) string {
			rec.mu.Lock()
			rec.calls = append(rec.calls, string(d.Call))
			rec.direct = append(rec.direct, d.Direct)
			rec.mu.Unlock()
			d.Session.Start(d.Context())
			evs := d.Session.Events()
			for {
				select {
				case <-d.Context().Done():
					return "session over"
				case ev, ok := <-evs:
					if !ok {
						evs = nil
						continue
					}
					if ev.Kind == media.EventDTMF {
						rec.mu.Lock()
						rec.keys = append(rec.keys, string(ev.Digit))
						rec.mu.Unlock()
					}
				}
			}
		},
		OnReinvite: func(*Dialog) {
			rec.mu.Lock()
			rec.reinvs++
			rec.mu.Unlock()
		},
		OnHold: func(_ *Dialog, held bool) {
			rec.mu.Lock()
			rec.holds = append(rec.holds, held)
			rec.mu.Unlock()
		},
		OnEnd: func(_ *Dialog, why string) {
			rec.mu.Lock()
			rec.ends = append(rec.ends, why)
			rec.mu.Unlock()
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = u.Serve(ctx)
		if !u.Stop("test stopping", 10*time.Second) {
			t.Error("dialogs still open at stop")
		}
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("UA did not stop")
		}
	})
	return u, rec
}

func freePort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// runSIPp runs one SIPp UAC call of scenario (testdata, {{KEY}}s filled
// from kv) to user at target, bounded, and reports whether it succeeded.
func runSIPp(t *testing.T, target, user, scenario string, kv ...string) bool {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sipp not installed (CI is set, so the job should have installed it)")
		}
		t.Skip("sipp not installed: apt-get install -y sip-tester")
	}
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{{"+kv[i]+"}}", kv[i+1])
	}
	// A scenario's extra header line, when the test gives none: a header
	// that means nothing (no X-Tandem-Call-ID), as before there was one.
	s = strings.ReplaceAll(s, "{{CALLHDR}}", "X-Test: none")
	dir := t.TempDir()
	sf := filepath.Join(dir, scenario)
	if err := os.WriteFile(sf, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", target, "-sf", sf, "-s", user, "-m", "1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(freePort(t)), "-mp", strconv.Itoa(freePort(t)), "-timeout", "20s", "-timeout_error",
		"-nostdin", "-cp", strconv.Itoa(freePort(t)))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("sipp: %v", err)
		}
		t.Logf("sipp failed (%v):\n%.4000s", err, out)
		return false
	}
	return true
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A call through its whole life: answered, held, resumed, a key by INFO,
// hung up by the caller.
func TestDialogLife(t *testing.T) {
	u, rec := startUA(t, nil)
	if !runSIPp(t, u.Addr(), "app", "uac-hold.xml", "CALLHDR", "X-Tandem-Call-ID: global-[call_number]") {
		t.Fatal("the call failed")
	}
	waitFor(t, 10*time.Second, "the dialog's end", func() bool { return u.Active() == 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.calls) != "[global-1]" || fmt.Sprint(rec.direct) != "[false]" {
		t.Errorf("sessions %q (direct %v), want one of call global-1 (its X-Tandem-Call-ID), not direct", rec.calls, rec.direct)
	}
	if fmt.Sprint(rec.holds) != "[true false]" {
		t.Errorf("hold changes %v, want [true false]", rec.holds)
	}
	if rec.reinvs != 2 {
		t.Errorf("%d re-INVITEs seen, want 2", rec.reinvs)
	}
	if fmt.Sprint(rec.keys) != "[5]" {
		t.Errorf("keys %v, want [5]", rec.keys)
	}
	if fmt.Sprint(rec.ends) != "[session over]" {
		t.Errorf("ends %q, want [session over]", rec.ends)
	}
}

// INVITEs the UA refuses, each with its code, and no dialog left behind.
func TestRefusals(t *testing.T) {
	const leg = "X-Tandem-Call-ID: global-[call_number]"
	route := func(c *Config) {
		c.Route = func(d *Dialog) bool { return strings.HasPrefix(d.Invite.Recipient.User, "app") }
	}
	fromCallServer := func(c *Config) { c.Direct = func(netip.Addr) bool { return false } }
	for _, tc := range []struct {
		name, user, proto, pt, codec, code string
		admit                              func(*Dialog) error
		hdr                                string // one more header line
		opt                                func(*Config)
		logs                               string // what the UA must log about it
	}{
		{"no route", "nobody", "RTP/AVP", "0", "PCMU", "404", nil, leg, nil, ""},
		{"no G.711", "app", "RTP/AVP", "18", "G729", "488", nil, leg, nil, ""},
		{"SRTP without a=crypto", "app", "RTP/SAVP", "0", "PCMU", "488", nil, leg, nil, ""},
		{"not admitted", "app", "RTP/AVP", "8", "PCMA", "503", func(*Dialog) error { return errors.New("full") }, leg, nil, ""},
		// A leg from the call server's side always carries the call's id:
		// one without is refused, never re-keyed under its SIP Call-ID.
		{"a leg without its call id", "app", "RTP/AVP", "0", "PCMU", "400", nil, "X-Other: 1", fromCallServer,
			"INVITE refused (400): a leg from the call server's side without X-Tandem-Call-ID"},
		{"a call id that cannot be one", "app", "RTP/AVP", "0", "PCMU", "400", nil, "X-Tandem-Call-ID: " + strings.Repeat("a", maxCallIDLen+1), nil,
			"cannot be a call id"},
		// The header and the correlation id in the dialed number disagree.
		{"two ids", "app" + corrID, "RTP/AVP", "0", "PCMU", "400", nil, "X-Tandem-Call-ID: " + strings.Repeat("b", 32), nil,
			"names another call than its X-Tandem-Call-ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			opts := []func(*Config){route, func(c *Config) {
				c.Log = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
			}}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			u, rec := startUA(t, tc.admit, opts...)
			if !runSIPp(t, u.Addr(), tc.user, "uac-expect.xml", "CODE", tc.code, "PROTO", tc.proto, "PT", tc.pt, "CODEC", tc.codec, "CALLHDR", tc.hdr) {
				t.Fatalf("no %s", tc.code)
			}
			waitFor(t, 10*time.Second, "no dialog", func() bool { return u.Active() == 0 })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.calls) != 0 || len(rec.ends) != 0 {
				t.Errorf("a refused INVITE reached the role: sessions %q, ends %q", rec.calls, rec.ends)
			}
			if !strings.Contains(logs.String(), tc.logs) {
				t.Errorf("log %q, want a line with %q", logs.String(), tc.logs)
			}
		})
	}
}

// TestCallOfItsOwn: an INVITE without X-Tandem-Call-ID from a source that
// may call straight in (a trunk; any source when Direct is nil) is a call
// of its own, under a new global id, and the role is told (Direct).
func TestCallOfItsOwn(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  func(*Config)
	}{
		{"stand-alone (Direct nil)", func(*Config) {}},
		{"from a trunk", func(c *Config) { c.Direct = func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") } }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, rec := startUA(t, nil, tc.opt)
			if !runSIPp(t, u.Addr(), "app", "uac-hold.xml", "CALLHDR", "X-Other: 1") {
				t.Fatal("the call failed")
			}
			waitFor(t, 10*time.Second, "the dialog's end", func() bool { return u.Active() == 0 })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.calls) != 1 || len(rec.calls[0]) != 32 || !rec.direct[0] {
				t.Errorf("sessions %q (direct %v), want one under a new 32-digit call id, direct", rec.calls, rec.direct)
			}
		})
	}
}

func TestValidCallID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"18eb2c1f00a1b2c3d4e5f60718293a4b", true},
		{"global-1", true},
		{"", false},
		{"a b", false},
		{"a\x00b", false},
		{"caf\u00e9", false},
		{strings.Repeat("f", maxCallIDLen), true},
		{strings.Repeat("f", maxCallIDLen+1), false},
	} {
		if got := validCallID(tc.id); got != tc.ok {
			t.Errorf("validCallID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func FuzzValidCallID(f *testing.F) {
	for _, s := range []string{"18eb2c1f00a1b2c3d4e5f60718293a4b", "", "a b", "\x00", strings.Repeat("x", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validCallID(s) {
			return
		}
		if len(s) == 0 || len(s) > maxCallIDLen || strings.ContainsAny(s, " \t\r\n\x00") {
			t.Fatalf("validCallID(%q) took a value no id has", s)
		}
	})
}

// corrID is a call id as a VRU label's correlation id.
const corrID = "18eb2c1f00a1b2c3d4e5f60718293a4b"

// TestLegByCorrelationID: a VRU leg that lost its X-Tandem-Call-ID on the
// way (a proxy that drops X- headers) is matched to its call by the
// correlation id its dialed number ends in, even from a source that may
// not call on its own.
func TestLegByCorrelationID(t *testing.T) {
	u, rec := startUA(t, nil, func(c *Config) {
		c.Route = func(d *Dialog) bool { return strings.HasPrefix(d.Invite.Recipient.User, "app") }
		c.Direct = func(netip.Addr) bool { return false }
	})
	if !runSIPp(t, u.Addr(), "app"+corrID, "uac-hold.xml", "CALLHDR", "X-Other: 1") {
		t.Fatal("the call failed")
	}
	waitFor(t, 10*time.Second, "the dialog's end", func() bool { return u.Active() == 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.calls) != "["+corrID+"]" || rec.direct[0] {
		t.Errorf("sessions %q (direct %v), want one of call %s, not direct", rec.calls, rec.direct, corrID)
	}
}
