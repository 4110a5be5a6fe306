package cti

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/authlimit"
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

// Limits of failed logins, per account from one source and per source.
// Past them, each further attempt waits its turn (250 ms, doubling, up to
// authlimit.MaxDelay after the one before) and is answered 429 with the
// real time left until then. An account's count is per source: an
// attacker's address can never slow down the agent or supervisor signing
// in from its own; the per-source count (loginSourceFactor times looser,
// for a call center behind one NAT address) holds a guesser trying many
// accounts, and a success does not reset it.
const (
	loginFailures     = 5
	loginWindow       = 5 * time.Minute
	loginSourceFactor = 4
)

// loginKeys are the limiter's keys for a login of kind (agent or
// supervisor: different accounts) id from r's source. A request with no
// source is the console's, in process: the console limits its own sign-ins
// by the real source before it asks, so none are counted twice here.
func loginKeys(r *http.Request, kind, id string) []authlimit.Key {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		return nil
	}
	return []authlimit.Key{
		{ID: kind + ":" + id + "@" + host, Limit: loginFailures},
		{ID: "addr:" + host, Limit: loginFailures * loginSourceFactor, KeepOnSuccess: true},
	}
}

// loginAllowed reserves a login attempt before the credentials are
// checked, so that concurrent attempts cannot pass the limit together;
// while one must wait it answers 429 with the seconds left (rounded up).
// The caller settles the reservation with Done.
func (s *Server) loginAllowed(w http.ResponseWriter, keys []authlimit.Key) (*authlimit.Reservation, bool) {
	res, d := s.failed.Allow(keys...)
	if res != nil {
		return res, true
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.log.Warn("cti: login refused: too many failures", "keys", keys, "retry_after", d)
	s.fail(w, fmt.Errorf("cti: login: %w (next attempt in %d s)", ErrTooManyFailures, secs))
	return nil, false
}
