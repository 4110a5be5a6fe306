package asr

import (
	"math"
	"time"
)

// EndpointConfig sets the endpointer. Zero values take the defaults.
type EndpointConfig struct {
	// Threshold is how far above the noise floor (dB) a 20 ms frame must be
	// to count as speech; 0 means 12 dB.
	Threshold float64
	// MinLevel is the RMS (of 32768) under which nothing is speech, however
	// quiet the line; 0 means 300 (about -40 dBFS, above G.711 idle noise).
	MinLevel float64
	// Onset is how much speech starts an utterance (short clicks do not);
	// 0 means 60 ms.
	Onset time.Duration
	// Preroll is the audio kept from before the onset, so the recogniser
	// hears a word's soft start; 0 means 300 ms.
	Preroll time.Duration
	// MaxUtterance bounds the audio kept (maxspeechtimeout); 0 means 60 s.
	MaxUtterance time.Duration
}

// Endpointer is tandem's voice activity detection on a call's 8 kHz audio:
// it finds where the caller starts speaking (for barge-in and noinput),
// measures the silence since the caller last spoke (completetimeout,
// incompletetimeout), and keeps the utterance for the recogniser. An
// energy detector on 20 ms frames against a noise floor that follows the
// quiet frames: simple and predictable, which is what a barge-in needs.
// Not safe for concurrent use.
type Endpointer struct {
	cfg        EndpointConfig
	frame      []int16 // the 20 ms frame being filled
	floor      float64 // noise floor, dB
	speechRun  int     // samples of consecutive speech
	silenceRun int     // samples since the last speech frame
	started    bool    // an utterance started
	startAt    int     // sample index of its onset (with preroll) in buf
	buf        []int16 // audio since the start, or the preroll before it
	total      int     // samples written
	speech     int     // samples of speech frames since the start
}

// FrameSamples is the endpointer's frame: 20 ms at 8 kHz.
const FrameSamples = 160

// NewEndpointer returns an endpointer with cfg's defaults filled in.
func NewEndpointer(cfg EndpointConfig) *Endpointer {
	if cfg.Threshold == 0 {
		cfg.Threshold = 12
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = 300
	}
	if cfg.Onset == 0 {
		cfg.Onset = 60 * time.Millisecond
	}
	if cfg.Preroll == 0 {
		cfg.Preroll = 300 * time.Millisecond
	}
	if cfg.MaxUtterance == 0 {
		cfg.MaxUtterance = 60 * time.Second
	}
	return &Endpointer{cfg: cfg, floor: 20 * math.Log10(cfg.MinLevel/2)}
}

func samples(d time.Duration) int { return int(d.Seconds() * SampleRate) }

// Write takes received audio: gap samples were lost before pcm (silence
// to the endpointer). It returns true when this audio started an utterance.
func (e *Endpointer) Write(gap int, pcm []int16) (started bool) {
	for range min(gap, SampleRate) {
		started = e.add(0) || started
	}
	for _, s := range pcm {
		started = e.add(s) || started
	}
	return started
}

func (e *Endpointer) add(s int16) bool {
	e.total++
	e.frame = append(e.frame, s)
	max := samples(e.cfg.MaxUtterance)
	if !e.started || len(e.buf) < max {
		e.buf = append(e.buf, s)
	}
	if !e.started {
		// Keep only the preroll and the frame in progress before an onset.
		if keep := samples(e.cfg.Preroll) + samples(e.cfg.Onset) + FrameSamples; len(e.buf) > 2*keep {
			e.buf = append(e.buf[:0], e.buf[len(e.buf)-keep:]...)
		}
	}
	if len(e.frame) < FrameSamples {
		return false
	}
	var sum float64
	for _, v := range e.frame {
		sum += float64(v) * float64(v)
	}
	e.frame = e.frame[:0]
	rms := math.Sqrt(sum / FrameSamples)
	db := 20 * math.Log10(max1(rms))
	isSpeech := rms >= e.cfg.MinLevel && db >= e.floor+e.cfg.Threshold
	if !isSpeech {
		// The floor follows quiet frames quickly down and slowly up, so
		// a caller's pause does not raise it to speech level.
		if db < e.floor {
			e.floor = 0.7*e.floor + 0.3*db
		} else {
			e.floor = 0.98*e.floor + 0.02*db
		}
		e.speechRun = 0
		e.silenceRun += FrameSamples
		return false
	}
	e.speechRun += FrameSamples
	e.silenceRun = 0
	if e.started {
		e.speech += FrameSamples
		return false
	}
	if e.speechRun < samples(e.cfg.Onset) {
		return false
	}
	e.started = true
	e.speech = e.speechRun
	e.startAt = max0(len(e.buf) - e.speechRun - samples(e.cfg.Preroll))
	return true
}

func max1(v float64) float64 { return math.Max(v, 1) }
func max0(v int) int         { return max(v, 0) }

// Started reports whether an utterance has started.
func (e *Endpointer) Started() bool { return e.started }

// Silence is how long since the last speech frame.
func (e *Endpointer) Silence() time.Duration {
	return time.Duration(e.silenceRun) * time.Second / SampleRate
}

// Speech is how much speech the utterance has had.
func (e *Endpointer) Speech() time.Duration {
	return time.Duration(e.speech) * time.Second / SampleRate
}

// Utterance returns a copy of the audio from the onset (less the preroll)
// to now; nil before an onset.
func (e *Endpointer) Utterance() []int16 {
	if !e.started {
		return nil
	}
	return append([]int16(nil), e.buf[e.startAt:]...)
}

// Reset forgets the utterance (the noise floor is kept: same line).
func (e *Endpointer) Reset() {
	e.started, e.speechRun, e.silenceRun, e.speech, e.startAt = false, 0, 0, 0, 0
	e.buf, e.frame = e.buf[:0], e.frame[:0]
}
