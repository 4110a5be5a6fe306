package media

import "testing"

func TestG711KnownValues(t *testing.T) {
	// Values from ITU-T G.711 tables (and the widely used Sun reference code).
	ulaw := []struct {
		in   int16
		code byte
		dec  int16
	}{
		{0, 0xFF, 0},
		{-1, 0x7F, 0}, // G.711 negative zero
		{-4, 0x7F, 0},
		{-5, 0x7E, -8},
		{8, 0xFE, 8},
		{32767, 0x80, 32124},
		{-32768, 0x00, -32124},
		{1000, 0xCE, 988},
		{-1000, 0x4E, -988},
		{100, 0xF2, 104},
	}
	for _, c := range ulaw {
		if got := ULawEncode(c.in); got != c.code {
			t.Errorf("ULawEncode(%d) = %#x, want %#x", c.in, got, c.code)
		}
		if got := ULawDecode(c.code); got != c.dec {
			t.Errorf("ULawDecode(%#x) = %d, want %d", c.code, got, c.dec)
		}
	}
	alaw := []struct {
		in   int16
		code byte
		dec  int16
	}{
		{0, 0xD5, 8},
		{-1, 0x55, -8},
		{32767, 0xAA, 32256},
		{-32768, 0x2A, -32256},
		{1000, 0xFA, 1008},
		{-1000, 0x7A, -1008},
	}
	for _, c := range alaw {
		if got := ALawEncode(c.in); got != c.code {
			t.Errorf("ALawEncode(%d) = %#x, want %#x", c.in, got, c.code)
		}
		if got := ALawDecode(c.code); got != c.dec {
			t.Errorf("ALawDecode(%#x) = %d, want %d", c.code, got, c.dec)
		}
	}
}

// Every code decodes to a value that encodes back to the same code (except
// µ-law's negative zero 0x7F, which decodes to 0 and encodes as 0xFF).
func TestG711CodeRoundTrip(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if got := ULawEncode(ULawDecode(c)); got != c && c != 0x7F {
			t.Errorf("µ-law %#x -> %d -> %#x", c, ULawDecode(c), got)
		}
		if got := ALawEncode(ALawDecode(c)); got != c {
			t.Errorf("A-law %#x -> %d -> %#x", c, ALawDecode(c), got)
		}
	}
}

// Encoding then decoding any sample stays within half a quantisation step of
// the segment, and the companding is monotonic.
func TestG711SampleRoundTripError(t *testing.T) {
	prevU, prevA := int16(-32768), int16(-32768)
	for s := -32768; s <= 32767; s++ {
		u := ULawDecode(ULawEncode(int16(s)))
		a := ALawDecode(ALawEncode(int16(s)))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d", s)
		}
		prevU, prevA = u, a
		mag := s
		if mag < 0 {
			mag = -mag
		}
		// The step size of the segment holding s is at most 1/16 of its
		// magnitude plus the smallest step; the error is at most one step.
		limit := mag/16 + 16
		if s > 32124 || s < -32124 {
			limit = 1100 // clipping above the largest µ-law value
		}
		if d := int(u) - s; d > limit || d < -limit {
			t.Fatalf("µ-law error at %d: decoded %d", s, u)
		}
		if d := int(a) - s; d > limit || d < -limit {
			t.Fatalf("A-law error at %d: decoded %d", s, a)
		}
	}
}

func TestG711SliceFunctions(t *testing.T) {
	pcm := []int16{0, 100, -100, 20000, -20000}
	b := make([]byte, len(pcm))
	out := make([]int16, len(pcm))
	EncodeULaw(b, pcm)
	DecodeULaw(out, b)
	for i := range pcm {
		if out[i] != ULawDecode(ULawEncode(pcm[i])) {
			t.Fatalf("µ-law slice %d", i)
		}
	}
	EncodeALaw(b, pcm)
	DecodeALaw(out, b)
	for i := range pcm {
		if out[i] != ALawDecode(ALawEncode(pcm[i])) {
			t.Fatalf("A-law slice %d", i)
		}
	}
}

func BenchmarkG711Encode160(b *testing.B) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 200)
	}
	dst := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeULaw(dst, pcm)
	}
}
