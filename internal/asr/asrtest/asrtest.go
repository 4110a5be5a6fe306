// Package asrtest renders test utterances as a caller's phone sends them:
// espeak-ng speech at 8 kHz through G.711 μ-law, with silence around it,
// for the recogniser's tests, the gateway's end-to-end tests and bench/asr.
package asrtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/tandem-cc/tandem/internal/media"
)

// Voice is the espeak-ng voice the utterances are spoken in: US English,
// as the recogniser's model is.
const Voice = "en-us"

// Available reports why utterances cannot be rendered (espeak-ng
// missing), or nil.
func Available() error {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		return fmt.Errorf("asrtest: espeak-ng is not installed: %w", err)
	}
	return nil
}

// Render speaks text with espeak-ng (voice, "" for Voice) into dir and
// returns it as a caller's phone would send it: 8 kHz, through μ-law, with
// lead and trail silence (in ms) around the speech.
func Render(dir, text, voice string, lead, trail int) ([]int16, error) {
	if voice == "" {
		voice = Voice
	}
	path := filepath.Join(dir, fmt.Sprintf("say-%x.wav", text+"|"+voice))
	if len(path) > 200 {
		f, err := os.CreateTemp(dir, "say-*.wav")
		if err != nil {
			return nil, err
		}
		f.Close()
		path = f.Name()
	}
	if out, err := exec.Command("espeak-ng", "-v", voice, "-w", path, text).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("asrtest: espeak-ng %q: %v: %s", text, err, out)
	}
	pcm, _, err := media.ReadWAVFile(path)
	if err != nil {
		return nil, fmt.Errorf("asrtest: %w", err)
	}
	out := make([]int16, 0, len(pcm)+(lead+trail)*8)
	out = append(out, make([]int16, lead*8)...)
	out = append(out, pcm...)
	out = append(out, make([]int16, trail*8)...)
	return G711(out), nil
}

// G711 returns pcm after a μ-law round trip (what the far end hears).
func G711(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = media.ULawDecode(media.ULawEncode(s))
	}
	return out
}
