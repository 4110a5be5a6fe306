package sipedge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/tandem-cc/tandem/internal/authlimit"
	"github.com/tandem-cc/tandem/internal/event"
)

// nonceLifetime bounds how long a challenge may be answered. Past it the
// client is challenged again with stale=true (RFC 7616 §3.3), which phones
// answer without asking the user.
const nonceLifetime = 5 * time.Minute

// maxNonces bounds the nonces whose counts are remembered (about 100 bytes
// each). Only a request with a valid digest adds one, so only holders of
// valid credentials can fill it; when full, the oldest is forgotten and any
// further use of it is answered stale, never accepted (see nonceCounts).
const maxNonces = 65536

// sourceLimitFactor: a source's key tolerates this many times the
// account's limit, so that several phones behind one NAT address do not
// slow each other down for one mistyped password, while a guesser trying
// many accounts from one address is still held.
const sourceLimitFactor = 4

// authenticator checks digest credentials (RFC 3261 §22, RFC 7616, RFC 8760
// for SHA-256). Nonces carry their issue time and a random part under an
// HMAC with a per-process secret, so a challenge costs no memory; what is
// kept is the count (nc) last accepted for each nonce in use, so that a
// captured Authorization cannot be replayed (RFC 7616 §3.4.6, §5.12).
type authenticator struct {
	realm  string
	algs   []string // offered, in order
	secret [32]byte
	now    func() time.Time
	// password looks a user's password up. The edge reads it from its
	// current tables, so credentials change with a reload in the same
	// pointer swap as the trunks and the dial plan.
	password func(user string) (string, bool)
	limiter  *authlimit.Limiter
	limit    int // failures per account and source before attempts are spaced
	counts   nonceCounts
}

// newAuthenticator checks credentials against users; the edge then points
// password at its tables. limit failures within window from one source at
// one account (sourceLimitFactor times that from one source at any) space
// that source's further attempts out.
func newAuthenticator(realm string, algs []string, users map[string]string, limit int, window time.Duration, now func() time.Time) *authenticator {
	a := &authenticator{realm: realm, algs: algs, now: now, limiter: authlimit.New(window, now), limit: limit,
		counts: nonceCounts{seen: map[string]*nonceUse{}}}
	a.password = func(u string) (string, bool) { p, ok := users[u]; return p, ok }
	_, _ = rand.Read(a.secret[:])
	return a
}

// nonce is issue time (8 bytes), a random part (8) that makes every
// challenge's nonce its own (two phones challenged in the same second must
// not share one count), and an HMAC of both (16).
func (a *authenticator) nonce() string {
	var b [8 + 8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().Unix()))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, a.secret[:])
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce reports whether n is one of ours, when it was issued, and
// whether it is still fresh.
func (a *authenticator) checkNonce(n string) (ours bool, issued time.Time, fresh bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 32 {
		return false, time.Time{}, false
	}
	m := hmac.New(sha256.New, a.secret[:])
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return false, time.Time{}, false
	}
	issued = time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	age := a.now().Sub(issued)
	return true, issued, age >= -time.Minute && age <= nonceLifetime
}

