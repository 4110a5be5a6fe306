package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tandem-cc/tandem/internal/certs"
	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/cti"
	tnode "github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/router"
)

// logLines keeps a node's log lines for the test to read.
type logLines struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *logLines) lines(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

// startHTTPSDemo runs the demo with https.mode on in dataDir (kept
// between runs) and returns it with a function that stops it and waits.
func startHTTPSDemo(t *testing.T, dataDir string) (*tnode.Node, *logLines, func()) {
	t.Helper()
	cfg := config.Default()
	port := freePort(t)
	for i := range cfg.SIP.Listen {
		cfg.SIP.Listen[i].Address = "127.0.0.1:" + strconv.Itoa(port)
	}
	cfg.VXMLGateway.Listen = ""
	cfg.Conference.Listen = ""
	cfg.DataDir = dataDir
	cfg.Metrics.Listen = ""
	cfg.CTI.Listen = "127.0.0.1:0"
	cfg.Console.Listen = "127.0.0.1:0"
	cfg.IVR.Listen = "127.0.0.1:0"
	cfg.Console.Admin.Password = "admin-secret"
	cfg.HTTPS.Mode = "on"
	cfg.CallServer.DrainTimeout = config.Duration(2 * time.Second)
	logs := &logLines{t: t}
	n, err := tnode.New(cfg, tnode.Deps{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Fatal("tandem did not stop")
		}
	}
	t.Cleanup(stop)
	return n, logs, stop
}

// pinnedClient trusts c alone, as a CTI client that pinned tandem's
// self-signed certificate would.
func pinnedClient(c *certs.Cert, jar http.CookieJar) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Jar: jar,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certs.Pool(c)}}}
}

func postJSON(t *testing.T, c *http.Client, url string, body any, out any, hdr ...string) *http.Response {
	t.Helper()
	js, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("POST %s: %v: %s", url, err, b)
		}
	}
	return res
}

// firstState dials an event WebSocket and returns the agent state snapshot
// it starts with.
func firstState(t *testing.T, url string, opts *websocket.DialOptions) cti.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.CloseNow()
	var ev cti.Event
	if err := wsjson.Read(ctx, c, &ev); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return ev
}

// TestHTTPSConsoleAndCTI: with https on, the CTI API and the console
// serve HTTPS with a self-signed certificate made at the first start and
// kept in data_dir, whose fingerprint one log line gives; an agent signs
// in over both, the console's cookie is Secure, and both event streams
// work as wss. After a restart the same certificate is served.
func TestHTTPSConsoleAndCTI(t *testing.T) {
	dir := t.TempDir()
	n, logs, stop := startHTTPSDemo(t, dir)
	cert := n.HTTPSCert()
	if cert == nil || !cert.Made {
		t.Fatalf("first start: certificate %+v", cert)
	}
	if !strings.HasPrefix(n.CTIURL(), "https://") || !strings.HasPrefix(n.ConsoleURL(), "https://") {
		t.Fatalf("urls %s %s", n.CTIURL(), n.ConsoleURL())
	}
	if l := logs.lines("https certificate"); len(l) != 1 || !strings.Contains(l[0], "sha256="+cert.Fingerprint) || !strings.Contains(l[0], "made now") {
		t.Fatalf("fingerprint log lines %q, want one with %s", l, cert.Fingerprint)
	}

	// The CTI API: an agent's login and its event stream over wss.
	client := pinnedClient(cert, nil)
	var lr cti.LoginResponse
	res := postJSON(t, client, n.CTIURL()+"/v1/login", cti.LoginRequest{ID: router.AgentID("1001"), Password: "pw1001", Extension: "1001"}, &lr)
	if got := certs.Fingerprint(res.TLS.PeerCertificates[0].Raw); got != cert.Fingerprint {
		t.Fatalf("CTI served %s, logged %s", got, cert.Fingerprint)
	}
	ws := "wss://" + strings.TrimPrefix(n.CTIURL(), "https://") + "/v1/events?token=" + url.QueryEscape(lr.Token)
	if ev := firstState(t, ws, &websocket.DialOptions{HTTPClient: client}); ev.Type != cti.EventAgentState || ev.Agent != "1001" {
		t.Fatalf("first CTI event %+v", ev)
	}
	// Plain HTTP on the HTTPS port gets no API.
	if res, err := http.Get("http://" + strings.TrimPrefix(n.CTIURL(), "https://") + "/v1/agents/1001"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the HTTPS port: %d", res.StatusCode)
		}
	}
	// A client that does not trust the certificate is refused.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(n.CTIURL() + "/v1/agents/1001"); err == nil {
		t.Fatal("an untrusting client accepted the self-signed certificate")
	}

	// The console: an agent's sign-in sets a Secure cookie, and the
	// desktop's event stream (proxied to CTI) works as wss.
	jar, _ := cookiejar.New(nil)
	console := pinnedClient(cert, jar)
	res = postJSON(t, console, n.ConsoleURL()+"/api/login", map[string]string{"user": "1002", "password": "pw1002", "extension": "1002"}, nil,
		"Origin", n.ConsoleURL())
	var secure bool
	for _, c := range res.Cookies() {
		secure = secure || c.Secure && c.HttpOnly && c.Value != ""
	}
	if !secure {
		t.Fatalf("console cookies %v: none Secure", res.Cookies())
	}
	wss := "wss://" + strings.TrimPrefix(n.ConsoleURL(), "https://") + "/cti/v1/events"
	hdr := http.Header{"Origin": {n.ConsoleURL()}}
	if ev := firstState(t, wss, &websocket.DialOptions{HTTPClient: console, HTTPHeader: hdr}); ev.Type != cti.EventAgentState || ev.Agent != "1002" {
		t.Fatalf("first console event %+v", ev)
	}
	stop()

	// The next start serves the same certificate.
	n2, logs2, _ := startHTTPSDemo(t, dir)
	again := n2.HTTPSCert()
	if again == nil || again.Made || again.Fingerprint != cert.Fingerprint {
		t.Fatalf("after a restart: %+v, was %s", again, cert.Fingerprint)
	}
	if l := logs2.lines("https certificate"); len(l) != 1 || !strings.Contains(l[0], "sha256="+cert.Fingerprint) || strings.Contains(l[0], "made now") {
		t.Fatalf("fingerprint log after restart %q", l)
	}
	res = postJSON(t, pinnedClient(cert, nil), n2.CTIURL()+"/v1/login", cti.LoginRequest{ID: router.AgentID("1003"), Password: "pw1003", Extension: "1003"}, nil)
	if got := certs.Fingerprint(res.TLS.PeerCertificates[0].Raw); got != cert.Fingerprint {
		t.Fatalf("after a restart CTI served %s", got)
	}
}

// TestHTTPSAutoMode: by default the demo on loopback stays plain HTTP
// (the README's two commands), with no certificate made.
func TestHTTPSAutoMode(t *testing.T) {
	n := startDemo(t)
	if n.HTTPSCert() != nil || !strings.HasPrefix(n.CTIURL(), "http://") || !strings.HasPrefix(n.ConsoleURL(), "http://") {
		t.Fatalf("auto on loopback: %s %s", n.CTIURL(), n.ConsoleURL())
	}
}
