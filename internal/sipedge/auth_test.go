package sipedge

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// creds builds the Authorization a client computes for challenge chal on a
// request of method to uri, with count nc.
func creds(t testing.TB, chal, method, uri, user, pass string, nc int) string {
	t.Helper()
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: user, Password: pass, Count: nc, Cnonce: "0a4f113b"})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// answer is a REGISTER's Authorization for sip:127.0.0.1.
func answer(t *testing.T, chal, user, pass string) string {
	return creds(t, chal, "REGISTER", "sip:127.0.0.1", user, pass, 1)
}

func register(auth string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Authorization", auth))
	return req
}

func invite(user, auth string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Proxy-Authorization", auth))
	return req
}

func testAuth(t *testing.T, now *time.Time, algs ...string) *authenticator {
	return newAuthenticator("tandem", algs, map[string]string{"1001": "secret1001"}, 3, time.Minute, func() time.Time { return *now })
}

func TestDigestBothAlgorithms(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := testAuth(t, &now, "SHA-256", "MD5")
	if chals := a.challenges(false); len(chals) != 2 {
		t.Fatalf("challenges: %v", chals)
	}
	// A fresh challenge for each: the algorithms' challenges share one
	// nonce, whose count the first answer uses up.
	for i := range 2 {
		ch := a.challenges(false)[i]
		user, err := a.verify(register(answer(t, ch, "1001", "secret1001")), "Authorization")
		if err != nil || user != "1001" {
			t.Errorf("%s: right password refused: %v", ch, err)
		}
		if _, err := a.verify(register(answer(t, ch, "1001", "wrong")), "Authorization"); !errors.Is(err, errBadCredentials) {
			t.Errorf("%s: wrong password: %v", ch, err)
		}
		if _, err := a.verify(register(answer(t, ch, "nobody", "x")), "Authorization"); !errors.Is(err, errBadCredentials) {
			t.Errorf("%s: unknown user: %v", ch, err)
		}
	}
	// A nonce past its lifetime with the right password is stale, not bad.
	old := creds(t, a.challenges(false)[0], "REGISTER", "sip:127.0.0.1", "1001", "secret1001", 1)
	now = now.Add(nonceLifetime + time.Second)
	if _, err := a.verify(register(old), "Authorization"); err != errStaleNonce {
		t.Errorf("old nonce: %v, want stale", err)
	}
	// A nonce we never issued is refused.
	forged := `Digest username="1001", realm="tandem", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1", response="00"`
	if _, err := a.verify(register(forged), "Authorization"); !errors.Is(err, errBadCredentials) {
		t.Errorf("forged nonce: %v", err)
	}
	// Another scheme is ignored (RFC 4475 §3.3.14): no credentials.
	if _, err := a.verify(register("NoOneKnowsThisScheme opaque-data=here"), "Authorization"); err != errNoCredentials {
		t.Errorf("unknown scheme: %v", err)
	}
}

func TestOnlyOfferedAlgorithmsVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sha := testAuth(t, &now, "SHA-256")
	md5 := testAuth(t, &now, "MD5")
	md5.secret = sha.secret
	ch := md5.challenges(false)[0]
	if _, err := sha.verify(register(answer(t, ch, "1001", "secret1001")), "Authorization"); !errors.Is(err, errBadCredentials) {
		t.Errorf("MD5 answer accepted where only SHA-256 is offered: %v", err)
	}
}