// challenges returns the challenge header values to send, one per
// configured algorithm in order (RFC 8760 §2.4), all with one nonce.
func (a *authenticator) challenges(stale bool) []string {
	n := a.nonce()
	out := make([]string, 0, 2)
	for _, alg := range a.algs {
		c := digest.Challenge{Realm: a.realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

var (
	errNoCredentials  = errors.New("no credentials")
	errBadCredentials = errors.New("bad credentials")
	errStaleNonce     = errors.New("stale nonce")
	// errReplay: a valid digest whose nonce count was already used. The
	// client is challenged afresh (stale=true): a phone that lost count
	// recovers, and a replayer learns nothing.
	errReplay = errors.New("nonce count replayed")
	// errURIMismatch: the digest was computed for another Request-URI
	// (RFC 7616 §3.4.6): credentials for sip:2000 must not place a call to
	// 9011441234567. Answered 400, as the RFC says.
	errURIMismatch = errors.New("digest uri does not match the Request-URI")
)

// parseCredentials parses one Authorization or Proxy-Authorization value
// and checks what the digest library leaves to its caller: the fields a
// SIP digest must carry, and qop=auth's cnonce and nc (RFC 7616 §3.4).
// errNoCredentials means another scheme, which is ignored (RFC 4475
// §3.3.14); any other error is a malformed digest.
func parseCredentials(value string) (*digest.Credentials, error) {
	if !digest.IsDigest(value) {
		return nil, errNoCredentials
	}
	cred, err := digest.ParseCredentials(value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadCredentials, err)
	}
	switch {
	case cred.Username == "", cred.Nonce == "", cred.URI == "", cred.Response == "":
		return nil, fmt.Errorf("%w: username, nonce, uri and response are required", errBadCredentials)
	case cred.Userhash:
		return nil, fmt.Errorf("%w: userhash is not offered", errBadCredentials)
	case cred.QOP != "" && cred.QOP != "auth":
		return nil, fmt.Errorf("%w: qop %q is not offered", errBadCredentials, cred.QOP)
	case cred.QOP == "auth" && (cred.Cnonce == "" || cred.Nc <= 0):
		return nil, fmt.Errorf("%w: qop=auth needs a cnonce and an nc from 1", errBadCredentials)
	}
	return cred, nil
}

// sameURI reports whether the digest's uri names the Request-URI: scheme,
// user, host and port as RFC 3261 §19.1.4 compares them (parameters aside:
// they do not change where the request goes through tandem's dial plan).
func sameURI(digestURI string, ruri sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, ruri.Scheme) && u.User == ruri.User &&
		strings.EqualFold(u.Host, ruri.Host) && u.Port == ruri.Port
}

// verify checks the credentials in header hdr (Authorization or
// Proxy-Authorization) of req and returns the authenticated user.
func (a *authenticator) verify(req *sip.Request, hdr string) (string, error) {
	var lastErr error = errNoCredentials
	for _, h := range req.GetHeaders(hdr) {
		user, err := a.verifyOne(req, h.Value())
		if err == nil {
			return user, nil
		}
		if lastErr == errNoCredentials || errors.Is(err, errStaleNonce) || errors.Is(err, errReplay) {
			lastErr = err
		}
	}
	return "", lastErr
}

// ours returns the first credentials in hdr meant for this realm, with the
// user they claim (for the limiter's key), or nil.
func (a *authenticator) ours(req *sip.Request, hdr string) *digest.Credentials {
	for _, h := range req.GetHeaders(hdr) {
		if c, err := parseCredentials(h.Value()); err == nil && c.Realm == a.realm {
			return c
		} else if err != nil && !errors.Is(err, errNoCredentials) {
			return &digest.Credentials{} // malformed: an attempt all the same
		}
	}
	return nil
}

func (a *authenticator) verifyOne(req *sip.Request, value string) (string, error) {
	cred, err := parseCredentials(value)
	if err != nil {
		return "", err
	}
	if cred.Realm != a.realm {
		return "", errNoCredentials // credentials for someone else's realm
	}
	password, ok := a.password(cred.Username)
	if !ok {
		return "", errBadCredentials
	}
	ours, issued, fresh := a.checkNonce(cred.Nonce)
	if !ours {
		return "", errBadCredentials
	}
	if !sameURI(cred.URI, req.Recipient) {
		return "", errURIMismatch
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = "MD5" // RFC 7616 §3.3: absent means MD5
	}
	if !slices.Contains(a.algs, alg) {
		return "", errBadCredentials
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method:   string(req.Method),
		URI:      cred.URI,
		Username: cred.Username,
		Password: password,
		Cnonce:   cred.Cnonce,
		Count:    cred.Nc,
	})
	if err != nil {
		return "", errBadCredentials
	}
	if subtle.ConstantTimeCompare([]byte(want.Response), []byte(strings.ToLower(cred.Response))) != 1 {
		return "", errBadCredentials
	}
	if !fresh {
		// Right password, old nonce: challenge again with stale=true.
		return "", errStaleNonce
	}
	if !a.counts.use(cred.Nonce, issued, cred.Nc, a.now()) {
		return "", errReplay
	}
	return cred.Username, nil
}

// nonceCounts remembers, per nonce in use, the highest nc accepted: with
// qop=auth each request must carry a higher one (RFC 7616 §3.4.6), and a
// digest without qop (RFC 2069 style, no count) may be used once. Nonces
// leave when they expire; when the table is full the oldest leaves early
// and floor moves past its issue time, so a forgotten nonce is answered
// stale instead of being taken for a first use.
type nonceCounts struct {
	mu    sync.Mutex // guards all below
	seen  map[string]*nonceUse
	order []string // nonces in first-use order, for expiry and eviction
	floor time.Time
}

type nonceUse struct {
	nc     int
	issued time.Time
}

