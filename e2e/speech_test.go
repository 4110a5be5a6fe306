package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/asr/asrtest"
	"github.com/tandem-cc/tandem/internal/asr/sphinx"
)

// TestGatewaySpeechWithBaresip: a real user agent calls the gateway and
// says (espeak-ng, through G.711 μ-law) a word over the menu's prompt; the
// gateway's endpointer barges in, the utterance goes to pocketsphinx
// through the document's SRGS grammar, and the document branches on what
// was said. "banana" is a nomatch; silence a noinput.
func TestGatewaySpeechWithBaresip(t *testing.T) {
	need(t, "baresip")
	if err := asrtest.Available(); err != nil {
		t.Skip(err)
	}
	if err := sphinx.Available(""); err != nil {
		t.Skip(err)
	}
	words := t.TempDir()
	for _, c := range []struct{ say, want string }{
		{"sales", "chose sales true"},
		{"agent", "chose agent true"},
		{"banana", "nomatch"},
		{"", "noinput"},
	} {
		t.Run(c.want, func(t *testing.T) {
			n := startGateway(t, "speech.vxml")
			var says []int16
			if c.say != "" {
				pcm, err := asrtest.Render(words, c.say, "", 500, 0)
				if err != nil {
					t.Fatal(err)
				}
				says = pcm
			}
			b := startBaresip(t, "sip:5000@"+n.addr, says)
			waitFor(t, 15*time.Second, "the document to log an outcome", func() bool { return len(n.logs()) > 0 })
			if got := strings.Join(n.logs(), "|"); got != c.want {
				t.Fatalf("said %q: logs %q, want %q\nbaresip:\n%s", c.say, got, c.want, b.output())
			}
			waitFor(t, 10*time.Second, "the call to end", func() bool { return n.gw.Active() == 0 })
		})
	}
}
