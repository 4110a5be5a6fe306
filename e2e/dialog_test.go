package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

func TestHoldResumeAndInfoRelayed(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	callee := startUAS(t, a, scenario(t, "uas-hold.xml"), "-m", "1")
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-hold.xml"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	callee.wait(10 * time.Second)
	if ok, failed := callee.counts(); ok != 1 || failed != 0 {
		t.Fatalf("callee did not see the relayed offers and INFO: %d ok, %d failed", ok, failed)
	}
	evs := n.events.Events()
	if countKind(evs, event.LegHeld) != 1 || countKind(evs, event.LegResumed) != 1 {
		t.Errorf("want one held and one resumed event, got %d and %d", countKind(evs, event.LegHeld), countKind(evs, event.LegResumed))
	}
}

func TestOverLimitGets503(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b)+"  max_calls: 1\n")
	startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "3000"), "-m", "1")
	first := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-recv-bye.xml"), "-s", "2000", "-m", "1", "-timeout", "20s", "-timeout_error")
	waitFor(t, 10*time.Second, "the first call to be answered", func() bool { return countKind(n.events.Events(), event.CallAnswered) == 1 })
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-expect.xml", "CODE", "503"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("second call want 503: %d ok, %d failed", ok, failed)
	}
	first.wait(20 * time.Second)
	if ok, _ := first.counts(); ok != 1 {
		t.Fatal("the call in progress was disturbed")
	}
}

func TestHeartbeatMarksDestinationsDownAndUp(t *testing.T) {
	alive, dead := freePort(t), freePort(t)
	n := startTandem(t, fmt.Sprintf(`
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups:
  - name: g
    heartbeat: {up_interval: 200ms, down_interval: 200ms, timeout: 300ms, failures: 2}
    destinations:
      - {address: "127.0.0.1:%d"}
      - {address: "127.0.0.1:%d"}
dial_plan: [{pattern: "2000", server_group: g}]
routing:
  static: [{dnis: "2000", labels: ["2000"]}]
`, alive, dead))
	gw := startUAS(t, alive, scenario(t, "uas-options.xml"))
	targets := func() []sipedge.Target {
		ts, _ := n.edge.Resolve("2000")
		return ts
	}
	waitFor(t, 10*time.Second, "the silent destination to be marked down", func() bool {
		ts := targets()
		return len(ts) == 1 && ts[0].Addr == "127.0.0.1:"+strconv.Itoa(alive)
	})
	// The answering gateway goes away: the whole group goes down and a call
	// gets a final answer instead of waiting on a dead peer.
	_ = gw.cmd.Process.Kill()
	gw.wait(5 * time.Second)
	waitFor(t, 10*time.Second, "the group to be down", func() bool {
		_, err := n.edge.Resolve("2000")
		return errors.Is(err, sipedge.ErrAllDown)
	})
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-expect.xml", "CODE", "480"), "-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("call to a down group want 480: %d ok, %d failed", ok, failed)
	}
	// It comes back: one answered heartbeat marks it up.
	startUAS(t, alive, scenario(t, "uas-options.xml"))
	waitFor(t, 10*time.Second, "the gateway to be up again", func() bool { return len(targets()) == 1 })
}

func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	a := freePort(t)
	tlsPort := freePort(t)
	m := startTandem(t, fmt.Sprintf(`
sip:
  listen:
    - {transport: udp, address: "127.0.0.1:SIPPORT"}
    - {transport: tls, address: "127.0.0.1:%d", cert: %q, key: %q}
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups:
  - name: g
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
dial_plan: [{pattern: "2000", server_group: g}]
routing:
  static: [{dnis: "2000", labels: ["2000"]}]
`, tlsPort, cert, key, a))
	if got := m.edge.Addr("tls"); got != "127.0.0.1:"+strconv.Itoa(tlsPort) {
		t.Fatalf("tls listener at %q", got)
	}
	// Debian's SIPp is built without TLS; openssl's own client carries the
	// SIP message instead.
	need(t, "openssl")
	cmd := exec.Command("openssl", "s_client", "-connect", m.edge.Addr("tls"), "-quiet", "-verify_return_error", "-CAfile", cert, "-servername", "127.0.0.1")
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(`OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-1
From: <sip:probe@127.0.0.1>;tag=1
To: <sip:127.0.0.1>
Call-ID: tls-options-1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`, "\n", "\r\n"))
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(5 * time.Second)
	for !strings.Contains(out.String(), "SIP/2.0 200 OK") {
		select {
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("no 200 to OPTIONS over TLS; openssl said:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	<-done
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// syncBuffer is a strings.Builder safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
