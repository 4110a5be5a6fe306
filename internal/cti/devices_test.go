package cti

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/authlimit"
	"github.com/tandem-cc/tandem/internal/router"
)

// fakeDevices is the SIP side as CTI sees it: a set of phones (the
// registrar's users), each registered or not. internal/node's Devices is
// the real one, tested there against a running edge.
type fakeDevices struct {
	mu         sync.Mutex
	registered map[string]bool // phone → registered now
}

func newFakeDevices(phones ...string) *fakeDevices {
	d := &fakeDevices{registered: map[string]bool{}}
	for _, p := range phones {
		d.registered[p] = true
	}
	return d
}

func (d *fakeDevices) set(ext string, registered bool) {
	d.mu.Lock()
	d.registered[ext] = registered
	d.mu.Unlock()
}

func (d *fakeDevices) Permitted(ext string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.registered[ext]
	return ok
}

func (d *fakeDevices) Reachable(ext string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.registered[ext] {
		return fmt.Errorf("extension %s has no registered phone", ext)
	}
	return nil
}

// TestLoginExtension: an agent logs in at its configured extension or at a
// phone of the contact center; a dialed number, a conference room, another
// service's number or a SIP URI elsewhere is refused with the reason, and
// only once the password is known to be right.
func TestLoginExtension(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, id, pass, ext string
		code                int
		says                string
	}{
		{"international number", "a1", "p1", "9011441234567", 403, `extension "9011441234567" is not a phone of this contact center`},
		{"a service number", "a1", "p1", "5000", 403, "log in at your own extension 101"},
		{"a conference room", "a1", "p1", "conf-x", 403, "not a phone"},
		{"a SIP URI elsewhere", "a1", "p1", "sip:evil@203.0.113.9", 403, "not a phone"},
		{"a long one", "a1", "p1", strings.Repeat("1", 200), 403, "not a phone"},
		{"bogus extension, wrong password", "a1", "nope", "9011441234567", 401, "wrong id or password"},
		{"bogus extension, unknown agent", "zz", "p1", "9011441234567", 401, "wrong id or password"},
		{"its own", "a1", "p1", "101", 200, ""},
		{"configured by default", "a1", "p1", "", 200, ""},
		{"a phone of the contact center", "a2", "p2", "201", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				LoginResponse
				ErrorBody
			}
			code := e.do("POST", "/v1/login", "", LoginRequest{ID: router.AgentID(tt.id), Password: tt.pass, Extension: tt.ext}, &out)
			if code != tt.code || !strings.Contains(out.Error, tt.says) {
				t.Fatalf("status %d %q, want %d saying %q", code, out.Error, tt.code, tt.says)
			}
		})
	}
	if st, _ := e.eng.Agent("a1"); st.Extension != "101" {
		t.Errorf("a1 at %q, want its own 101", st.Extension)
	}
}

// TestReadyNeedsReachablePhone: an agent whose phone is not registered is
// told so (409) and stays not ready, instead of taking calls that ring no
// answer; once the phone registers, ready works.
func TestReadyNeedsReachablePhone(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.login("a1", "p1")
	e.devices.set("101", false)
	var eb ErrorBody
	if code := e.do("POST", "/v1/agents/a1/state", tok, StateRequest{State: "ready"}, &eb); code != 409 ||
		!strings.Contains(eb.Error, "extension 101 has no registered phone") {
		t.Fatalf("ready with no phone: %d %q, want 409 saying extension 101 has no registered phone", code, eb.Error)
	}
	if st, _ := e.eng.Agent("a1"); st.State.String() != "not_ready" {
		t.Fatalf("a1 %s after a refused ready, want not_ready", st.State)
	}
	// Not ready needs no phone.
	if code := e.state("a1", tok, "not_ready", 0); code != 200 {
		t.Fatalf("not ready: %d", code)
	}
	e.devices.set("101", true)
	if code := e.state("a1", tok, "ready", 0); code != 200 {
		t.Fatalf("ready once registered: %d", code)
	}
}

// login posts a login from address addr straight to the handler, as a
// request from that address would arrive.
func loginFrom(e *env, addr, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// TestLoginLimitPerSource: guesses from one address slow that address
// down, with an honest Retry-After and a message that says so, but never
// the agent or supervisor signing in from another; concurrent guesses are
// held to the limit before any password is compared.
func TestLoginLimitPerSource(t *testing.T) {
	for _, kind := range []struct{ path, good, bad string }{
		{"/v1/login", `{"id":"a1","password":"p1"}`, `{"id":"a1","password":"guess"}`},
		{"/v1/supervisor/login", `{"id":"sup","password":"secret"}`, `{"id":"sup","password":"guess"}`},
	} {
		t.Run(kind.path, func(t *testing.T) {
			e := newEnv(t, Config{})
			const attacker, agent = "203.0.113.9", "192.0.2.10"
			// 40 guesses at once: only the limit's worth are checked.
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				codes = map[int]int{}
			)
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := loginFrom(e, attacker, kind.path, kind.bad)
					mu.Lock()
					codes[rec.Code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[401] != loginFailures || codes[429] != 40-loginFailures {
				t.Fatalf("40 concurrent guesses answered %v, want %d checked (401) and the rest 429", codes, loginFailures)
			}
			// The attacker is told to wait, for the real time left.
			rec := loginFrom(e, attacker, kind.path, kind.good)
			if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "too many failed logins") {
				t.Fatalf("attacker after the limit: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
			}
			// The real user, from its own address, is not held at all.
			if rec := loginFrom(e, agent, kind.path, kind.good); rec.Code != 200 {
				t.Fatalf("the real user from another address: %d %s", rec.Code, rec.Body)
			}
			// The delays grow per failure; Retry-After follows them.
			for i, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, authlimit.MaxDelay} {
				rec := loginFrom(e, attacker, kind.path, kind.bad)
				secs := int((want + time.Second - 1) / time.Second)
				if rec.Code != 429 || rec.Header().Get("Retry-After") != strconv.Itoa(secs) {
					t.Fatalf("attempt %d: %d Retry-After %q, want 429 and %d", i, rec.Code, rec.Header().Get("Retry-After"), secs)
				}
				e.clk.add(want)
				if rec := loginFrom(e, attacker, kind.path, kind.bad); rec.Code != 401 {
					t.Fatalf("attempt %d after waiting %s: %d, want 401", i, want, rec.Code)
				}
			}
			if rec := loginFrom(e, agent, kind.path, kind.good); rec.Code != 200 {
				t.Fatalf("the real user, later: %d %s", rec.Code, rec.Body)
			}
		})
	}
}
