package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tandem-cc/tandem/internal/cti"
)

// fakeCTI answers sign-ins as cti.Server does, over the console.CTI
// interface: supervisor sue, agents a1 (free) and a2 (its phone in use by
// another agent: the router's conflict).
type fakeCTI struct {
	mu      sync.Mutex
	revoked []string
}

func (f *fakeCTI) SupervisorLogin(_ context.Context, req cti.SupervisorLoginRequest) (cti.LoginResponse, error) {
	if req.ID == "sue" && req.Password == "s3cret" {
		return cti.LoginResponse{Token: "tok-sue", Supervisor: "sue"}, nil
	}
	return cti.LoginResponse{}, fmt.Errorf("cti: supervisor login %s: wrong id or password: %w", req.ID, cti.ErrUnauthorized)
}

func (f *fakeCTI) Login(_ context.Context, req cti.LoginRequest) (cti.LoginResponse, error) {
	switch {
	case req.ID == "a1" && req.Password == "p1":
		return cti.LoginResponse{Token: "tok-a1"}, nil
	case req.ID == "a2" && req.Password == "p2":
		return cti.LoginResponse{}, fmt.Errorf("%w: extension 1002 is in use by agent a9", cti.ErrConflict)
	}
	return cti.LoginResponse{}, fmt.Errorf("cti: login %s: wrong id or password: %w", req.ID, cti.ErrUnauthorized)
}

func (f *fakeCTI) Logout(token string) {
	f.mu.Lock()
	f.revoked = append(f.revoked, token)
	f.mu.Unlock()
}

func (f *fakeCTI) Handler() http.Handler { return http.NotFoundHandler() }

// TestSignInThroughCTI: supervisors and agents sign in with CTI's
// credentials through the CTI interface; a refusal the agent must see
// (409) keeps CTI's reason, any other is the one wrong-login answer; a
// sign-out ends the CTI session too.
func TestSignInThroughCTI(t *testing.T) {
	f := &fakeCTI{}
	c, err := New(Config{Admin: Admin{Password: "correct horse"}, MediaDir: t.TempDir()}, Deps{CTI: f})
	if err != nil {
		t.Fatal(err)
	}
	login := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "http://console.test/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, r)
		return w
	}
	tests := []struct {
		body     string
		code     int
		role, in string
	}{
		{`{"user":"sue","password":"s3cret"}`, 200, "supervisor", ""},
		{`{"user":"a1","password":"p1"}`, 200, "agent", ""},
		{`{"user":"a2","password":"p2"}`, 409, "", "extension 1002 is in use"},
		{`{"user":"a1","password":"nope"}`, 401, "", "wrong user or password"},
		{`{"user":"sue","password":"nope"}`, 401, "", "wrong user or password"},
	}
	for _, tc := range tests {
		w := login(tc.body)
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.in) {
			t.Errorf("%s: %d %s, want %d with %q", tc.body, w.Code, w.Body, tc.code, tc.in)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var me meResponse
		if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || string(me.Role) != tc.role {
			t.Errorf("%s: signed in as %+v (%v), want role %s", tc.body, me, err, tc.role)
		}
	}
	// Sue signs out: her CTI token is revoked with the console's session.
	w := login(`{"user":"sue","password":"s3cret"}`)
	var me meResponse
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "http://console.test/api/logout", nil)
	for _, ck := range w.Result().Cookies() {
		r.AddCookie(ck)
	}
	r.Header.Set(csrfHeader, me.CSRF)
	out := httptest.NewRecorder()
	c.Handler().ServeHTTP(out, r)
	if out.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", out.Code, out.Body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.revoked) != 1 || f.revoked[0] != "tok-sue" {
		t.Errorf("CTI tokens revoked %v, want [tok-sue]", f.revoked)
	}
}
