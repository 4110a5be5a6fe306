package media

import (
	"context"
	"sync"
	"time"
)

// StopReason says why a recording ended.
type StopReason uint8

// Reasons a recording ends.
const (
	StopMaxTime      StopReason = iota // RecordOptions.MaxTime reached
	StopFinalSilence                   // the caller spoke, then was silent for FinalSilence
	StopDTMF                           // a key was pressed (DTMFTerm)
	StopNoInput                        // nothing but silence for NoInputTimeout
	StopCancelled                      // the context ended
	StopClosed                         // the session closed (hang-up)
)

func (r StopReason) String() string {
	return [...]string{"maxtime", "finalsilence", "dtmf", "noinput", "cancelled", "closed"}[r%6]
}

// RecordOptions are the parameters of a VoiceXML <record>.
type RecordOptions struct {
	// MaxTime is the longest recording; 0 means 60 s.
	MaxTime time.Duration
	// FinalSilence ends the recording after the caller has spoken and then
	// been silent this long; 0 disables it.
	FinalSilence time.Duration
	// NoInputTimeout ends it when the caller has not spoken at all after
	// this long; 0 disables it.
	NoInputTimeout time.Duration
	// DTMFTerm lets any key end the recording (the key is reported in the
	// Recording, not on Events).
	DTMFTerm bool
	// Beep plays a 1 kHz, 200 ms tone before recording.
	Beep bool
	// Path, when set, is where the recording is written as an 8 kHz 16-bit
	// WAV file.
	Path string
	// SilenceLevel is the RMS level (of 32768) under which a 20 ms frame is
	// silence; 0 means 400 (about -38 dBFS, above G.711 idle noise and below
	// soft speech).
	SilenceLevel float64
}

// Recording is what Record captured.
type Recording struct {
	Samples  []int16 // 8 kHz mono
	Path     string  // the WAV file written, if RecordOptions.Path was set
	Duration time.Duration
	Reason   StopReason
	Digit    byte // the key that ended it (StopDTMF)
	Speech   bool // some frame was above the silence level
}

// recorder collects the received audio of one Record. The receive goroutine
// calls add; Record and the DTMF path call stop; mu guards everything below it.
type recorder struct {
	opts RecordOptions
	done chan struct{} // closed by the first stop

	mu        sync.Mutex
	samples   []int16
	stopped   bool
	reason    StopReason
	digit     byte
	speech    bool
	silentRun int // samples of silence since the last speech frame
	max       int // samples at MaxTime
}

func newRecorder(opts RecordOptions) *recorder {
	max := int(opts.MaxTime.Seconds() * SampleRate)
	return &recorder{opts: opts, done: make(chan struct{}), max: max,
		samples: make([]int16, 0, min(max, 60*SampleRate))}
}

// stop ends the recording for reason; it returns false if it had already ended.
func (r *recorder) stop(reason StopReason, digit byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopLocked(reason, digit)
}

func (r *recorder) stopLocked(reason StopReason, digit byte) bool {
	if r.stopped {
		return false
	}
	r.stopped, r.reason, r.digit = true, reason, digit
	close(r.done)
	return true
}

// add appends gap samples of silence then pcm, and applies the silence rules.
func (r *recorder) add(gap int, pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	for range min(gap, r.max-len(r.samples)) {
		r.samples = append(r.samples, 0)
	}
	r.silentRun += gap
	room := r.max - len(r.samples)
	if len(pcm) > room {
		pcm = pcm[:room]
	}
	r.samples = append(r.samples, pcm...)
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	level := r.opts.SilenceLevel
	if level == 0 {
		level = 400
	}
	if len(pcm) > 0 && sum/float64(len(pcm)) > level*level {
		r.speech, r.silentRun = true, 0
	} else {
		r.silentRun += len(pcm)
	}
	switch {
	case len(r.samples) >= r.max:
		r.stopLocked(StopMaxTime, 0)
	case r.speech && r.opts.FinalSilence > 0 && r.silentRun >= int(r.opts.FinalSilence.Seconds()*SampleRate):
		r.stopLocked(StopFinalSilence, 0)
	case !r.speech && r.opts.NoInputTimeout > 0 && len(r.samples) >= int(r.opts.NoInputTimeout.Seconds()*SampleRate):
		r.stopLocked(StopNoInput, 0)
	}
}

// Record records the caller's audio until one of opts' conditions, ctx's end
// or the session's close. The recording so far is returned in every case;
// the error is ctx's or ErrClosed when those ended it, or a file error.
func (s *Session) Record(ctx context.Context, opts RecordOptions) (Recording, error) {
	if !s.started.Load() {
		return Recording{}, ErrNotStarted
	}
	if opts.MaxTime <= 0 {
		opts.MaxTime = 60 * time.Second
	}
	if opts.Beep {
		if _, err := s.Play(ctx, PlayOptions{}, beepPrompt()); err != nil {
			return Recording{}, err
		}
	}
	if s.play.Load() != nil {
		return Recording{}, ErrBusy
	}
	r := newRecorder(opts)
	if !s.rec.CompareAndSwap(nil, r) {
		return Recording{}, ErrBusy
	}
	defer s.rec.CompareAndSwap(r, nil)
	// MaxTime also runs on the wall clock, for when no packets arrive.
	timer := time.NewTimer(opts.MaxTime + 100*time.Millisecond)
	defer timer.Stop()
	var err error
	select {
	case <-r.done:
	case <-timer.C:
		r.stop(StopMaxTime, 0)
	case <-ctx.Done():
		if r.stop(StopCancelled, 0) {
			err = ctx.Err()
		}
	case <-s.quit:
		if r.stop(StopClosed, 0) {
			err = ErrClosed
		}
	}
	r.mu.Lock()
	rec := Recording{Samples: r.samples, Reason: r.reason, Digit: r.digit, Speech: r.speech,
		Duration: time.Duration(len(r.samples)) * time.Second / SampleRate}
	r.mu.Unlock()
	if opts.Path != "" {
		if werr := WriteWAVFile(opts.Path, rec.Samples); werr != nil {
			return rec, werr
		}
		rec.Path = opts.Path
	}
	return rec, err
}
