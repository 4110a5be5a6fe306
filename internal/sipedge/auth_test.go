package sipedge

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// answer builds the Authorization a client computes for challenge chal.
func answer(t *testing.T, chal, user, pass string) string {
	t.Helper()
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func register(auth string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Authorization", auth))
	return req
}

func TestDigestBothAlgorithms(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	a := newAuthenticator("tandem", []string{"SHA-256", "MD5"}, map[string]string{"1001": "secret1001"}, 3, time.Minute, clock)
	chals := a.challenges(false)
	if len(chals) != 2 {
		t.Fatalf("challenges: %v", chals)
	}
	for _, ch := range chals {
		user, err := a.verify(register(answer(t, ch, "1001", "secret1001")), "Authorization")
		if err != nil || user != "1001" {
			t.Errorf("%s: right password refused: %v", ch, err)
		}
		if _, err := a.verify(register(answer(t, ch, "1001", "wrong")), "Authorization"); err != errBadCredentials {
			t.Errorf("%s: wrong password: %v", ch, err)
		}
		if _, err := a.verify(register(answer(t, ch, "nobody", "x")), "Authorization"); err != errBadCredentials {
			t.Errorf("%s: unknown user: %v", ch, err)
		}
	}
	// A nonce past its lifetime with the right password is stale, not bad.
	old := answer(t, chals[0], "1001", "secret1001")
	now = now.Add(nonceLifetime + time.Second)
	if _, err := a.verify(register(old), "Authorization"); err != errStaleNonce {
		t.Errorf("old nonce: %v, want stale", err)
	}
	// A nonce we never issued is refused.
	forged := `Digest username="1001", realm="tandem", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1", response="00"`
	if _, err := a.verify(register(forged), "Authorization"); err != errBadCredentials {
		t.Errorf("forged nonce: %v", err)
	}
	// Another scheme is ignored (RFC 4475 §3.3.14): no credentials.
	if _, err := a.verify(register("NoOneKnowsThisScheme opaque-data=here"), "Authorization"); err != errNoCredentials {
		t.Errorf("unknown scheme: %v", err)
	}
}

func TestOnlyOfferedAlgorithmsVerify(t *testing.T) {
	clock := func() time.Time { return time.Unix(1_800_000_000, 0) }
	sha := newAuthenticator("tandem", []string{"SHA-256"}, map[string]string{"1001": "p"}, 3, time.Minute, clock)
	md5 := newAuthenticator("tandem", []string{"MD5"}, map[string]string{"1001": "p"}, 3, time.Minute, clock)
	md5.secret = sha.secret
	ch := md5.challenges(false)[0]
	if _, err := sha.verify(register(answer(t, ch, "1001", "p")), "Authorization"); err != errBadCredentials {
		t.Errorf("MD5 answer accepted where only SHA-256 is offered: %v", err)
	}
}
