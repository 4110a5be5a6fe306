package sipedge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/tandem-cc/tandem/internal/authlimit"
)

// nonceLifetime bounds how long a challenge may be answered. Past it the
// client is challenged again with stale=true (RFC 2617 §3.2.1), which phones
// answer without asking the user.
const nonceLifetime = 5 * time.Minute

// authenticator checks digest credentials (RFC 3261 §22, RFC 8760 for
// SHA-256). Nonces are stateless: a timestamp and an HMAC of it with a
// per-process secret, so a flood of challenges costs no memory.
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
}

// newAuthenticator checks credentials against users; the edge then points
// password at its tables.
func newAuthenticator(realm string, algs []string, users map[string]string, limit int, window time.Duration, now func() time.Time) *authenticator {
	a := &authenticator{realm: realm, algs: algs, now: now, limiter: authlimit.New(limit, window, now)}
	a.password = func(u string) (string, bool) { p, ok := users[u]; return p, ok }
	_, _ = rand.Read(a.secret[:])
	return a
}

func (a *authenticator) nonce() string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().Unix()))
	m := hmac.New(sha256.New, a.secret[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce reports whether n is one of ours and whether it is still fresh.
func (a *authenticator) checkNonce(n string) (ours, fresh bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false, false
	}
	m := hmac.New(sha256.New, a.secret[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	age := a.now().Sub(issued)
	return true, age >= -time.Minute && age <= nonceLifetime
}

// challenges returns the challenge header values to send, one per
// configured algorithm in order (RFC 8760 §2.4).
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
)

// verify checks the credentials in header hdr (Authorization or
// Proxy-Authorization) of req and returns the authenticated user.
func (a *authenticator) verify(req *sip.Request, hdr string) (string, error) {
	var lastErr error = errNoCredentials
	for _, h := range req.GetHeaders(hdr) {
		user, err := a.verifyOne(req, h.Value())
		if err == nil {
			return user, nil
		}
		if lastErr == errNoCredentials || err == errStaleNonce {
			lastErr = err
		}
	}
	return "", lastErr
}

func (a *authenticator) verifyOne(req *sip.Request, value string) (string, error) {
	if !digest.IsDigest(value) {
		return "", errNoCredentials // another scheme: ignore it (RFC 4475 §3.3.14)
	}
	cred, err := digest.ParseCredentials(value)
	if err != nil {
		return "", errBadCredentials
	}
	if cred.Realm != a.realm {
		return "", errNoCredentials // credentials for someone else's realm
	}
	password, ok := a.password(cred.Username)
	if !ok {
		return "", errBadCredentials
	}
	ours, fresh := a.checkNonce(cred.Nonce)
	if !ours {
		return "", errBadCredentials
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = "MD5" // RFC 2617 §3.2.2: absent means MD5
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
	return cred.Username, nil
}
