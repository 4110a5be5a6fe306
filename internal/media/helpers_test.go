package media

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"testing"
)

// sine returns n samples of amp·sin(2π f t) at rate.
func sine(rate int, freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// dtmfTone returns n samples of the DTMF pair of digit d at 8 kHz.
func dtmfTone(d byte, amp float64, n int) []int16 {
	r, c := dtmfFreqs(d)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / SampleRate
		out[i] = int16(amp*math.Sin(2*math.Pi*r*t) + amp*math.Sin(2*math.Pi*c*t))
	}
	return out
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(s / float64(len(x)))
}

// bestNCC returns the largest normalised cross-correlation of a and b over
// lags of b relative to a within ±maxLag samples, and that lag. Only the
// overlapping part counts, so the audio must overlap by most of its length.
func bestNCC(a, b []int16, maxLag int) (float64, int) {
	best, bestLag := -2.0, 0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var sab, saa, sbb float64
		n := 0
		for i := range a {
			j := i + lag
			if j < 0 || j >= len(b) {
				continue
			}
			x, y := float64(a[i]), float64(b[j])
			sab += x * y
			saa += x * x
			sbb += y * y
			n++
		}
		if n < len(a)/2 || saa == 0 || sbb == 0 {
			continue
		}
		if c := sab / math.Sqrt(saa*sbb); c > best {
			best, bestLag = c, lag
		}
	}
	return best, bestLag
}

// buildWAV assembles a WAV file by hand, so the reader is tested against bytes
// we control rather than against our own writer only.
func buildWAV(tag, channels, rate, bits int, data []byte) []byte {
	b := make([]byte, 44+len(data))
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+len(data)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], uint16(tag))
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[32:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[34:], uint16(bits))
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(len(data)))
	copy(b[44:], data)
	return b
}

// needTool returns the path of a real peer program, skipping the test when it
// is absent on a developer machine; under CI=true the CI job installs it, so
// its absence is a failure.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (CI is set, so the job should have installed it)", name)
		}
		t.Skipf("%s not installed: apt-get install -y sox espeak-ng sip-tester", name)
	}
	return p
}

func cosine(freq float64) float64 { return math.Cos(2 * math.Pi * freq / SampleRate) }
