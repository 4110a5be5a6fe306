package console

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const doc = `dialed_numbers:
  - {number: "3000", call_type: sales}
call_types:
  - {name: sales, script: sales}
skill_groups: [{name: sales}]
scripts:
  - name: sales
    nodes:
      - {id: s, type: start, next: q}
      - id: q
        type: queue
        skill_groups: [nosuch]
        next: e
      - {id: e, type: end}
`

// TestProblemsAtLines: each validation problem is placed at the line that
// holds the field at fault.
func TestProblemsAtLines(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		has  string
	}{
		{"unknown skill group in a node", doc, 12, "unknown skill group"},
		{"unknown call type", strings.Replace(doc, "call_type: sales}", "call_type: nope}", 1), 2, "unknown call type"},
		{"unknown field", strings.Replace(doc, "next: e\n", "nxt: e\n", 1), 13, "nxt"},
		{"bad YAML", "skill_groups:\n\t- x\n", 2, "cannot start any token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probs, _ := checkDocument([]byte(tc.doc))
			for _, p := range probs {
				if p.Line == tc.line && strings.Contains(p.Path+" "+p.Msg, tc.has) {
					return
				}
			}
			t.Errorf("no problem at line %d with %q in %+v", tc.line, tc.has, probs)
		})
	}
}

// TestGuard: no session → 401, wrong role → 403, no CSRF token → 403,
// another origin → 403, an expired session → 401.
func TestGuard(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c, err := New(Config{Admin: Admin{Password: "correct horse"}, MediaDir: t.TempDir()}, Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	admin := &session{user: "admin", role: RoleAdmin}
	agent := &session{user: "alice", role: RoleAgent}
	atok, _ := c.issue(admin)
	gtok, _ := c.issue(agent)
	h := c.guard([]Role{RoleAdmin}, func(w http.ResponseWriter, _ *http.Request, _ *session) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, method, cookie, csrf, origin string
		later                              time.Duration
		want                               int
	}{
		{"admin reads", "GET", atok, "", "", 0, 204},
		{"admin writes with token", "PUT", atok, admin.csrf, "", 0, 204},
		{"no session", "PUT", "", admin.csrf, "", 0, 401},
		{"forged cookie", "GET", "AAAA", "", "", 0, 401},
		{"agent on an admin route", "GET", gtok, "", "", 0, 403},
		{"no CSRF token", "PUT", atok, "", "", 0, 403},
		{"wrong CSRF token", "PUT", atok, agent.csrf, "", 0, 403},
		{"other origin", "PUT", atok, admin.csrf, "http://evil.example", 0, 403},
		{"expired", "GET", atok, "", "", DefaultSessionTTL, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Unix(1_000_000, 0).Add(tc.later)
			r := httptest.NewRequest(tc.method, "http://console.test/api/x", nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: cookieName, Value: tc.cookie})
			}
			if tc.csrf != "" {
				r.Header.Set(csrfHeader, tc.csrf)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			h(w, r)
			if w.Code != tc.want {
				t.Errorf("got %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
		})
	}
}

// TestLogin: the admin's password, checked against its bcrypt hash; one
// answer for a wrong password and an unknown user.
func TestLogin(t *testing.T) {
	c, err := New(Config{Admin: Admin{Password: "correct horse"}, MediaDir: t.TempDir()}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		body string
		want int
	}{
		{`{"user":"admin","password":"correct horse"}`, 200},
		{`{"user":"admin","password":"wrong"}`, 401},
		{`{"user":"nobody","password":"correct horse"}`, 401},
		{`{"user":"admin"}`, 400},
		{`{"user":"admin","password":"x","role":"admin"}`, 400},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "http://console.test/api/login", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: got %d, want %d (%s)", tc.body, w.Code, tc.want, w.Body)
		}
		if tc.want == 401 && !strings.Contains(w.Body.String(), "wrong user or password") {
			t.Errorf("%s: refusal %s does not say the one thing", tc.body, w.Body)
		}
	}
}

