package cti

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

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
