package media

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// A prompt spoken by espeak-ng (22.05 kHz) and converted by sox into the
// formats prompts arrive in; our reader must give the same 8 kHz audio as
// sox's own conversion to 8 kHz 16-bit PCM (by correlation: the resamplers
// and codecs differ in detail, not in sound).
func TestReadSoxConversions(t *testing.T) {
	espeak := needTool(t, "espeak-ng")
	sox := needTool(t, "sox")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	if out, err := exec.Command(espeak, "-v", "en-us", "-w", src, "Thank you for calling. Press one for sales, two for support.").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	convert := func(name string, args ...string) string {
		p := filepath.Join(dir, name)
		cmd := append(append([]string{src}, args...), p)
		if out, err := exec.Command(sox, cmd...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v %s", cmd, err, out)
		}
		return p
	}
	ref, _, err := ReadWAVFile(convert("ref.wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		min  float64
	}{
		{"espeak original 22.05 kHz", src, 0.99},
		{"mu-law 8 kHz", convert("ulaw.wav", "-r", "8000", "-c", "1", "-e", "mu-law"), 0.99},
		{"A-law 8 kHz", convert("alaw.wav", "-r", "8000", "-c", "1", "-e", "a-law"), 0.99},
		{"PCM 16 kHz", convert("16k.wav", "-r", "16000", "-c", "1", "-b", "16"), 0.99},
		{"stereo 44.1 kHz", convert("stereo.wav", "-r", "44100", "-c", "2", "-b", "16"), 0.99},
		{"24-bit 48 kHz", convert("24.wav", "-r", "48000", "-c", "1", "-b", "24"), 0.99},
		{"float 32 kHz", convert("f.wav", "-r", "32000", "-c", "1", "-e", "floating-point", "-b", "32"), 0.99},
	}
	for _, c := range cases {
		got, info, err := ReadWAVFile(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d := len(got) - len(ref); d < -20 || d > 20 {
			t.Errorf("%s: %d samples, sox gives %d", c.name, len(got), len(ref))
		}
		corr, lag := bestNCC(ref, got, 20)
		t.Logf("%s (%+v): correlation %.4f at lag %d", c.name, info, corr, lag)
		if corr < c.min {
			t.Errorf("%s: correlation with sox's 8 kHz conversion %.4f < %.2f", c.name, corr, c.min)
		}
	}
}

// Real synthetic speech, male and female voices, through G.711: the in-band
// detector must stay silent (talk-off).
func TestToneDetectorTalkOff(t *testing.T) {
	espeak := needTool(t, "espeak-ng")
	dir := t.TempDir()
	text := "Thank you for calling. Your call is important to us. Please hold while we connect you " +
		"to the next available agent. For account balances, press one. Para espanol, oprima el dos. " +
		"Nine, eight, seven, six, five, four, three, two, one, zero, star, pound."
	for _, voice := range []string{"en-us", "en-us+f3", "es", "de+m3"} {
		path := filepath.Join(dir, voice+".wav")
		if out, err := exec.Command(espeak, "-v", voice, "-w", path, text).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng %s: %v %s", voice, err, out)
		}
		pcm, _, err := ReadWAVFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range pcm { // through µ-law, as it arrives
			pcm[i] = ULawDecode(ULawEncode(v))
		}
		if got := detect(pcm); got != "" {
			t.Errorf("voice %s: detected %q in %.1f s of speech", voice, got, float64(len(pcm))/SampleRate)
		}
	}
}
