package media

import (
	"math"
	"sync"
	"time"
)

// FrameSamples is the number of samples in one 20 ms RTP frame at 8 kHz, and
// FrameDuration its length: the packetisation every G.711 peer accepts.
const (
	FrameSamples  = 160
	FrameDuration = 20 * time.Millisecond
)

// Prompt is audio ready to send: 8 kHz samples and, computed once, their
// µ-law and A-law encodings padded with silence to whole 160-byte frames. A
// Prompt is immutable once built, so one value is shared by every call that
// plays it.
type Prompt struct {
	name string
	pcm  []int16
	ulaw []byte
	alaw []byte
}

// NewPrompt builds a prompt from 8 kHz mono samples (a generated tone, audio
// already in memory). name appears in logs.
func NewPrompt(name string, pcm []int16) *Prompt {
	frames := (len(pcm) + FrameSamples - 1) / FrameSamples
	p := &Prompt{name: name, pcm: pcm, ulaw: make([]byte, frames*FrameSamples), alaw: make([]byte, frames*FrameSamples)}
	EncodeULaw(p.ulaw, pcm)
	EncodeALaw(p.alaw, pcm)
	for i := len(pcm); i < len(p.ulaw); i++ {
		p.ulaw[i], p.alaw[i] = ULawSilence, ALawSilence
	}
	return p
}

// Name returns the prompt's name: its path, URL or text.
func (p *Prompt) Name() string { return p.name }

// Samples returns the prompt's 8 kHz samples; the caller must not modify them.
func (p *Prompt) Samples() []int16 { return p.pcm }

// Frames returns the number of 20 ms frames.
func (p *Prompt) Frames() int { return len(p.ulaw) / FrameSamples }

// Duration returns the prompt's length rounded up to whole frames.
func (p *Prompt) Duration() time.Duration { return time.Duration(p.Frames()) * FrameDuration }

// Frame returns encoded frame i for law l, a slice into the prompt's storage.
func (p *Prompt) Frame(l Law, i int) []byte {
	if l == ALaw {
		return p.alaw[i*FrameSamples : (i+1)*FrameSamples]
	}
	return p.ulaw[i*FrameSamples : (i+1)*FrameSamples]
}

// Tone returns a prompt of the given frequencies summed, each at amp (of
// 32767), for dur: a beep, or a DTMF key played in-band.
func Tone(name string, dur time.Duration, amp float64, freqs ...float64) *Prompt {
	n := int(dur.Seconds() * SampleRate)
	pcm := make([]int16, n)
	for i := range pcm {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/SampleRate)
		}
		pcm[i] = int16(max(-32768, min(32767, v)))
	}
	return NewPrompt(name, pcm)
}

// DTMFPrompt returns keys as in-band DTMF tones (each on for on, then off for
// off), for peers that did not negotiate telephone-event.
func DTMFPrompt(keys string, on, off time.Duration) (*Prompt, error) {
	var pcm []int16
	for i := range len(keys) {
		r, c := dtmfFreqs(keys[i])
		if r == 0 {
			return nil, ErrBadDigit
		}
		pcm = append(pcm, Tone("", on, 7000, r, c).pcm...)
		pcm = append(pcm, make([]int16, int(off.Seconds()*SampleRate))...)
	}
	return NewPrompt("dtmf:"+keys, pcm), nil
}

// beepPrompt is the tone played before a recording: 1 kHz for 200 ms, as
// voicemail systems do. Built once, then read only.
var beepPrompt = sync.OnceValue(func() *Prompt { return Tone("beep", 200*time.Millisecond, 8000, 1000) })
