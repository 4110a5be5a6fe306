// Package demo holds tandem's demo applications and their audio: the
// stand-alone VoiceXML menu (dialed number 5000), the queue music, and the
// text-to-speech prompts of the demo contact center (dialed number 1000),
// all rendered once with espeak-ng and sox and shipped (go generate), so
// `tandem serve` with no config speaks on a machine without either.
package demo

//go:generate go run ./gen

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/ivr"
	"github.com/tandem-cc/tandem/internal/media"
)

//go:embed menu.vxml *.wav
var files embed.FS

//go:embed tts/*.wav
var tts embed.FS

// Voice is the espeak-ng voice the shipped prompts were rendered in: the
// prompt cache's default, so they are found without configuration.
const Voice = "en-us"

// Install writes the demo application into dir (kept if already there, so
// an operator's edits survive a restart) and returns the menu's path. The
// same folder is the IVR service's default media base (music.wav).
func Install(dir string) (string, error) {
	if err := copyNew(files, ".", dir); err != nil {
		return "", fmt.Errorf("demo: install in %s: %w", dir, err)
	}
	return filepath.Abs(filepath.Join(dir, "menu.vxml"))
}

// SeedPrompts places the shipped renderings of the demo's texts in a
// prompt cache directory (media.PromptCacheConfig.Dir), where the cache
// finds them as if it had rendered them itself. Existing files are kept.
func SeedPrompts(cacheDir string) error {
	if err := copyNew(tts, "tts", filepath.Join(cacheDir, "tts")); err != nil {
		return fmt.Errorf("demo: prompts in %s: %w", cacheDir, err)
	}
	return nil
}

// Shipped reports whether text has a shipped rendering in Voice.
func Shipped(text string) bool {
	_, err := fs.Stat(tts, "tts/"+media.TTSName(Voice, text)+".wav")
	return err == nil
}

func copyNew(src fs.FS, root, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fs.WalkDir(src, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dst := filepath.Join(dir, filepath.Base(name))
		if _, err := os.Stat(dst); err == nil {
			return nil
		}
		b, err := fs.ReadFile(src, name)
		if err != nil {
			return err
		}
		// Written whole then renamed, so a cache never reads half a file.
		tmp := dst + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	})
}

// Texts is everything the demo contact center can say by text-to-speech:
// the tts parameters of its routing scripts and the IVR service's own
// phrases. go generate renders each; TestDemoPromptsCurrent checks that
// every one is shipped.
func Texts() []string {
	var out []string
	var doc yaml.Node
	if err := yaml.Unmarshal(config.DemoRouter(), &doc); err != nil {
		panic(fmt.Sprintf("demo: the built-in router document: %v", err))
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "tts" && n.Content[i+1].Kind == yaml.ScalarNode {
					out = append(out, n.Content[i+1].Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	out = append(out, ivr.DefaultNoInputText, ivr.DefaultNoMatchText)
	out = append(out, ivr.AnnouncementTexts(ivr.Config{})...)
	slices.Sort(out)
	return slices.Compact(out)
}
