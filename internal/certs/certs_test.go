package certs

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The self-signed certificate is made once and reused: same fingerprint
// at the next start, the key kept private; it is made anew when it nears
// its end or does not name a new host.
func TestSelfSignedPersisted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	first, err := Load(Source{Dir: dir, Hosts: []string{"192.0.2.10", "cc.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Made || !first.SelfSigned {
		t.Fatalf("first start: made %v self-signed %v", first.Made, first.SelfSigned)
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(first.Fingerprint) {
		t.Fatalf("fingerprint %q", first.Fingerprint)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	leaf := first.TLS.Leaf
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "192.0.2.10", "cc.example.com"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("not valid for %s: %v", h, err)
		}
	}
	if leaf.IsCA {
		t.Error("the certificate is a CA")
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > validity+2*time.Hour {
		t.Errorf("valid for %v", d)
	}

	again, err := Load(Source{Dir: dir, Hosts: []string{"cc.example.com", "192.0.2.10"}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Made || again.Fingerprint != first.Fingerprint {
		t.Fatalf("second start made a new certificate: %s, was %s", again.Fingerprint, first.Fingerprint)
	}

	// A listener on another address: a new certificate that names it.
	other, err := Load(Source{Dir: dir, Hosts: []string{"192.0.2.11"}})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Made || other.Fingerprint == first.Fingerprint || other.TLS.Leaf.VerifyHostname("192.0.2.11") != nil {
		t.Fatalf("host change: made %v, %s", other.Made, other.Fingerprint)
	}

	// Near its end: renewed.
	later := func() time.Time { return time.Now().Add(validity - renewBefore/2) }
	renewed, err := Load(Source{Dir: dir, Hosts: []string{"192.0.2.11"}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.Made || renewed.Fingerprint == other.Fingerprint {
		t.Fatal("an expiring certificate was kept")
	}

	// Damaged files: replaced, not a failed start.
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(Source{Dir: dir}); err != nil || !c.Made {
		t.Fatalf("damaged pair: %v", err)
	}
}

// A configured pair is served as it is; errors name the files.
func TestConfigured(t *testing.T) {
	dir := t.TempDir()
	made, err := Load(Source{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if c.SelfSigned || c.Made || c.Fingerprint != made.Fingerprint {
		t.Fatalf("configured: %+v", c)
	}
	if _, err := Load(Source{CertFile: filepath.Join(dir, "cert.pem")}); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("cert without key: %v", err)
	}
	if _, err := Load(Source{CertFile: filepath.Join(dir, "nope.pem"), KeyFile: filepath.Join(dir, "key.pem")}); err == nil || !strings.Contains(err.Error(), "nope.pem") {
		t.Fatalf("missing file: %v", err)
	}
	expired := func() time.Time { return time.Now().Add(validity + time.Hour) }
	if _, err := Load(Source{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), Now: expired}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
}

// A client that pins the certificate reaches a server of ServerConfig,
// over HTTP/1.1; one that does not is refused.
func TestServerConfig(t *testing.T) {
	c, err := Load(Source{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.TLS = ServerConfig(c)
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	pinned := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: Pool(c)}}}
	res, err := pinned.Get("https://localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "HTTP/1.1" {
		t.Fatalf("protocol %q", body)
	}
	if got := Fingerprint(res.TLS.PeerCertificates[0].Raw); got != c.Fingerprint {
		t.Fatalf("served %s, loaded %s", got, c.Fingerprint)
	}
	plain := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	if _, err := plain.Get("https://localhost:" + port + "/"); err == nil {
		t.Fatal("a client that does not trust the certificate got through")
	}
}
