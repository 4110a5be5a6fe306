package media

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestTelephoneEventMarshal(t *testing.T) {
	ev := TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 1280}
	var b [4]byte
	if _, err := ev.MarshalTo(b[:]); err != nil {
		t.Fatal(err)
	}
	if b != [4]byte{11, 0x8A, 0x05, 0x00} {
		t.Fatalf("bytes % x", b)
	}
	var got TelephoneEvent
	if err := got.Unmarshal(b[:]); err != nil || got != ev {
		t.Fatalf("got %+v, %v", got, err)
	}
	if err := got.Unmarshal(b[:3]); err == nil {
		t.Fatal("3 bytes accepted")
	}
}

// One key press as a sender emits it: start packets with growing duration,
// three end packets with the same timestamp; then a second press of the same
// key with a new timestamp.
func TestEventReceiverReportsOnce(t *testing.T) {
	var got []byte
	emit := func(d byte, _ TelephoneEvent) { got = append(got, d) }
	var r eventReceiver
	press := func(ts uint32, ev uint8) {
		for i := 1; i <= 5; i++ {
			r.packet(ts, TelephoneEvent{Event: ev, Duration: uint16(160 * i)}, emit)
		}
		for range 3 {
			r.packet(ts, TelephoneEvent{Event: ev, End: true, Duration: 960}, emit)
		}
	}
	press(1000, 5)
	press(3000, 5)
	press(5000, 11)
	// A late duplicate of the first event must not count again.
	r.packet(1000, TelephoneEvent{Event: 5, End: true, Duration: 960}, emit)
	if string(got) != "55#" {
		t.Fatalf("got %q, want \"55#\"", got)
	}
}

func TestEventReceiverLostEnd(t *testing.T) {
	var got []byte
	emit := func(d byte, _ TelephoneEvent) { got = append(got, d) }
	var r eventReceiver
	// Event 1 loses its end packets; the next event reveals it ended.
	r.packet(100, TelephoneEvent{Event: 1, Duration: 160}, emit)
	r.packet(100, TelephoneEvent{Event: 1, Duration: 320}, emit)
	r.packet(2000, TelephoneEvent{Event: 2, End: true, Duration: 320}, emit)
	// Event 3 loses its end packets; audio resuming well after reveals it.
	r.packet(4000, TelephoneEvent{Event: 3, Duration: 160}, emit)
	r.audio(4100, emit) // still within the event: nothing
	r.audio(6000, emit)
	if string(got) != "123" {
		t.Fatalf("got %q", got)
	}
}

func TestParseDTMFInfo(t *testing.T) {
	cases := []struct {
		ct, body string
		digit    byte
		dur      time.Duration
		err      string
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, ""},
		{"application/dtmf-relay", "Signal= #\nDuration= 250", '#', 250 * time.Millisecond, ""},
		{"Application/DTMF-Relay; charset=utf-8", "signal=*\r\n", '*', 0, ""},
		{"application/dtmf-relay", "Signal=11\r\nDuration=100\r\n", '#', 100 * time.Millisecond, ""},
		{"application/dtmf-relay", "Signal=a\r\n", 'A', 0, ""},
		{"application/dtmf-relay", "Duration=160\r\n", 0, 0, "no Signal"},
		{"application/dtmf-relay", "Signal=X\r\n", 0, 0, "bad signal"},
		{"application/dtmf-relay", "Signal=1\r\nDuration=-5\r\n", 0, 0, "bad Duration"},
		{"application/dtmf", "7", '7', 0, ""},
		{"application/dtmf", "10\r\n", '*', 0, ""},
		{"application/dtmf", "", 0, 0, "bad signal"},
		{"text/plain", "5", 0, 0, "unsupported content type"},
	}
	for _, c := range cases {
		d, dur, err := ParseDTMFInfo(c.ct, []byte(c.body))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %q: err %v, want %q", c.ct, c.body, err, c.err)
			}
			continue
		}
		if err != nil || d != c.digit || dur != c.dur {
			t.Errorf("%q %q: got %q %v %v", c.ct, c.body, d, dur, err)
		}
	}
}

