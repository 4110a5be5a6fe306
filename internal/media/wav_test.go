package media

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestWAVWriteReadRoundTrip(t *testing.T) {
	src := sine(8000, 440, 8000, 8000)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, src); err != nil {
		t.Fatal(err)
	}
	got, info, err := DecodeWAV(buf.Bytes(), "mem.wav")
	if err != nil {
		t.Fatal(err)
	}
	if info.Rate != 8000 || info.Channels != 1 || info.Bits != 16 || info.FormatTag != 1 {
		t.Fatalf("info %+v", info)
	}
	if !slicesEqual(got, src) {
		t.Fatal("8 kHz PCM did not round-trip exactly")
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWAVFormats(t *testing.T) {
	ref := sine(8000, 700, 10000, 4000)
	pcm16 := func(rate, ch int, freq float64) []byte {
		n := rate / 2
		s := sine(rate, freq, 10000, n)
		b := make([]byte, 0, n*2*ch)
		for _, v := range s {
			for range ch {
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			}
		}
		return b
	}
	ulaw := make([]byte, len(ref))
	EncodeULaw(ulaw, ref)
	alaw := make([]byte, len(ref))
	EncodeALaw(alaw, ref)
	f32 := make([]byte, 0, 4*len(ref))
	for _, v := range ref {
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(float32(v)/32768))
	}
	pcm8 := make([]byte, len(ref))
	for i, v := range ref {
		pcm8[i] = byte(int(v)/256 + 128)
	}
	cases := []struct {
		name string
		file []byte
	}{
		{"ulaw", buildWAV(7, 1, 8000, 8, ulaw)},
		{"alaw", buildWAV(6, 1, 8000, 8, alaw)},
		{"pcm8", buildWAV(1, 1, 8000, 8, pcm8)},
		{"float32", buildWAV(3, 1, 8000, 32, f32)},
		{"pcm16-16k", buildWAV(1, 1, 16000, 16, pcm16(16000, 1, 700))},
		{"pcm16-44k1-stereo", buildWAV(1, 2, 44100, 16, pcm16(44100, 2, 700))},
		{"pcm16-48k", buildWAV(1, 1, 48000, 16, pcm16(48000, 1, 700))},
		{"pcm16-11025", buildWAV(1, 1, 11025, 16, pcm16(11025, 1, 700))},
		{"pcm16-6k-up", buildWAV(1, 1, 6000, 16, pcm16(6000, 1, 700))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := DecodeWAV(c.file, c.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < 3900 || len(got) > 4100 {
				t.Fatalf("got %d samples, want about 4000", len(got))
			}
			// Skip the filter's edges; the level must be kept within 5 %.
			mid := got[200 : len(got)-200]
			if r := rms(mid) / rms(ref); r < 0.95 || r > 1.05 {
				t.Errorf("level ratio %.3f", r)
			}
			if c, _ := bestNCC(ref[200:3000], got[200:], 3); c < 0.99 {
				t.Errorf("correlation with the 8 kHz reference %.4f", c)
			}
		})
	}
}

// A 6 kHz tone is above the 4 kHz Nyquist limit of the telephone band: a
// proper low-pass removes it, while sample dropping would fold it to 2 kHz.
func TestResampleRejectsAliases(t *testing.T) {
	for _, rate := range []int{44100, 48000, 16000, 22050} {
		in := sine(rate, 6000, 16000, rate)
		b := make([]byte, 0, 2*len(in))
		for _, v := range in {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
		got, _, err := DecodeWAV(buildWAV(1, 1, rate, 16, b), "alias.wav")
		if err != nil {
			t.Fatal(err)
		}
		level := rms(got[200:len(got)-200]) / rms(in)
		if db := 20 * math.Log10(level+1e-12); db > -50 {
			t.Errorf("%d Hz: 6 kHz tone only attenuated %.1f dB", rate, db)
		}
	}
}

func TestWAVErrors(t *testing.T) {
	good := buildWAV(1, 1, 8000, 16, make([]byte, 320))
	truncated := append([]byte(nil), good[:100]...)
	adpcm := buildWAV(2, 1, 8000, 4, make([]byte, 100))
	badBits := buildWAV(1, 1, 8000, 12, make([]byte, 100))
	noData := good[:36]
	badRate := buildWAV(1, 1, 100, 16, make([]byte, 100))
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"text.wav", "not a RIFF/WAVE file", []byte("hello world, not audio")},
		{"trunc.wav", "truncated data", truncated},
		{"adpcm.wav", "unsupported format tag 2", adpcm},
		{"bits.wav", "unsupported 12 bits per sample", badBits},
		{"nodata.wav", "no data chunk", noData},
		{"rate.wav", "unsupported sample rate 100", badRate},
	}
	for _, c := range cases {
		_, _, err := DecodeWAV(c.data, c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", c.name, err, c.want)
		}
	}
	if _, _, err := ReadWAVFile("/nonexistent/p.wav"); err == nil || !strings.Contains(err.Error(), "/nonexistent/p.wav") {
		t.Errorf("missing file: %v", err)
	}
}

// A data chunk size left as a streaming placeholder is read to the end.
func TestWAVStreamingPlaceholder(t *testing.T) {
	f := buildWAV(1, 1, 8000, 16, make([]byte, 320))
	binary.LittleEndian.PutUint32(f[40:], 0xFFFFFFFF)
	got, _, err := DecodeWAV(f, "stream.wav")
	if err != nil || len(got) != 160 {
		t.Fatalf("got %d samples, %v", len(got), err)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(buildWAV(1, 1, 8000, 16, make([]byte, 64)))
	f.Add(buildWAV(7, 2, 44100, 8, make([]byte, 64)))
	f.Add(buildWAV(3, 1, 16000, 64, make([]byte, 64)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, info, err := DecodeWAV(data, "fuzz.wav")
		if err != nil {
			return
		}
		if info.Rate == SampleRate && info.Channels == 1 && len(pcm) != info.SourceLen {
			t.Fatalf("8 kHz mono: %d samples out of %d", len(pcm), info.SourceLen)
		}
	})
}
