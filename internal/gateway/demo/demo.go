// Package demo holds tandem's demo IVR application: a VoiceXML menu and its
// prompts, rendered once with espeak-ng and shipped, so `tandem serve` with
// no config answers calls on a machine without espeak-ng.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed menu.vxml *.wav
var files embed.FS

// Install writes the demo application into dir (kept if already there, so
// an operator's edits survive a restart) and returns the menu's path.
func Install(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dst := filepath.Join(dir, name)
		if _, err := os.Stat(dst); err == nil {
			return nil
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("demo: install in %s: %w", dir, err)
	}
	return filepath.Abs(filepath.Join(dir, "menu.vxml"))
}
