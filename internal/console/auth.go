package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/authlimit"
	"github.com/tandem-cc/tandem/internal/token"
)

// Role is what a signed-in user may do.
type Role string

// Roles, from most to least powerful; an admin is not an agent and an agent
// sees only its desktop.
const (
	// RoleAdmin configures the contact center and sees everything a
	// supervisor sees except the team view (forcing states needs a CTI
	// supervisor identity).
	RoleAdmin Role = "admin"
	// RoleSupervisor watches: health, live view, wallboard, reports, the
	// team's agents (forcing their states).
	RoleSupervisor Role = "supervisor"
	// RoleAgent has the agent desktop only.
	RoleAgent Role = "agent"
)

// Roles that may see the read-only operations pages.
var watchers = []Role{RoleAdmin, RoleSupervisor}

// cookieName is the session cookie. The __Host- prefix is only allowed on
// https, and the console commonly runs on plain loopback http, so it is not
// used; SameSite=Strict and HttpOnly are.
const cookieName = "tandem_console"

// csrfHeader carries the session's CSRF token on every state-changing
// request; a cross-site page can neither read the token nor set the header
// without a CORS preflight the console never grants.
const csrfHeader = "X-CSRF-Token"

// session is one sign-in. ctiToken is the CTI bearer token agents and
// supervisors act with; it never leaves the server, so script in the page
// cannot steal it.
type session struct {
	user     string
	role     Role
	agent    string // the agent id, for RoleAgent
	ctiToken string
	csrf     string
	expires  time.Time
}

// issue stores the sign-in ss (giving it its CSRF token and expiry) and
// returns the cookie value. Sessions are kept in a token.Store: by the
// SHA-256 of the cookie's random bytes, so a memory dump gives no usable
// cookie. A restart signs everyone out, as it would end the CTI tokens
// behind them.
func (c *Console) issue(ss *session) (string, error) {
	csrf, err := token.Random()
	if err != nil {
		return "", err
	}
	ss.csrf = csrf
	tok, exp, err := c.auth.Issue(ss)
	if err != nil {
		return "", err
	}
	// ss is not reachable by anyone before its cookie is sent.
	ss.expires = exp
	return tok, nil
}

// sessionOf returns the request's session, if its cookie names a live one.
func (c *Console) sessionOf(r *http.Request) (*session, string, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil, "", false
	}
	ss, ok := c.auth.Lookup(ck.Value)
	return ss, ck.Value, ok
}

// safeMethod: requests that change nothing and need no CSRF token.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// checkCSRF compares the request's token with the session's in constant
// time. The Origin check is a second wall for browsers that send it: a
// request another site's page makes is refused even before the token.
func checkCSRF(r *http.Request, ss *session) error {
	if !sameOrigin(r) {
		return fmt.Errorf("console: %s %s: cross-origin request refused", r.Method, r.URL.Path)
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {
		return fmt.Errorf("console: %s %s: missing or wrong %s", r.Method, r.URL.Path, csrfHeader)
	}
	return nil
}

// sameOrigin is true when the request carries no Origin (not a browser's
// cross-origin request) or one naming this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// allowed reports whether role is among roles.
func allowed(role Role, roles []Role) bool { return slices.Contains(roles, role) }

// guard wraps an API handler: a session is required (401 without), its role
// must be one of roles (403 otherwise) and a state-changing method must
// carry the CSRF token (403 without).
func (c *Console) guard(roles []Role, h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, _, ok := c.sessionOf(r)
		if !ok {
			c.fail(w, http.StatusUnauthorized, fmt.Errorf("console: %s %s: sign in first", r.Method, r.URL.Path))
			return
		}
		if !allowed(ss.role, roles) {
			c.log.Info("console: refused by role", "user", ss.user, "role", ss.role, "path", r.URL.Path)
			c.fail(w, http.StatusForbidden, fmt.Errorf("console: %s %s: not for role %s", r.Method, r.URL.Path, ss.role))
			return
		}
		if !safeMethod(r.Method) {
			if err := checkCSRF(r, ss); err != nil {
				c.log.Info("console: refused without CSRF token", "user", ss.user, "path", r.URL.Path)
				c.fail(w, http.StatusForbidden, err)
				return
			}
		}
		h(w, r, ss)
	}
}

// sameString compares in constant time; hashing first keeps the lengths
// from leaking too.
func sameString(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// Limits of failed sign-ins, per account from one source and per source.
// Past them, each further attempt waits its turn (250 ms, doubling, up to
// authlimit.MaxDelay after the one before) and is answered 429 with the
// real time left. The account's count is per source, so five wrong
// passwords from an attacker's address never keep the admin out from its
// own; the source's count (signInSourceFactor times looser, for offices
// behind one NAT address) holds a guesser trying many accounts, and a
// success does not reset it.
const (
	signInFailures     = 5
	signInWindow       = 5 * time.Minute
	signInSourceFactor = 4
)

// signInKeys are the limiter's keys for a sign-in as user from r's source.
func signInKeys(r *http.Request, user string) []authlimit.Key {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []authlimit.Key{
		{ID: "user:" + strings.ToLower(user) + "@" + host, Limit: signInFailures},
		{ID: "addr:" + host, Limit: signInFailures * signInSourceFactor, KeepOnSuccess: true},
	}
}

// signInAllowed reserves a sign-in attempt before its (bcrypt) check, so
// that concurrent attempts cannot pass the limit together; while one must
// wait it answers 429 with the seconds left, rounded up. The caller settles
// the reservation.
func (c *Console) signInAllowed(w http.ResponseWriter, r *http.Request, user string) (*authlimit.Reservation, bool) {
	res, d := c.failed.Allow(signInKeys(r, user)...)
	if res != nil {
		return res, true
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.log.Warn("console: sign-in refused: too many failures", "user", user, "remote", r.RemoteAddr, "retry_after", d)
	c.fail(w, http.StatusTooManyRequests, fmt.Errorf("console: login: too many failed sign-ins for %s from your address; try again in %d s", user, secs))
	return nil, false
}