// use records a request with count nc (0: no qop) on nonce n issued at
// issued, and reports whether it may be accepted.
func (c *nonceCounts) use(n string, issued time.Time, nc int, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Expire from the front; the order is of first use, so a nonce may
	// outlive its turn by a little: the table's bound still holds.
	for len(c.order) > 0 {
		u := c.seen[c.order[0]]
		if u != nil && now.Sub(u.issued) <= nonceLifetime+time.Minute && len(c.seen) < maxNonces {
			break
		}
		if u != nil {
			if now.Sub(u.issued) <= nonceLifetime+time.Minute {
				c.floor = later(c.floor, u.issued) // evicted while still usable
			}
			delete(c.seen, c.order[0])
		}
		c.order = c.order[1:]
	}
	if u := c.seen[n]; u != nil {
		if nc == 0 || nc <= u.nc {
			return false
		}
		u.nc = nc
		return true
	}
	if !issued.After(c.floor) {
		return false
	}
	c.seen[n] = &nonceUse{nc: nc, issued: issued}
	c.order = append(c.order, n)
	return true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// authenticate checks digest credentials in hdr. When they are missing,
// stale or replayed it challenges with code; when they are wrong it
// answers 403, and 400 when computed for another Request-URI.
//
// Every attempt that carries credentials is counted before it is checked
// (authlimit): by account and source, and by source. Past the limit the
// request is held until its turn, so attempts from one source are spaced
// out in sequence however many arrive at once; past the waiters a source
// may have (or all sources together), 503 with Retry-After at once, holding
// nothing.
func (e *Edge) authenticate(req *sip.Request, tx sip.ServerTransaction, hdr, chalHdr string, code int, reason string) (string, bool) {
	a := e.auth
	cred := a.ours(req, hdr)
	if cred == nil {
		// Nothing to check: a challenge costs no guess, so none waits.
		e.challenge(req, tx, chalHdr, code, reason, false)
		return "", false
	}
	src := sourceIP(req)
	keys := []authlimit.Key{
		{ID: "user:" + src + "/" + cred.Username, Limit: a.limit},
		{ID: "addr:" + src, Limit: a.limit * sourceLimitFactor, KeepOnSuccess: true},
	}
	r, retry, err := a.limiter.Reserve(keys...)
	if err != nil {
		e.log.Warn("authentication refused: too many attempts waiting", "method", string(req.Method), "from", req.Source(), "retry_after", retry)
		e.refusedInvite(req, 503, event.RejectAuthLimit, "too many failed authentications", false)
		e.respond(req, tx, 503, "Service Unavailable (too many failed authentications)",
			sip.NewHeader("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second))))
		return "", false
	}
	if w := r.Wait(); w > 0 {
		t := time.NewTimer(w)
		select {
		case <-t.C:
		case <-tx.Done():
			t.Stop()
			r.Cancel()
			return "", false
		}
	}
	user, err := a.verify(req, hdr)
	switch {
	case err == nil:
		r.Done(true)
		return user, true
	case errors.Is(err, errNoCredentials):
		r.Cancel()
		e.challenge(req, tx, chalHdr, code, reason, false)
	case errors.Is(err, errStaleNonce):
		r.Done(true) // the password was right
		e.challenge(req, tx, chalHdr, code, reason, true)
	case errors.Is(err, errReplay):
		r.Done(false)
		e.log.Info("authentication refused: nonce count replayed", "method", string(req.Method), "from", req.Source())
		e.challenge(req, tx, chalHdr, code, reason, true)
	case errors.Is(err, errURIMismatch):
		r.Done(false)
		e.log.Info("authentication refused: digest uri is not the Request-URI", "method", string(req.Method), "from", req.Source(),
			"uri", cred.URI, "request_uri", req.Recipient.String())
		e.refusedInvite(req, 400, event.RejectAuth, "digest uri does not match the Request-URI", false)
		e.respond(req, tx, 400, "Bad Request (digest uri does not match the Request-URI)")
	default:
		r.Done(false)
		e.log.Info("authentication failed", "method", string(req.Method), "from", req.Source())
		e.refusedInvite(req, 403, event.RejectAuth, "credentials refused", false)
		e.respond(req, tx, 403, "Forbidden")
	}
	return "", false
}

// challenge answers code with one challenge per offered algorithm.
func (e *Edge) challenge(req *sip.Request, tx sip.ServerTransaction, chalHdr string, code int, reason string, stale bool) {
	var hs []sip.Header
	for _, c := range e.auth.challenges(stale) {
		hs = append(hs, sip.NewHeader(chalHdr, c))
	}
	e.respond(req, tx, code, reason, hs...)
}
