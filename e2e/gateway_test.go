package e2e

import (
	"context"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/gateway"
	"github.com/tandem-cc/tandem/internal/media"
)

// vxmlNode is a VoiceXML gateway running in the test process.
type vxmlNode struct {
	gw     *gateway.Gateway
	events *event.Recorder
	addr   string
	dir    string // where the application's documents live
}

// toneSamples is the prompt the menu plays: 1.5 s of 440 Hz.
func toneSamples() []int16 {
	pcm := make([]int16, 12000)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return pcm
}

// startGateway runs the gateway on the application doc from testdata.
func startGateway(t *testing.T, doc string) *vxmlNode {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, doc), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := media.WriteWAVFile(filepath.Join(dir, "tone.wav"), toneSamples()); err != nil {
		t.Fatal(err)
	}
	n := startGatewayURL(t, "file://"+filepath.Join(dir, doc))
	n.dir = dir
	return n
}

// startGatewayURL runs the gateway with every number going to url.
func startGatewayURL(t *testing.T, url string) *vxmlNode {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.VXMLGateway = config.VXMLGateway{Listen: "127.0.0.1:0", MediaIP: "127.0.0.1", MaxSessions: 50,
		RTPTimeout: config.Duration(20 * time.Second),
		Apps:       []config.VXMLApp{{Pattern: "*", URL: url}}}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	prompts, err := media.NewPromptCache(media.PromptCacheConfig{Dir: filepath.Join(dir, "cache"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	n := &vxmlNode{events: &event.Recorder{}, dir: dir}
	n.gw, err = gateway.New(cfg.VXMLGateway, gateway.Deps{Log: log, Events: n.events, Prompts: prompts})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.gw.Listen(); err != nil {
		t.Fatal(err)
	}
	n.addr = n.gw.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.gw.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("gateway did not stop")
		}
	})
	return n
}

func (n *vxmlNode) logs() []string {
	var out []string
	for _, e := range n.events.Events() {
		if e.Kind == gateway.KindLog {
			out = append(out, e.Reason)
		}
	}
	return out
}

// TestGatewayMenuWithSIPpDTMF: SIPp calls the gateway, sends A-law audio
// and an RFC 4733 key from its captures; the menu branches on the key.
func TestGatewayMenuWithSIPpDTMF(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	for _, tc := range []struct{ key, want string }{{"1", "chose sales"}, {"2", "chose support"}} {
		t.Run("key"+tc.key, func(t *testing.T) {
			n := startGateway(t, "menu.vxml")
			ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-gateway.xml", "KEY", tc.key), "-s", "5000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
			if ok != 1 || failed != 0 {
				t.Fatalf("caller: %d ok, %d failed; logs %v", ok, failed, n.logs())
			}
			waitFor(t, 5*time.Second, "the session to end", func() bool { return n.gw.Active() == 0 })
			if got := strings.Join(n.logs(), "|"); !strings.Contains(got, tc.want) {
				t.Fatalf("menu logs %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCallThroughCallServerToGateway is the first half of the reference
// call flow: the ingress gateway (SIPp) calls the call server, which sends
// the call to the VoiceXML gateway and relays SDP untouched, so RTP and
// RFC 4733 keys flow straight from caller to gateway; the gateway's BYE goes
// back through the call server.
func TestCallThroughCallServerToGateway(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	g := startGateway(t, "menu.vxml")
	_, p, _ := net.SplitHostPort(g.addr)
	gwPort, _ := strconv.Atoi(p)
	n := startTandem(t, director("127.0.0.0/8", gwPort, freePort(t)))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-gateway.xml", "KEY", "1"), "-s", "2000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed; gateway logs %v", ok, failed, g.logs())
	}
	if got := strings.Join(g.logs(), "|"); !strings.Contains(got, "chose sales") {
		t.Fatalf("menu logs %q, want chose sales", got)
	}
	waitFor(t, 5*time.Second, "both sides to end", func() bool { return n.cs.Active() == 0 && g.gw.Active() == 0 })
	// The gateway's session logged under the call server's global id.
	var id event.CallID
	for _, e := range n.events.Events() {
		if e.Kind == event.CallNew {
			id = e.Call
		}
	}
	found := false
	for _, e := range g.events.Events() {
		if e.Call == id && e.Kind == gateway.KindLog {
			found = true
		}
	}
	if !found {
		t.Errorf("the gateway did not log under call id %s", id)
	}
}

// TestGatewayKeysBySIPInfo: a gateway that sends keys as SIP INFO
// (application/dtmf-relay) drives the menu the same way.
func TestGatewayKeysBySIPInfo(t *testing.T) {
	need(t, "sipp")
	n := startGateway(t, "menu.vxml")
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-gateway-info.xml", "KEY", "2"), "-s", "5000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	if ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed; logs %v", ok, failed, n.logs())
	}
	if got := strings.Join(n.logs(), "|"); !strings.Contains(got, "chose support") {
		t.Fatalf("menu logs %q, want chose support", got)
	}
}

// TestGatewayBrokenDocumentHangsUpCleanly: an application that cannot be
// fetched raises error.badfetch; with no handler the session ends and the
// caller gets a BYE, never dead air.
func TestGatewayBrokenDocumentHangsUpCleanly(t *testing.T) {
	need(t, "sipp")
	n := startGatewayURL(t, "file://"+filepath.Join(t.TempDir(), "missing.vxml"))
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-recv-bye.xml"), "-s", "5000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("caller was not hung up cleanly: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "the session to end", func() bool { return n.gw.Active() == 0 })
	var ended string
	for _, e := range n.events.Events() {
		if e.Kind == event.LegEnded && e.Side == "vru" {
			ended = e.Reason
		}
	}
	if !strings.Contains(ended, "badfetch") {
		t.Errorf("call ended with %q, want error.badfetch named", ended)
	}
}