func detect(pcm []int16) string {
	d := NewToneDetector()
	var got []byte
	for i := 0; i < len(pcm); i += 160 {
		d.Process(pcm[i:min(i+160, len(pcm))], func(k byte) { got = append(got, k) })
	}
	return string(got)
}

func silence(n int) []int16 { return make([]int16, n) }

func addNoise(x []int16, amp float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, float64(v)+rng.NormFloat64()*amp)))
	}
	return out
}

func TestToneDetectorAllDigits(t *testing.T) {
	var pcm []int16
	for _, k := range []byte(dtmfDigits) {
		pcm = append(pcm, dtmfTone(k, 6000, 800)...) // 100 ms on
		pcm = append(pcm, silence(800)...)           // 100 ms off
	}
	if got := detect(pcm); got != dtmfDigits {
		t.Fatalf("clean: got %q, want %q", got, dtmfDigits)
	}
	// At about 15 dB SNR per tone, and at a low level (-30 dBFS tones).
	if got := detect(addNoise(pcm, 700, 1)); got != dtmfDigits {
		t.Fatalf("noisy: got %q", got)
	}
	var quiet []int16
	for _, v := range pcm {
		quiet = append(quiet, v/6)
	}
	if got := detect(quiet); got != dtmfDigits {
		t.Fatalf("quiet: got %q", got)
	}
}

// Minimum duration: 40 ms tones with 40 ms gaps are all detected (Q.24), 20 ms
// bursts are not.
func TestToneDetectorTiming(t *testing.T) {
	var pcm []int16
	for _, k := range []byte("1593") {
		pcm = append(pcm, dtmfTone(k, 6000, 320)...)
		pcm = append(pcm, silence(320)...)
	}
	if got := detect(pcm); got != "1593" {
		t.Fatalf("40 ms tones: got %q", got)
	}
	pcm = pcm[:0]
	for range 10 {
		pcm = append(pcm, dtmfTone('5', 6000, 160)...)
		pcm = append(pcm, silence(400)...)
	}
	if got := detect(pcm); got != "" {
		t.Fatalf("20 ms bursts: got %q", got)
	}
	// A long press is one key.
	if got := detect(dtmfTone('8', 6000, 8000)); got != "8" {
		t.Fatalf("1 s press: got %q", got)
	}
}

func TestToneDetectorTwist(t *testing.T) {
	mk := func(rowAmp, colAmp float64) []int16 {
		r, c := dtmfFreqs('6')
		out := make([]int16, 1200)
		for i := range out {
			tt := float64(i) / SampleRate
			out[i] = int16(rowAmp*math.Sin(2*math.Pi*r*tt) + colAmp*math.Sin(2*math.Pi*c*tt))
		}
		return out
	}
	if got := detect(mk(6000, 6000*math.Pow(10, -6.0/20))); got != "6" {
		t.Errorf("6 dB normal twist: got %q", got)
	}
	if got := detect(mk(6000, 6000*math.Pow(10, -14.0/20))); got != "" {
		t.Errorf("14 dB normal twist accepted: %q", got)
	}
	if got := detect(mk(6000*math.Pow(10, -12.0/20), 6000)); got != "" {
		t.Errorf("12 dB reverse twist accepted: %q", got)
	}
}