// TestDigestNonceCount: an Authorization seen once is never accepted again
// (the replay of a captured header on a new call), while the same nonce
// with a higher count is (RFC 7616 §3.4.6: a client may reuse a nonce).
func TestDigestNonceCount(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := testAuth(t, &now, "MD5")
	ch := a.challenges(false)[0]
	uri := "sip:2000@127.0.0.1"
	steps := []struct {
		name string
		nc   int
		want error
	}{
		{"first use", 1, nil},
		{"replayed on a new call", 1, errReplay},
		{"next count", 2, nil},
		{"count 2 again", 2, errReplay},
		{"a lower count", 1, errReplay},
		{"a jump ahead", 9, nil},
	}
	for _, s := range steps {
		_, err := a.verify(invite("2000", creds(t, ch, "INVITE", uri, "1001", "secret1001", s.nc)), "Proxy-Authorization")
		if err != s.want {
			t.Errorf("%s (nc=%d): %v, want %v", s.name, s.nc, err, s.want)
		}
	}
	// Without qop there is no count: such a digest may be used once.
	c, _ := digest.ParseChallenge(a.challenges(false)[0])
	c.QOP = nil
	cred, err := digest.Digest(c, digest.Options{Method: "INVITE", URI: uri, Username: "1001", Password: "secret1001"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, errReplay} {
		if _, err := a.verify(invite("2000", cred.String()), "Proxy-Authorization"); err != want {
			t.Errorf("no-qop digest, use %d: %v, want %v", i+1, err, want)
		}
	}
	// Two challenges in one second have different nonces: two phones
	// challenged together do not share a count.
	first, second := a.challenges(false)[0], a.challenges(false)[0]
	if first == second {
		t.Error("two challenges in the same second share a nonce")
	}
}

// TestDigestURIMustMatch: credentials computed for one Request-URI do not
// authorize a request to another (RFC 7616 §3.4.6, RFC 3261 §22.4).
func TestDigestURIMustMatch(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := testAuth(t, &now, "MD5")
	tests := []struct {
		digestURI, ruser string
		want             error
	}{
		{"sip:2000@127.0.0.1", "2000", nil},
		{"SIP:2000@127.0.0.1", "2000", nil},
		{"sip:2000@127.0.0.1;user=phone", "2000", nil},
		{"sip:2000@127.0.0.1", "9011441234567", errURIMismatch},
		{"sip:2000@127.0.0.2", "2000", errURIMismatch},
		{"sip:2000@127.0.0.1:5080", "2000", errURIMismatch},
		{"sip:127.0.0.1", "2000", errURIMismatch},
		{"not a uri", "2000", errURIMismatch},
	}
	for _, tt := range tests {
		ch := a.challenges(false)[0]
		_, err := a.verify(invite(tt.ruser, creds(t, ch, "INVITE", tt.digestURI, "1001", "secret1001", 1)), "Proxy-Authorization")
		if err != tt.want {
			t.Errorf("digest uri %q on sip:%s@127.0.0.1: %v, want %v", tt.digestURI, tt.ruser, err, tt.want)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	base := `username="1001", realm="tandem", nonce="n", uri="sip:x", response="r"`
	tests := []struct {
		value, errPart string
	}{
		{"Digest " + base, ""},
		{"Digest " + base + `, qop=auth, cnonce="c", nc=00000001`, ""},
		{"Basic dXNlcjpwdw==", "no credentials"},
		{`Digest realm="tandem", nonce="n", uri="sip:x", response="r"`, "required"},
		{"Digest " + base + `, qop=auth, nc=00000001`, "cnonce"},
		{"Digest " + base + `, qop=auth, cnonce="c", nc=00000000`, "nc from 1"},
		{"Digest " + base + `, qop=auth-int, cnonce="c", nc=00000001`, "qop"},
		{"Digest " + base + `, userhash=true`, "userhash"},
		{"Digest " + base + `, nc=zz`, "nc"},
		{`Digest username="unterminated`, "bad credentials"},
	}
	for _, tt := range tests {
		_, err := parseCredentials(tt.value)
		switch {
		case tt.errPart == "" && err != nil:
			t.Errorf("%s: %v", tt.value, err)
		case tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)):
			t.Errorf("%s: error %v, want one saying %q", tt.value, err, tt.errPart)
		}
	}
}

// TestNonceCountsBounded: the table of counts never outgrows maxNonces,
// and a nonce forgotten to keep that bound is not taken for a first use.
func TestNonceCountsBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var c nonceCounts
	c.seen = map[string]*nonceUse{}
	issued := now
	for i := range maxNonces + 100 {
		if !c.use(fmt.Sprint(i), issued, 1, now) {
			t.Fatalf("first use of nonce %d refused", i)
		}
		if i == maxNonces-1 {
			issued = issued.Add(time.Second) // the ones past the bound were issued later
		}
	}
	if len(c.seen) > maxNonces {
		t.Fatalf("%d nonces held, want at most %d", len(c.seen), maxNonces)
	}
	if c.use("0", now, 2, now) {
		t.Fatal("a nonce evicted while fresh was accepted as new")
	}
	// Expired nonces leave by themselves.
	later := now.Add(nonceLifetime + 2*time.Minute)
	c.use("fresh", later, 1, later)
	if len(c.seen) != 1 {
		t.Fatalf("%d nonces held after they all expired, want 1", len(c.seen))
	}
}

// FuzzParseCredentials feeds arbitrary header values to the digest parser
// and the verifier: neither may panic, nothing made up may authenticate,
// and whatever authenticates once is refused the second time.
func FuzzParseCredentials(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	a := newAuthenticator("tandem", []string{"MD5", "SHA-256"}, map[string]string{"1001": "secret1001"}, 3, time.Minute, func() time.Time { return now })
	for _, ch := range a.challenges(false) {
		f.Add(creds(f, ch, "INVITE", "sip:2000@127.0.0.1", "1001", "secret1001", 1))
	}
	f.Add(`Digest username="1001", realm="tandem", nonce="n", uri="sip:x", response="r", qop=auth, cnonce="c", nc=00000001`)
	f.Add(`Digest username=1001,realm=tandem,nonce="",uri="sip:2000@127.0.0.1",response=""`)
	f.Add(`Digest nc=-1, qop=auth`)
	f.Add("Digest ")
	f.Add("digest username=\"\\\"\"")
	f.Fuzz(func(t *testing.T, value string) {
		if c, err := parseCredentials(value); err == nil {
			if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
				t.Fatalf("parsed without a required field: %+v", c)
			}
			if c.QOP == "auth" && (c.Nc <= 0 || c.Cnonce == "") {
				t.Fatalf("qop=auth parsed without cnonce or count: %+v", c)
			}
		}
		user, err := a.verify(invite("2000", value), "Proxy-Authorization")
		if err != nil {
			return
		}
		if user != "1001" {
			t.Fatalf("authenticated as %q", user)
		}
		if _, err := a.verify(invite("2000", value), "Proxy-Authorization"); err != errReplay {
			t.Fatalf("accepted twice: %v", err)
		}
	})
}
