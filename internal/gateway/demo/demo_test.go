package demo

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-cc/tandem/internal/media"
)

// TestDemoPromptsCurrent: every text the demo can speak has its shipped
// rendering, and no rendering is left of a text it no longer speaks. When
// it fails, run `go generate ./internal/gateway/demo` (needs espeak-ng and
// sox) and commit internal/gateway/demo/tts.
func TestDemoPromptsCurrent(t *testing.T) {
	want := map[string]bool{}
	for _, text := range Texts() {
		want[media.TTSName(Voice, text)+".wav"] = true
		if !Shipped(text) {
			t.Errorf("no shipped rendering of %q", text)
		}
	}
	files, _ := fs.Glob(tts, "tts/*.wav")
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s renders a text the demo no longer speaks", f)
		}
	}
}

// TestSeedPrompts: the seeded files are where the prompt cache looks, and
// the cache speaks a demo text from them without espeak-ng.
func TestSeedPrompts(t *testing.T) {
	dir := t.TempDir()
	if err := SeedPrompts(dir); err != nil {
		t.Fatal(err)
	}
	c, err := media.NewPromptCache(media.PromptCacheConfig{Dir: dir, ESpeak: "/nonexistent/espeak-ng"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range Texts()[:3] {
		p, err := c.Text(t.Context(), text, "")
		if err != nil || p == nil {
			t.Fatalf("cache could not speak %q from the seeded files: %v", text, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tts")); err != nil {
		t.Fatal(err)
	}
}
