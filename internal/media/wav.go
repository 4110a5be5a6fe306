package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// SampleRate is the only rate the telephone side uses: G.711 at 8 kHz.
const SampleRate = 8000

// WAV format tags (the wFormatTag of the fmt chunk).
const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatALaw       = 6
	wavFormatULaw       = 7
	wavFormatExtensible = 0xFFFE
)

// Rates outside this range are rejected: below it nothing is speech, above it
// the file is not a prompt, and bounding it keeps resampling output bounded.
const (
	minWAVRate = 1000
	maxWAVRate = 384000
)

// WAVInfo describes the file a prompt came from, for logs and tests.
type WAVInfo struct {
	FormatTag  int // 1 PCM, 3 float, 6 A-law, 7 µ-law (extensible files report their sub-format)
	Channels   int
	Rate       int
	Bits       int
	SourceLen  int // sample frames in the file
	DurationMS int
}

// ReadWAVFile reads a WAV file and returns its audio as 8 kHz mono 16-bit PCM.
func ReadWAVFile(path string) ([]int16, WAVInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, WAVInfo{}, fmt.Errorf("media: wav %s: %w", path, err)
	}
	return DecodeWAV(data, path)
}

// DecodeWAV decodes a whole WAV file held in data: µ-law, A-law, 8/16/24/32-bit
// integer or 32/64-bit float PCM, any number of channels (averaged to mono),
// any rate from 1 to 384 kHz (resampled to 8 kHz by a windowed-sinc filter,
// which low-passes before decimating so that nothing above 4 kHz folds back
// into the band as it would by dropping samples). name is used in errors.
func DecodeWAV(data []byte, name string) ([]int16, WAVInfo, error) {
	var info WAVInfo
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, info, fmt.Errorf("media: wav %s: not a RIFF/WAVE file", name)
	}
	var fmtChunk, dataChunk []byte
	haveData := false
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		size := int(binary.LittleEndian.Uint32(data[off+4 : off+8]))
		body := data[off+8:]
		if size > len(body) {
			if id != "data" {
				return nil, info, fmt.Errorf("media: wav %s: truncated %q chunk (%d bytes declared, %d present)", name, id, size, len(body))
			}
			// Writers that stream to a pipe cannot seek back to fix the
			// size and leave a placeholder near 2^31 or 2^32: take the rest.
			if size < 0x7FFF0000 {
				return nil, info, fmt.Errorf("media: wav %s: truncated data (%d bytes declared, %d present)", name, size, len(body))
			}
			size = len(body)
		}
		switch id {
		case "fmt ":
			fmtChunk = body[:size]
		case "data":
			dataChunk = body[:size]
			haveData = true
		}
		if haveData && fmtChunk != nil {
			break
		}
		off += 8 + size + size&1 // chunks are padded to an even length
	}
	if fmtChunk == nil {
		return nil, info, fmt.Errorf("media: wav %s: no fmt chunk", name)
	}
	if !haveData {
		return nil, info, fmt.Errorf("media: wav %s: no data chunk", name)
	}
	if len(fmtChunk) < 16 {
		return nil, info, fmt.Errorf("media: wav %s: fmt chunk too short (%d bytes)", name, len(fmtChunk))
	}
	tag := int(binary.LittleEndian.Uint16(fmtChunk[0:2]))
	channels := int(binary.LittleEndian.Uint16(fmtChunk[2:4]))
	rate := int(binary.LittleEndian.Uint32(fmtChunk[4:8]))
	bits := int(binary.LittleEndian.Uint16(fmtChunk[14:16]))
	if tag == wavFormatExtensible {
		if len(fmtChunk) < 26 {
			return nil, info, fmt.Errorf("media: wav %s: extensible fmt chunk too short (%d bytes)", name, len(fmtChunk))
		}
		tag = int(binary.LittleEndian.Uint16(fmtChunk[24:26])) // first bytes of the sub-format GUID
	}
	info = WAVInfo{FormatTag: tag, Channels: channels, Rate: rate, Bits: bits}
	if channels < 1 {
		return nil, info, fmt.Errorf("media: wav %s: %d channels", name, channels)
	}
	if rate < minWAVRate || rate > maxWAVRate {
		return nil, info, fmt.Errorf("media: wav %s: unsupported sample rate %d Hz", name, rate)
	}
	var decode func(b []byte) float64
	switch {
	case tag == wavFormatULaw && bits == 8:
		decode = func(b []byte) float64 { return float64(ULawDecode(b[0])) / 32768 }
	case tag == wavFormatALaw && bits == 8:
		decode = func(b []byte) float64 { return float64(ALawDecode(b[0])) / 32768 }
	case tag == wavFormatPCM && bits == 8:
		decode = func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }
	case tag == wavFormatPCM && bits == 16:
		decode = func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) / 32768 }
	case tag == wavFormatPCM && bits == 24:
		decode = func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}
	case tag == wavFormatPCM && bits == 32:
		decode = func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31) }
	case tag == wavFormatFloat && bits == 32:
		decode = func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	case tag == wavFormatFloat && bits == 64:
		decode = func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	case tag == wavFormatPCM || tag == wavFormatFloat || tag == wavFormatALaw || tag == wavFormatULaw:
		return nil, info, fmt.Errorf("media: wav %s: unsupported %d bits per sample for format tag %d", name, bits, tag)
	default:
		return nil, info, fmt.Errorf("media: wav %s: unsupported format tag %d", name, tag)
	}
	width := bits / 8
	frameBytes := width * channels
	frames := len(dataChunk) / frameBytes
	info.SourceLen = frames
	info.DurationMS = int(int64(frames) * 1000 / int64(rate))
	mono := make([]float64, frames)
	for i := range frames {
		fr := dataChunk[i*frameBytes : (i+1)*frameBytes]
		var sum float64
		for c := range channels {
			v := decode(fr[c*width:])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			sum += v
		}
		mono[i] = sum / float64(channels)
	}
	if rate != SampleRate {
		mono = Resample(mono, rate, SampleRate)
	}
	return floatToPCM(mono), info, nil
}

