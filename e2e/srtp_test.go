package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/certs"
	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
)

// startDemoTLS is the demo with SIP over UDP and TLS (a self-signed
// certificate made for the test, certFile) on one port number, and the
// gateway's SRTP policy srtp.
func startDemoTLS(t *testing.T, srtp string) (n *node, certFile string) {
	t.Helper()
	dir := t.TempDir()
	c, err := certs.Load(certs.Source{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n = startDemo(t, func(cfg *config.Config) {
		cfg.VXMLGateway.SRTP = srtp
		// startDemo puts every listener on one port: no TCP beside TLS.
		cfg.SIP.Listen = []config.Listener{{Transport: "udp"},
			{Transport: "tls", Cert: c.Path, Key: filepath.Join(dir, "key.pem")}}
	})
	return n, c.Path
}

// TestGatewaySRTPWithBaresipOverTLS: baresip calls the VoiceXML demo
// (5000) through tandem's SIP TLS listener with SRTP mandatory
// (RTP/SAVP, SDES keys in the TLS-protected SDP). The call server passes
// the SAVP offer through to the gateway, which answers with its own key;
// baresip hears the menu prompt (its decrypted audio holds the prompt's
// samples), presses 1 (an RFC 4733 event inside SRTP), and the menu
// branches.
func TestGatewaySRTPWithBaresipOverTLS(t *testing.T) {
	need(t, "baresip")
	n, certFile := startDemoTLS(t, "optional")
	tlsAddr := n.edge.Addr("tls")
	if tlsAddr == "" {
		t.Fatal("no TLS listener")
	}
	_, port, _ := strings.Cut(tlsAddr, ":")
	account := "<sip:caller@127.0.0.1;transport=tls>;regint=0;audio_codecs=PCMU;mediaenc=srtp-mand"
	extra := fmt.Sprintf("module srtp.so\nsip_cafile %s\n", certFile)
	b := runBaresip(t, account, extra, nil, "-e", "/dial sip:5000@127.0.0.1:"+port+";transport=tls")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("baresip:\n%s", b.output())
		}
	})
	waitFor(t, 15*time.Second, "baresip's call at the gateway", func() bool { return n.Gateway.Active() == 1 })
	// welcome.wav and most of menu.wav, then 1.
	time.Sleep(4 * time.Second)
	b.command(`{"command":"sndcode","params":"1"}`)
	waitFor(t, 15*time.Second, "the menu to end the call", func() bool { return n.Gateway.Active() == 0 })
	b.quit()
	// baresip's own word that the media it heard was SRTP, of the suite
	// it offered first.
	if out := b.output(); !strings.Contains(out, "SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)") {
		t.Fatalf("baresip did not run SRTP:\n%s", out)
	}
	menu, _, err := media.ReadWAVFile(filepath.Join("..", "internal", "gateway", "demo", "menu.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if c := bestCorrelation(b.heard(), menu[4000:8000]); c < 0.9 {
		t.Fatalf("the menu prompt was not heard through SRTP: best correlation %.3f", c)
	}
}

// TestGatewaySRTPRefusedWhenOff: with the gateway's SRTP off, baresip's
// RTP/SAVP offer is refused by the gateway with 488; the call server
// ends the call (no other label) and the caller is refused; no VoiceXML
// session starts.
func TestGatewaySRTPRefusedWhenOff(t *testing.T) {
	need(t, "baresip")
	n, certFile := startDemoTLS(t, "off")
	_, port, _ := strings.Cut(n.edge.Addr("tls"), ":")
	account := "<sip:caller@127.0.0.1;transport=tls>;regint=0;audio_codecs=PCMU;mediaenc=srtp-mand"
	b := runBaresip(t, account, fmt.Sprintf("module srtp.so\nsip_cafile %s\n", certFile), nil, "-e", "/dial sip:5000@127.0.0.1:"+port+";transport=tls")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("baresip:\n%s", b.output())
		}
	})
	waitFor(t, 15*time.Second, "the gateway's 488 and the call's end", func() bool {
		evs := n.events.Events()
		refused := false
		for _, e := range evs {
			refused = refused || e.Kind == event.LegFailed && e.Code == 488
		}
		return refused && countKind(evs, event.CallEnded) == 1
	})
	waitFor(t, 10*time.Second, "the caller to hear a refusal", func() bool {
		return strings.Contains(b.output(), "terminated") || strings.Contains(b.output(), "closed")
	})
	if n.Gateway.Active() != 0 || countKind(n.events.Events(), event.CallAnswered) != 0 {
		t.Fatalf("a refused call was answered")
	}
	b.quit()
}
