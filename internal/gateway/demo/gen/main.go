// Command gen renders the demo's spoken texts with espeak-ng and its queue
// music with sox into internal/gateway/demo, so that tandem ships them and
// the demo speaks on a machine without either. Run it from the repository
// root after changing a text the demo speaks:
//
//	go generate ./internal/gateway/demo
//
// Each text is kept as tts/<media.TTSName(voice, text)>.wav, the name the
// prompt cache looks for, in 8 kHz μ-law (the line's own format, a quarter
// of espeak-ng's output). Renderings of texts no longer spoken are removed.
// TestDemoPromptsCurrent fails when the list and the files disagree.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tandem-cc/tandem/internal/gateway/demo"
	"github.com/tandem-cc/tandem/internal/media"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := "internal/gateway/demo"
	if _, err := os.Stat(filepath.Join(dir, "demo.go")); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	want := map[string]bool{}
	for _, text := range demo.Texts() {
		name := media.TTSName(demo.Voice, text) + ".wav"
		want[name] = true
		dst := filepath.Join(dir, "tts", name)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		raw := dst + ".raw.wav"
		if out, err := exec.Command("espeak-ng", "-v", demo.Voice, "-w", raw, text).CombinedOutput(); err != nil {
			return fmt.Errorf("espeak-ng %q: %v: %s", text, err, out)
		}
		if out, err := exec.Command("sox", raw, "-r", "8000", "-c", "1", "-e", "u-law", "-b", "8", dst).CombinedOutput(); err != nil {
			return fmt.Errorf("sox %q: %v: %s", text, err, out)
		}
		_ = os.Remove(raw)
		fmt.Printf("rendered %s %q\n", name, text)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "tts", "*.wav"))
	for _, f := range old {
		if !want[filepath.Base(f)] {
			fmt.Println("removed", f)
			_ = os.Remove(f)
		}
	}
	music := filepath.Join(dir, "music.wav")
	if _, err := os.Stat(music); err == nil {
		return nil
	}
	// Sixteen plucked notes of a I–vi–IV–V arpeggio, twice: 16 s of
	// gentle music, enough for one round of queue treatment. Each note is
	// its own file (sox's synth takes one length), then they are joined.
	tmp, err := os.MkdirTemp("", "tandem-music")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var parts []string
	for i, n := range strings.Fields("C4 E4 G4 E4 A3 C4 E4 C4 F3 A3 C4 A3 G3 B3 D4 B3") {
		part := filepath.Join(tmp, fmt.Sprintf("%02d.wav", i))
		if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", part, "synth", "0.5", "pluck", n, "vol", "0.4").CombinedOutput(); err != nil {
			return fmt.Errorf("sox note %s: %v: %s", n, err, out)
		}
		parts = append(parts, part)
	}
	args := append(append(append([]string{}, parts...), parts...), "-e", "u-law", "-b", "8", music, "fade", "0", "16", "0.5")
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("sox music: %v: %s", err, out)
	}
	fmt.Println("rendered", music)
	return nil
}
