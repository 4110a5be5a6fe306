// Package certs gives tandem's HTTPS listeners (the web console and the
// CTI API) their certificate: the one configured, or a self-signed one made
// at the first start and kept in the data directory, so that a browser or
// a CTI client that pinned it (by its SHA-256 fingerprint, logged at each
// start) keeps trusting it across restarts. In CUCM terms it is the node's
// "tomcat" certificate, self-signed until an administrator uploads a CA's.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Source says where the certificate comes from.
type Source struct {
	// CertFile and KeyFile are PEM files (the certificate chain, leaf
	// first, and its private key). Both empty: self-signed.
	CertFile, KeyFile string
	// Dir keeps the self-signed certificate (cert.pem, key.pem).
	Dir string
	// Hosts are the names and addresses the self-signed certificate is
	// for, besides localhost, 127.0.0.1 and ::1.
	Hosts []string
	// Now is the clock (nil: time.Now), for tests of expiry.
	Now func() time.Time
}

// Cert is a loaded certificate.
type Cert struct {
	TLS tls.Certificate
	// Fingerprint is the SHA-256 of the leaf's DER, as browsers and
	// `openssl x509 -fingerprint -sha256` show it (AB:CD:...).
	Fingerprint string
	// SelfSigned is true when tandem made it; Made is true when it was
	// made at this start (not found, expiring, or not covering Hosts).
	SelfSigned, Made bool
	// Path is the certificate's file.
	Path string
	// NotAfter is when it expires.
	NotAfter time.Time
}

// Validity of a self-signed certificate: 825 days is the longest that
// Apple's systems accept for a TLS server certificate; it is made anew
// when less than renewBefore is left, at a start.
const (
	validity    = 825 * 24 * time.Hour
	renewBefore = 30 * 24 * time.Hour
)

// Load returns the configured certificate, or the self-signed one of
// s.Dir, made if it is missing, expires within 30 days or does not cover
// s.Hosts.
func Load(s Source) (*Cert, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if s.CertFile != "" || s.KeyFile != "" {
		if s.CertFile == "" || s.KeyFile == "" {
			return nil, errors.New("certs: give both cert and key")
		}
		kp, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("certs: %s, %s: %w", s.CertFile, s.KeyFile, err)
		}
		c, err := described(kp, s.CertFile)
		if err != nil {
			return nil, err
		}
		if now().After(c.NotAfter) {
			return nil, fmt.Errorf("certs: %s expired on %s", s.CertFile, c.NotAfter.Format(time.DateOnly))
		}
		return c, nil
	}
	if s.Dir == "" {
		return nil, errors.New("certs: no certificate configured and no directory for a self-signed one")
	}
	certPath, keyPath := filepath.Join(s.Dir, "cert.pem"), filepath.Join(s.Dir, "key.pem")
	hosts := sanHosts(s.Hosts)
	// A pair that is missing, damaged, expiring or for other names is
	// replaced rather than a start refused: it is ours, and the new
	// fingerprint is logged.
	if kp, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		c, err := described(kp, certPath)
		if err == nil && now().Add(renewBefore).Before(c.NotAfter) && covers(c.TLS.Leaf, hosts) {
			c.SelfSigned = true
			return c, nil
		}
	}
	return makeSelfSigned(certPath, keyPath, hosts, now())
}

// described fills a Cert from a key pair.
func described(kp tls.Certificate, path string) (*Cert, error) {
	if len(kp.Certificate) == 0 {
		return nil, fmt.Errorf("certs: %s holds no certificate", path)
	}
	leaf, err := x509.ParseCertificate(kp.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", path, err)
	}
	kp.Leaf = leaf
	return &Cert{TLS: kp, Fingerprint: Fingerprint(leaf.Raw), Path: path, NotAfter: leaf.NotAfter}, nil
}

// Fingerprint is the SHA-256 of der in colon-separated upper-case hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// sanHosts is hosts with the loopback names, without wildcards and
// duplicates, sorted.
func sanHosts(hosts []string) []string {
	out := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range hosts {
		if h == "" || h == "0.0.0.0" || h == "::" {
			continue // a wildcard listener: the names are the machine's, below
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// covers reports whether leaf names every host.
func covers(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// makeSelfSigned makes an ECDSA P-256 certificate for hosts and writes it
// (key 0600) by rename, so a crash leaves the old pair or the new one.
func makeSelfSigned(certPath, keyPath string, hosts []string, now time.Time) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial: %w", err)
	}
	name, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tandem " + name, Organization: []string{"tandem (self-signed)"}},
		NotBefore:    now.Add(-time.Hour), // a client's clock a little behind still accepts it
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// A leaf, not a CA: a client told to trust it trusts this server
		// alone, never what its key could sign.
		BasicConstraintsValid: true,
	}
	if name != "" && net.ParseIP(name) == nil {
		hosts = sanHosts(append(hosts, name))
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: create: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a crash between the two renames leaves a pair that
	// does not match, which the next start replaces.
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	c, err := described(kp, certPath)
	if err != nil {
		return nil, err
	}
	c.SelfSigned, c.Made = true, true
	return c, nil
}

// writeFile writes b to path through a temporary file and a rename.
func writeFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// ServerConfig is the TLS configuration of an HTTPS listener serving c:
// TLS 1.2 or later, and HTTP/1.1 only, since the CTI and console event
// streams are WebSockets, which browsers open over HTTP/1.1 (RFC 6455)
// unless the server offers RFC 8441 over HTTP/2.
func ServerConfig(c *Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// Pool returns a pool trusting c alone: what a client that pinned the
// self-signed certificate uses (tests, tandem sim).
func Pool(c *Cert) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.TLS.Leaf)
	return p
}