// TestReportsPassedOn: the reporting API gets admins' and supervisors'
// GETs, with the session named in the context and a supervisor's CTI
// token as its bearer token, never the console's cookie; agents and
// writes are refused before it.
func TestReportsPassedOn(t *testing.T) {
	type seen struct {
		p      Principal
		ok     bool
		bearer string
		cookie string
		path   string
	}
	var got []seen
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalOf(r.Context())
		got = append(got, seen{p, ok, r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.URL.RequestURI()})
		w.WriteHeader(http.StatusOK)
	})
	c, err := New(Config{Admin: Admin{Password: "correct horse"}, MediaDir: t.TempDir()}, Deps{Reports: reports})
	if err != nil {
		t.Fatal(err)
	}
	admin := &session{user: "admin", role: RoleAdmin}
	sup := &session{user: "sue", role: RoleSupervisor, ctiToken: "sue-cti-token"}
	agent := &session{user: "alice", role: RoleAgent, agent: "alice", ctiToken: "alice-cti-token"}
	toks := map[*session]string{}
	for _, ss := range []*session{admin, sup, agent} {
		toks[ss], _ = c.issue(ss)
	}
	tests := []struct {
		name, method string
		who          *session
		csrf         bool
		want         int
		bearer       string
	}{
		{"admin reads", "GET", admin, false, 200, ""},
		{"supervisor reads with its CTI token", "GET", sup, false, 200, "Bearer sue-cti-token"},
		{"agent refused", "GET", agent, false, 403, ""},
		{"no session", "GET", nil, false, 401, ""},
		{"a write without CSRF token", "POST", admin, false, 403, ""},
		{"a write, read-only API", "DELETE", sup, true, 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			r := httptest.NewRequest(tc.method, "http://console.test/v1/reports/intervals?kind=call_type&name=sales", nil)
			r.Header.Set("Authorization", "Bearer forged")
			if tc.who != nil {
				r.AddCookie(&http.Cookie{Name: cookieName, Value: toks[tc.who]})
				if tc.csrf {
					r.Header.Set(csrfHeader, tc.who.csrf)
				}
			}
			w := httptest.NewRecorder()
			c.Handler().ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("got %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
			if tc.want != 200 {
				if len(got) != 0 {
					t.Fatalf("refused request reached the reporting API: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("reporting API saw %d requests", len(got))
			}
			s := got[0]
			if !s.ok || s.p.Role != tc.who.role || s.p.User != tc.who.user {
				t.Errorf("principal %+v (%v), want %s %s", s.p, s.ok, tc.who.role, tc.who.user)
			}
			if s.bearer != tc.bearer || s.cookie != "" {
				t.Errorf("passed on Authorization %q and Cookie %q, want %q and none", s.bearer, s.cookie, tc.bearer)
			}
			if s.path != "/v1/reports/intervals?kind=call_type&name=sales" {
				t.Errorf("passed on %s", s.path)
			}
		})
	}
}

// TestLoginSlowsGuessing: wrong passwords slow down the address they come
// from, for that account (and, signInSourceFactor times looser, for any),
// never the real admin signing in from its own address; 40 concurrent
// guesses get only the limit's worth of bcrypt checks; the 429 says what
// happened and its Retry-After is the real time left; a success from an
// address clears that account's count there.
func TestLoginSlowsGuessing(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c, err := New(Config{Admin: Admin{Password: "correct horse"}, MediaDir: t.TempDir()}, Deps{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	try := func(from, user, pass string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "http://console.test/api/login", strings.NewReader(`{"user":"`+user+`","password":"`+pass+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = from + ":40000"
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, r)
		return w
	}
	const attacker, admin = "203.0.113.9", "192.0.2.1"
	var wg sync.WaitGroup
	codes := map[int]int{}
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := try(attacker, "admin", "guess")
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	// A 401 is a bcrypt check made; a 429 is one refused before it.
	if codes[401] != signInFailures || codes[429] != 40-signInFailures {
		t.Fatalf("40 concurrent guesses: %v, want %d checked (401) and the rest 429", codes, signInFailures)
	}
	w := try(attacker, "admin", "correct horse")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "too many failed sign-ins") {
		t.Fatalf("the attacker's address after the limit: %d (Retry-After %q) %s, want 429, 1 and the reason", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// The real admin, from its own address, is not held.
	if w := try(admin, "admin", "correct horse"); w.Code != 200 {
		t.Fatalf("the admin from another address: %d %s, want 200", w.Code, w.Body)
	}
	// Retry-After follows the growing delay, and is honest: refused just
	// before, allowed at it.
	for i, d := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		w := try(attacker, "admin", "guess")
		if want := strconv.Itoa(int((d + time.Second - 1) / time.Second)); w.Code != 429 || w.Header().Get("Retry-After") != want {
			t.Fatalf("step %d: %d Retry-After %q, want 429 and %s", i, w.Code, w.Header().Get("Retry-After"), want)
		}
		advance(d - time.Millisecond)
		if w := try(attacker, "admin", "guess"); w.Code != 429 {
			t.Fatalf("step %d: %d a millisecond before Retry-After, want 429", i, w.Code)
		}
		advance(time.Millisecond)
		if w := try(attacker, "admin", "guess"); w.Code != 401 {
			t.Fatalf("step %d: %d at Retry-After, want 401", i, w.Code)
		}
	}
	if w := try(admin, "admin", "correct horse"); w.Code != 200 {
		t.Fatalf("the admin again: %d, want 200", w.Code)
	}
	advance(signInWindow + time.Second)
	if w := try(attacker, "admin", "correct horse"); w.Code != 200 {
		t.Fatalf("after the window: %d, want 200", w.Code)
	}
	for i := 0; i < signInFailures; i++ {
		if w := try(attacker, "admin", "guess"); w.Code != 401 {
			t.Fatalf("failure %d after a success: %d, want 401 (the count was cleared)", i, w.Code)
		}
	}
}
