package media

// G.711 (ITU-T Rec. G.711, 1988) µ-law and A-law companding.
//
// Encoding is a lookup in tables indexed by the significant bits of the
// sample: µ-law uses 14 bits and A-law 13 bits of the 16-bit linear input, so
// the tables hold 16384 and 8192 entries and give exactly the values of the
// reference algorithm (computed from it once, at package initialisation).
// Decoding is a 256-entry table. No function here allocates.

// ulawBias (132 = 4×33) is G.711's offset that makes the µ-law segments
// start on powers of two.
const ulawBias = 0x84

// The tables are written once by init and only read afterwards.
var (
	ulawDecTable [256]int16
	alawDecTable [256]int16
	ulawEncTable [1 << 14]byte
	alawEncTable [1 << 13]byte
)

// Silence values: what encoding a zero sample gives, used for comfort silence.
const (
	ULawSilence byte = 0xFF
	ALawSilence byte = 0xD5
)

func init() {
	for i := range 256 {
		ulawDecTable[i] = ulawDecodeRef(byte(i))
		alawDecTable[i] = alawDecodeRef(byte(i))
	}
	for i := range ulawEncTable {
		ulawEncTable[i] = ulawEncodeRef(int16((i - 8192) << 2))
	}
	for i := range alawEncTable {
		alawEncTable[i] = alawEncodeRef(int16((i - 4096) << 3))
	}
}

// ulawEncodeRef is the µ-law encoder of the ITU-T G.191 software tools
// (ulaw_compress), used only to fill the table. Negative samples are taken in
// one's complement, as G.711's decision values are symmetric around -½.
func ulawEncodeRef(s int16) byte {
	x := int(s)
	positive := x >= 0
	if !positive {
		x = ^x
	}
	abs := (x >> 2) + 33
	if abs > 0x1FFF {
		abs = 0x1FFF
	}
	seg := 1
	for i := abs >> 6; i != 0; i >>= 1 {
		seg++
	}
	high := 8 - seg
	low := 0x0F - ((abs >> seg) & 0x0F)
	code := high<<4 | low
	if positive {
		code |= 0x80
	}
	return byte(code)
}

func ulawDecodeRef(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + ulawBias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

var alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}

func alawEncodeRef(s int16) byte {
	v := int(s) >> 3
	var mask int
	if v >= 0 {
		mask = 0xD5
	} else {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for seg < 8 && v > alawSegEnd[seg] {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	aval := seg << 4
	if seg < 2 {
		aval |= (v >> 1) & 0x0F
	} else {
		aval |= (v >> seg) & 0x0F
	}
	return byte(aval ^ mask)
}

func alawDecodeRef(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// ULawEncode returns the µ-law code of one 16-bit linear sample.
func ULawEncode(s int16) byte { return ulawEncTable[(int(s)>>2)+8192] }

// ULawDecode returns the 16-bit linear value of one µ-law code.
func ULawDecode(u byte) int16 { return ulawDecTable[u] }

// ALawEncode returns the A-law code of one 16-bit linear sample.
func ALawEncode(s int16) byte { return alawEncTable[(int(s)>>3)+4096] }

// ALawDecode returns the 16-bit linear value of one A-law code.
func ALawDecode(a byte) int16 { return alawDecTable[a] }

// EncodeULaw encodes pcm into dst (len(dst) must be ≥ len(pcm)) and returns
// the number of bytes written.
func EncodeULaw(dst []byte, pcm []int16) int {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = ulawEncTable[(int(s)>>2)+8192]
	}
	return len(pcm)
}

// EncodeALaw is EncodeULaw for A-law.
func EncodeALaw(dst []byte, pcm []int16) int {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = alawEncTable[(int(s)>>3)+4096]
	}
	return len(pcm)
}

// DecodeULaw decodes src into dst (len(dst) must be ≥ len(src)) and returns
// the number of samples written.
func DecodeULaw(dst []int16, src []byte) int {
	dst = dst[:len(src)]
	for i, u := range src {
		dst[i] = ulawDecTable[u]
	}
	return len(src)
}

// DecodeALaw is DecodeULaw for A-law.
func DecodeALaw(dst []int16, src []byte) int {
	dst = dst[:len(src)]
	for i, a := range src {
		dst[i] = alawDecTable[a]
	}
	return len(src)
}
