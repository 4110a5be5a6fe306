package cti

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/router"
)

// principal is who a token speaks for: one agent, or one supervisor.
type principal struct {
	Agent      router.AgentID
	Supervisor string
}

func (p principal) isSupervisor() bool { return p.Supervisor != "" }

// may reports whether p may act on agent id's own resources.
func (p principal) may(id router.AgentID) bool { return !p.isSupervisor() && p.Agent == id }

type session struct {
	hash    [sha256.Size]byte
	who     principal
	expires time.Time
}

// sessions holds the bearer tokens in memory. Tokens are 32 random bytes;
// only their SHA-256 is kept, as the map key, so a map lookup's timing can
// reveal nothing about a valid token, and a dump of memory gives none.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	// mu guards m; nothing else is done while it is held.
	mu sync.Mutex
	m  map[[sha256.Size]byte]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[[sha256.Size]byte]*session{}}
}

// issue returns a new token for who and when it expires.
func (s *sessions) issue(who principal) (string, time.Time, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("cti: token: %w", err)
	}
	h := sha256.Sum256(raw[:])
	exp := s.now().Add(s.ttl)
	s.mu.Lock()
	s.m[h] = &session{hash: h, who: who, expires: exp}
	s.mu.Unlock()
	return base64.RawURLEncoding.EncodeToString(raw[:]), exp, nil
}

// lookup returns the principal of a valid token.
func (s *sessions) lookup(token string) (principal, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return principal{}, false
	}
	h := sha256.Sum256(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[h]
	// The compare is constant-time even though the map already matched:
	// it keeps the check explicit should the store ever change shape.
	if ss == nil || subtle.ConstantTimeCompare(ss.hash[:], h[:]) != 1 {
		return principal{}, false
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, h)
		return principal{}, false
	}
	return ss.who, true
}

// revoke forgets a token.
func (s *sessions) revoke(token string) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return
	}
	h := sha256.Sum256(raw)
	s.mu.Lock()
	delete(s.m, h)
	s.mu.Unlock()
}

// sweep forgets expired tokens, so that logins that never log out do not
// grow the map for ever.
func (s *sessions) sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, k)
		}
	}
}

// bearer is the token of an Authorization: Bearer header; allowQuery also
// takes ?token=, which browsers need because they cannot set headers on a
// WebSocket handshake.
func bearer(r *http.Request, allowQuery bool) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if allowQuery {
		return r.URL.Query().Get("token")
	}
	return ""
}

// checkSupervisor compares a supervisor credential in constant time; both
// passwords are hashed first so that their lengths do not leak either.
func checkSupervisor(list []Supervisor, id, password string) bool {
	got := sha256.Sum256([]byte(password))
	ok := 0
	for _, s := range list {
		want := sha256.Sum256([]byte(s.Password))
		if s.ID == id {
			ok |= subtle.ConstantTimeCompare(got[:], want[:])
		}
	}
	return ok == 1
}