func floatToPCM(in []float64) []int16 {
	out := make([]int16, len(in))
	for i, v := range in {
		v = math.Round(v * 32768)
		switch {
		case v > 32767:
			v = 32767
		case v < -32768:
			v = -32768
		}
		out[i] = int16(v)
	}
	return out
}

// Windowed-sinc resampler (the bandlimited interpolation of J. O. Smith): the
// kernel is a sinc at the lower of the two Nyquist rates (times rsRolloff),
// under a Kaiser window, tabulated finely once and linearly interpolated, so
// any pair of rates works without a polyphase table per ratio.
const (
	rsZeros   = 16   // zero crossings of the sinc on each side
	rsRes     = 512  // table entries per zero crossing
	rsRolloff = 0.92 // cutoff as a fraction of the output Nyquist when decimating: 3.68 kHz for 8 kHz
	rsBeta    = 8.0  // Kaiser window β: about 80 dB stop-band
)

// rsKernel is written once by init and only read afterwards.
var rsKernel [rsZeros*rsRes + 2]float64

func init() {
	i0b := besselI0(rsBeta)
	for i := range rsKernel {
		x := float64(i) / rsRes // in zero crossings
		var s float64 = 1
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		r := x / rsZeros
		w := 0.0
		if r <= 1 {
			w = besselI0(rsBeta*math.Sqrt(1-r*r)) / i0b
		}
		rsKernel[i] = s * w
	}
}

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

// Resample converts in from rate from to rate to with a windowed-sinc low-pass
// filter (cutoff 0.92 × the lower Nyquist frequency).
func Resample(in []float64, from, to int) []float64 {
	if from == to || len(in) == 0 {
		return append([]float64(nil), in...)
	}
	ratio := float64(from) / float64(to) // input samples per output sample
	g := rsRolloff
	if to < from {
		g *= float64(to) / float64(from)
	}
	half := float64(rsZeros) / g // kernel half-width in input samples
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]float64, n)
	for j := range out {
		p := float64(j) * ratio
		lo := int(math.Ceil(p - half))
		hi := int(math.Floor(p + half))
		if lo < 0 {
			lo = 0
		}
		if hi > len(in)-1 {
			hi = len(in) - 1
		}
		var acc float64
		for k := lo; k <= hi; k++ {
			d := math.Abs(p-float64(k)) * g * rsRes
			idx := int(d)
			if idx >= rsZeros*rsRes {
				continue
			}
			frac := d - float64(idx)
			h := rsKernel[idx] + frac*(rsKernel[idx+1]-rsKernel[idx])
			acc += in[k] * h
		}
		out[j] = acc * g
	}
	return out
}

// WriteWAV writes pcm as an 8 kHz mono 16-bit PCM WAV file.
func WriteWAV(w io.Writer, pcm []int16) error {
	return writeWAV(w, pcm, SampleRate)
}

func writeWAV(w io.Writer, pcm []int16, rate int) error {
	dataLen := len(pcm) * 2
	buf := make([]byte, 44+dataLen)
	copy(buf[0:], "RIFF")
	binary.LittleEndian.PutUint32(buf[4:], uint32(36+dataLen))
	copy(buf[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(buf[16:], 16)
	binary.LittleEndian.PutUint16(buf[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(buf[22:], 1)
	binary.LittleEndian.PutUint32(buf[24:], uint32(rate))
	binary.LittleEndian.PutUint32(buf[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(buf[32:], 2)
	binary.LittleEndian.PutUint16(buf[34:], 16)
	copy(buf[36:], "data")
	binary.LittleEndian.PutUint32(buf[40:], uint32(dataLen))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(buf[44+2*i:], uint16(s))
	}
	_, err := w.Write(buf)
	return err
}

// WriteWAVFile writes pcm to path as an 8 kHz mono 16-bit PCM WAV file.
func WriteWAVFile(path string, pcm []int16) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("media: wav %s: %w", path, err)
	}
	if err := WriteWAV(f, pcm); err != nil {
		f.Close()
		return fmt.Errorf("media: wav %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("media: wav %s: %w", path, err)
	}
	return nil
}
