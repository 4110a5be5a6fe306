package media

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// dtmfDigits maps RFC 4733 event codes 0-15 to keys (section 3.2).
const dtmfDigits = "0123456789*#ABCD"

// DigitEvent returns the RFC 4733 event code of a DTMF key.
func DigitEvent(d byte) (uint8, bool) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	i := strings.IndexByte(dtmfDigits, d)
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

// EventDigit returns the key of an RFC 4733 event code (0-15).
func EventDigit(e uint8) (byte, bool) {
	if int(e) >= len(dtmfDigits) {
		return 0, false
	}
	return dtmfDigits[e], true
}

// The DTMF grid (ITU-T Q.23): rows are the low group, columns the high group.
var (
	dtmfRows   = [4]float64{697, 770, 852, 941}
	dtmfCols   = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeypad = [4][4]byte{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// dtmfFreqs returns the row and column frequencies of key d (0, 0 if d is not a key).
func dtmfFreqs(d byte) (row, col float64) {
	for r := range dtmfKeypad {
		for c := range dtmfKeypad[r] {
			if dtmfKeypad[r][c] == d {
				return dtmfRows[r], dtmfCols[c]
			}
		}
	}
	return 0, 0
}

// TelephoneEvent is the 4-byte payload of an RFC 4733 named event packet
// (section 2.3): event code, end bit, volume in -dBm0 and duration in
// timestamp units since the event began.
type TelephoneEvent struct {
	Event    uint8
	End      bool
	Volume   uint8 // 0-63, power level in -dBm0
	Duration uint16
}

var errShortEvent = errors.New("media: telephone-event payload shorter than 4 bytes")

// Unmarshal parses an RFC 4733 payload. Extra bytes (several events in one
// packet, RFC 4733 section 2.5.1.5) are ignored: only the first event counts.
func (e *TelephoneEvent) Unmarshal(b []byte) error {
	if len(b) < 4 {
		return errShortEvent
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = uint16(b[2])<<8 | uint16(b[3])
	return nil
}

// MarshalTo writes the payload into b and returns 4.
func (e TelephoneEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, errShortEvent
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	b[2] = byte(e.Duration >> 8)
	b[3] = byte(e.Duration)
	return 4, nil
}

// eventReceiver turns a stream of RFC 4733 packets into digits, each
// reported once. It is owned by the session's receive goroutine.
//
// An event is identified by its RTP timestamp (RFC 4733 section 2.5.1.2: all
// packets of one event carry the start timestamp), so the three retransmitted
// end packets match the event already reported, and a key pressed twice is
// two events because the timestamp changes.
type eventReceiver struct {
	active   bool
	reported bool
	ts       uint32
	last     TelephoneEvent
}

// packet handles one telephone-event packet and calls emit for each digit
// that is now complete.
func (r *eventReceiver) packet(ts uint32, ev TelephoneEvent, emit func(digit byte, ev TelephoneEvent)) {
	if r.active && ts != r.ts {
		if int32(ts-r.ts) < 0 {
			return // a late packet of an earlier event, already dealt with
		}
		r.flush(emit) // the previous event lost all its end packets
	}
	if !r.active || ts != r.ts {
		r.active, r.reported, r.ts, r.last = true, false, ts, ev
	}
	if ev.Duration >= r.last.Duration || ev.End {
		r.last = ev
	}
	if ev.End && !r.reported {
		r.reported = true
		if d, ok := EventDigit(ev.Event); ok {
			emit(d, ev)
		}
	}
}

// audio tells the receiver an audio packet with timestamp ts arrived: when
// it is well past the end of an event that never got an end packet, that
// event is over and reported.
func (r *eventReceiver) audio(ts uint32, emit func(digit byte, ev TelephoneEvent)) {
	if r.active && !r.reported && int32(ts-(r.ts+uint32(r.last.Duration))) > 800 {
		r.flush(emit)
	}
}

func (r *eventReceiver) flush(emit func(digit byte, ev TelephoneEvent)) {
	if r.active && !r.reported {
		r.reported = true
		if d, ok := EventDigit(r.last.Event); ok {
			emit(d, r.last)
		}
	}
}

// ParseDTMFInfo parses the body of a SIP INFO carrying a key press:
// application/dtmf-relay ("Signal=5\r\nDuration=160\r\n", duration in ms) or
// application/dtmf (the key alone, or its RFC 4733 event code). It returns the
// key and the duration (0 when the body gives none).
func ParseDTMFInfo(contentType string, body []byte) (byte, time.Duration, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case "application/dtmf-relay":
		return parseDTMFRelay(body)
	case "application/dtmf":
		d, err := parseSignal(string(bytes.TrimSpace(body)))
		if err != nil {
			return 0, 0, fmt.Errorf("media: application/dtmf: %w", err)
		}
		return d, 0, nil
	}
	return 0, 0, fmt.Errorf("media: sip info: unsupported content type %q", contentType)
}

func parseDTMFRelay(body []byte) (byte, time.Duration, error) {
	var digit byte
	var dur time.Duration
	haveSignal := false
	for line := range strings.Lines(string(body)) {
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "signal":
			d, err := parseSignal(val)
			if err != nil {
				return 0, 0, fmt.Errorf("media: dtmf-relay: %w", err)
			}
			digit, haveSignal = d, true
		case "duration":
			ms, err := strconv.Atoi(val)
			if err != nil || ms < 0 || ms > 60000 {
				return 0, 0, fmt.Errorf("media: dtmf-relay: bad Duration %q", val)
			}
			dur = time.Duration(ms) * time.Millisecond
		}
	}
	if !haveSignal {
		return 0, 0, errors.New("media: dtmf-relay: no Signal line")
	}
	return digit, dur, nil
}

// parseSignal accepts a key ("5", "*", "#", "A") or an RFC 4733 event code
// ("10" for *, "11" for #), as both appear in the field.
func parseSignal(s string) (byte, error) {
	if len(s) == 1 {
		if _, ok := DigitEvent(s[0]); ok {
			d, _ := EventDigit(mustEvent(s[0]))
			return d, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(dtmfDigits) {
		return dtmfDigits[n], nil
	}
	return 0, fmt.Errorf("bad signal %q: %w", s, ErrBadDigit)
}

func mustEvent(d byte) uint8 { e, _ := DigitEvent(d); return e }

// In-band DTMF detection with the Goertzel algorithm.
//
// Windows of 160 samples (20 ms, 50 Hz resolution: enough to separate the
// DTMF frequencies, which are at least 73 Hz apart) are analysed every 80
// samples. A window is a hit for a key when its row and column tones are both
// loud enough, each dominates the other tones of its group, the twist between
// them is within limits, their second harmonics are weak (speech and music
// have harmonics; DTMF is pure) and together they carry most of the window's
// energy. A key is reported after two consecutive hits (a tone of at least
// 30-40 ms, per ITU-T Q.24 tones under about 23 ms are rejected) and a new key
// only after the previous one stopped for two windows.
const (
	gzWin            = 160
	gzHop            = 80
	gzMinAmp         = 250.0 // per tone, of 32768: about -42 dBFS
	gzNormalTwistDB  = 8.0   // row louder than column
	gzReverseTwistDB = 6.0   // column louder than row
	gzDominanceDB    = 8.0   // over the next tone of the same group
	gzHarmonicDB     = 10.0  // second harmonic at least this far below
	gzEnergyFraction = 0.9   // the pair's share of the window energy: voiced speech reached 0.82 in tests
)

// ToneDetector detects DTMF keys in 8 kHz linear audio. It is not safe for
// concurrent use: a session's receive goroutine owns its detector.
type ToneDetector struct {
	buf     [gzWin]float64
	n       int  // samples in buf
	cand    byte // key of the last hit window
	hits    int  // consecutive hits of cand
	current byte // key being held, 0 when none
	misses  int  // windows since current was last seen
	coef    [16]float64
}

// NewToneDetector returns a detector ready for use.
func NewToneDetector() *ToneDetector {
	d := &ToneDetector{}
	for i, f := range dtmfRows {
		d.coef[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
		d.coef[8+i] = 2 * math.Cos(2*math.Pi*2*f/SampleRate)
	}
	for i, f := range dtmfCols {
		d.coef[4+i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
		d.coef[12+i] = 2 * math.Cos(2*math.Pi*2*f/SampleRate)
	}
	return d
}

// Reset forgets any partial tone, for example after a gap in the stream.
func (d *ToneDetector) Reset() {
	d.n, d.cand, d.hits, d.current, d.misses = 0, 0, 0, 0, 0
}

// Process feeds samples and calls emit once for each key detected.
func (d *ToneDetector) Process(pcm []int16, emit func(digit byte)) {
	for len(pcm) > 0 {
		k := min(gzWin-d.n, len(pcm))
		for i := range k {
			d.buf[d.n+i] = float64(pcm[i])
		}
		d.n += k
		pcm = pcm[k:]
		if d.n == gzWin {
			d.window(emit)
			copy(d.buf[:], d.buf[gzHop:])
			d.n = gzWin - gzHop
		}
	}
}

func (d *ToneDetector) goertzel(coef float64) float64 {
	var s1, s2 float64
	for _, x := range d.buf {
		s := x + coef*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coef*s1*s2
}

// amp converts a Goertzel power to the amplitude of the tone.
func gzAmp(p float64) float64 { return 2 * math.Sqrt(max(p, 0)) / gzWin }

func (d *ToneDetector) classify() byte {
	// Cheap reject first: two tones at the minimum level carry N·A² energy.
	var energy float64
	for _, x := range d.buf {
		energy += x * x
	}
	if energy < gzWin*gzMinAmp*gzMinAmp {
		return 0
	}
	// The eight Goertzel filters in one pass over the window: the
	// independent recurrences run side by side instead of eight loops.
	var s1, s2 [8]float64
	c := d.coef
	for _, x := range d.buf {
		for i := range 8 {
			s := x + c[i]*s1[i] - s2[i]
			s2[i], s1[i] = s1[i], s
		}
	}
	var pw [8]float64
	for i := range 8 {
		pw[i] = s1[i]*s1[i] + s2[i]*s2[i] - c[i]*s1[i]*s2[i]
	}
	best := func(p []float64) (int, float64) {
		bi, second := 0, 0.0
		for i := 1; i < len(p); i++ {
			if p[i] > p[bi] {
				bi = i
			}
		}
		for i := range p {
			if i != bi && p[i] > second {
				second = p[i]
			}
		}
		return bi, second
	}
	r, r2 := best(pw[:4])
	col, c2 := best(pw[4:])
	ar, ac := gzAmp(pw[r]), gzAmp(pw[4+col])
	if ar < gzMinAmp || ac < gzMinAmp {
		return 0
	}
	dom := math.Pow(10, gzDominanceDB/10) // powers
	if pw[r] < dom*r2 || pw[4+col] < dom*c2 {
		return 0
	}
	twist := 20 * math.Log10(ar/ac)
	if twist > gzNormalTwistDB || -twist > gzReverseTwistDB {
		return 0
	}
	harm := math.Pow(10, gzHarmonicDB/10)
	if d.goertzel(d.coef[8+r])*harm > pw[r] || d.goertzel(d.coef[12+col])*harm > pw[4+col] {
		return 0
	}
	// A tone of amplitude A carries N·A²/2 of the window energy.
	tones := (ar*ar + ac*ac) * gzWin / 2
	if tones < gzEnergyFraction*energy {
		return 0
	}

	return dtmfKeypad[r][col]
}

func (d *ToneDetector) window(emit func(byte)) {
	k := d.classify()
	if k != 0 && k == d.cand {
		d.hits++
	} else {
		d.cand = k
		d.hits = 0
		if k != 0 {
			d.hits = 1
		}
	}
	if d.current != 0 {
		if k == d.current {
			d.misses = 0
			return
		}
		d.misses++
		if d.misses < 2 {
			return
		}
		d.current = 0
	}
	if d.cand != 0 && d.hits >= 2 {
		d.current, d.misses = d.cand, 0
		emit(d.cand)
	}
}