// speechLike synthesises voiced sound: a glottal pulse train whose pitch
// wanders between 90 and 250 Hz, shaped by two formants that sweep across the
// DTMF bands, plus breath noise: it has energy at DTMF frequencies but as
// harmonics, never as a pure pair.
func speechLike(seconds float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 2))
	n := int(seconds * SampleRate)
	out := make([]int16, n)
	phase := 0.0
	for i := range out {
		tt := float64(i) / SampleRate
		f0 := 170 + 80*math.Sin(2*math.Pi*0.7*tt)
		f1 := 700 + 250*math.Sin(2*math.Pi*1.3*tt)
		f2 := 1350 + 300*math.Sin(2*math.Pi*0.9*tt)
		phase += 2 * math.Pi * f0 / SampleRate
		var s float64
		for h := 1; h <= 20; h++ {
			fh := float64(h) * f0
			if fh > 3800 {
				break
			}
			g := 1/(1+math.Pow((fh-f1)/120, 2)) + 0.7/(1+math.Pow((fh-f2)/150, 2))
			s += g * math.Sin(float64(h)*phase)
		}
		// Syllables: a 4 Hz envelope.
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*tt)
		out[i] = int16(max(-32767, min(32767, 5000*env*s+rng.NormFloat64()*300)))
	}
	return out
}

func TestToneDetectorRejects(t *testing.T) {
	cases := map[string][]int16{
		"white noise":    addNoise(silence(8000*5), 4000, 3),
		"speech-like":    speechLike(20, 4),
		"single 697 Hz":  sine(8000, 697, 8000, 8000),
		"single 1336 Hz": sine(8000, 1336, 8000, 8000),
		"dial tone 350+440": func() []int16 {
			a, b := sine(8000, 350, 6000, 8000), sine(8000, 440, 6000, 8000)
			for i := range a {
				a[i] += b[i]
			}
			return a
		}(),
		"too quiet": func() []int16 {
			x := dtmfTone('1', 100, 8000)
			return x
		}(),
	}
	for name, pcm := range cases {
		if got := detect(pcm); got != "" {
			t.Errorf("%s: detected %q", name, got)
		}
	}
}

func BenchmarkToneDetector(b *testing.B) {
	pcm := speechLike(1, 5)
	d := NewToneDetector()
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i+160 <= len(pcm); i += 160 {
			d.Process(pcm[i:i+160], func(byte) {})
		}
	}
}

func FuzzTelephoneEvent(f *testing.F) {
	f.Add([]byte{5, 0x8a, 0x03, 0x20}, uint32(100))
	f.Add([]byte{11, 0x0a, 0x00, 0xa0, 0xff}, uint32(0xFFFFFF00))
	f.Fuzz(func(t *testing.T, b []byte, ts uint32) {
		var ev TelephoneEvent
		if err := ev.Unmarshal(b); err != nil {
			return
		}
		var out [4]byte
		if _, err := ev.MarshalTo(out[:]); err != nil {
			t.Fatal(err)
		}
		var again TelephoneEvent
		if err := again.Unmarshal(out[:]); err != nil || again != ev {
			t.Fatalf("round trip %+v -> %+v", ev, again)
		}
		var r eventReceiver
		n := 0
		for range 4 { // the same event repeated is reported at most once
			r.packet(ts, ev, func(byte, TelephoneEvent) { n++ })
		}
		if n > 1 {
			t.Fatalf("reported %d times", n)
		}
	})
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("11"))
	f.Add("application/dtmf-relay", []byte("Signal=\r\n=\n"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, dur, err := ParseDTMFInfo(ct, body)
		if err != nil {
			return
		}
		if _, ok := DigitEvent(d); !ok || dur < 0 {
			t.Fatalf("accepted digit %q duration %v", d, dur)
		}
	})
}

func TestKeyFloodIsRateLimited(t *testing.T) {
	var b tokenBucket
	now := time.Unix(100, 0)
	passed := 0
	// 1,000 keys in one second: the burst and a second's rate get through.
	for i := 0; i < 1000; i++ {
		if b.take(now.Add(time.Duration(i) * time.Millisecond)) {
			passed++
		}
	}
	if passed < keyBurst || passed > keyBurst+keyRate+1 {
		t.Fatalf("%d of 1000 flood keys passed, want about %d", passed, keyBurst+keyRate)
	}
	// A person typing 8 keys a second is never limited.
	var p tokenBucket
	for i := 0; i < 200; i++ {
		if !p.take(now.Add(time.Duration(i) * 125 * time.Millisecond)) {
			t.Fatalf("key %d of a normal typist dropped", i)
		}
	}
}
