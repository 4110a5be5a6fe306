package sphinx

import (
	"context"
	"errors"
	"testing"

	"github.com/tandem-cc/tandem/internal/asr"
	"github.com/tandem-cc/tandem/internal/asr/asrtest"
)

// engine opens the real engine or skips when pocketsphinx or espeak-ng is
// not installed (scripts/test.sh installs both).
func engine(t *testing.T) *Engine {
	t.Helper()
	if err := asrtest.Available(); err != nil {
		t.Skip(err)
	}
	e, err := New(Config{Decoders: 2})
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func words(ws ...string) asr.Grammar {
	var alts []asr.Expr
	for _, w := range ws {
		alts = append(alts, asr.Phrase(w))
	}
	return asr.Grammar{Root: "r", Name: "test", Rules: map[string]asr.Expr{"r": asr.Alt(alts...)}}
}

// TestRecognize decodes espeak-ng utterances sent through G.711 against
// the grammars the IVR uses: what was said comes back with a confidence
// above VoiceXML's default confidencelevel (0.5); a word outside the
// grammar comes back with none, or below it (nomatch).
func TestRecognize(t *testing.T) {
	e := engine(t)
	dir := t.TempDir()
	menu := words("sales", "support", "agent")
	yesno := words("yes", "no")
	for _, c := range []struct {
		g    asr.Grammar
		say  string
		want string // "" = nomatch
	}{
		{menu, "sales", "sales"},
		{menu, "support", "support"},
		{menu, "agent", "agent"},
		{menu, "banana", ""},
		{yesno, "yes", "yes"},
		{yesno, "no", "no"},
		{yesno, "banana", ""},
	} {
		pcm, err := asrtest.Render(dir, c.say, "", 300, 300)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Recognize(context.Background(), asr.Request{Audio: pcm, Grammars: []asr.Grammar{c.g}, MaxNBest: 2})
		if err != nil {
			t.Fatalf("%q: %v", c.say, err)
		}
		got := ""
		if len(r.Alternatives) > 0 && r.Alternatives[0].Confidence >= 0.5 {
			got = r.Alternatives[0].Text
		}
		if got != c.want {
			t.Errorf("said %q: heard %+v, want %q", c.say, r.Alternatives, c.want)
		}
		if r.Audio <= 0 || r.Decode <= 0 {
			t.Errorf("%q: no timing: %+v", c.say, r)
		}
	}
}

// TestRecognizeErrors: no grammar is an error; silence is nomatch; a word
// without a pronunciation leaves the rest of the grammar working.
func TestRecognizeErrors(t *testing.T) {
	e := engine(t)
	if _, err := e.Recognize(context.Background(), asr.Request{Audio: make([]int16, 8000)}); !errors.Is(err, asr.ErrNoGrammar) {
		t.Errorf("no grammar: %v", err)
	}
	r, err := e.Recognize(context.Background(), asr.Request{Audio: make([]int16, 8000), Grammars: []asr.Grammar{words("yes", "no")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Alternatives) > 0 && r.Alternatives[0].Confidence >= 0.5 {
		t.Errorf("silence heard as %+v", r.Alternatives)
	}
	pcm, err := asrtest.Render(t.TempDir(), "agent", "", 300, 300)
	if err != nil {
		t.Fatal(err)
	}
	r, err = e.Recognize(context.Background(), asr.Request{Audio: pcm, Grammars: []asr.Grammar{words("agent", "qwzrtx")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Alternatives) == 0 || r.Alternatives[0].Text != "agent" {
		t.Errorf("agent with an unpronounceable neighbour: %+v", r.Alternatives)
	}
}

func TestUpsample(t *testing.T) {
	in := make([]int16, 800)
	for i := range in {
		in[i] = 1000
	}
	out := Upsample(in)
	if len(out) != 1600 {
		t.Fatalf("len %d", len(out))
	}
	// Away from the edges a constant stays constant (unity DC gain).
	for i := 100; i < 1500; i++ {
		if d := int(out[i]) - 1000; d < -2 || d > 2 {
			t.Fatalf("out[%d] = %d", i, out[i])
		}
	}
}
