package vxml

import (
	"context"
	"time"

	"github.com/tandem-cc/tandem/internal/asr"
)

// PromptItem is one piece of a prompt queue: text to speak or audio to play.
// The interpreter resolves expressions, counts and conditions; the platform only
// renders what it is given, in order.
type PromptItem struct {
	Text string // text for TTS (or the whole prompt in text mode)
	// SSML is the same text as an SSML 1.0 <speak> document when the prompt
	// used SSML markup (break, emphasis, prosody, say-as...), else "".
	SSML     string
	AudioURI string       // absolute URI of an audio file, if this item is audio
	Audio    []byte       // recorded audio to play back (<audio expr> of a <record> variable)
	Fallback []PromptItem // played instead when AudioURI cannot be fetched (spec 4.1.3)
	Bargein  bool         // whether caller input may interrupt this item
	// BargeinType is "speech" or "hotword" (spec 4.1.5.1).
	BargeinType string
	// Timeout is the prompt's timeout attribute: the noinput timeout that applies
	// when this is the last prompt before collection (spec 4.1.7).
	Timeout time.Duration
	Mark    string // name of a <mark> reached just before this item (2.1)
}

// InputKind says what a collection returned.
type InputKind int

// The outcomes of a collection.
const (
	InputNoInput InputKind = iota // timeout without input
	InputDTMF                     // Value holds the keys, without the termchar
	InputVoice                    // Value holds the recognised utterance text
	InputHangup                   // the caller hung up
)

func (k InputKind) String() string {
	switch k {
	case InputDTMF:
		return "dtmf"
	case InputVoice:
		return "voice"
	case InputHangup:
		return "hangup"
	}
	return "noinput"
}

// InputRequest describes one collection: which modes are active and the timing
// properties in effect (spec 6.3.2, 6.3.3).
type InputRequest struct {
	DTMF, Voice       bool
	Timeout           time.Duration
	InterDigitTimeout time.Duration
	TermTimeout       time.Duration
	TermChar          string // "" when termchar is disabled
	// MaxDigits is the longest DTMF string an active grammar can accept, 0 if
	// unbounded; a media platform stops collecting once it is reached.
	MaxDigits int
	// DTMFState reports, for the keys collected so far, whether the active
	// grammars are satisfied and whether more keys could still match; a media
	// platform ends DTMF collection at DTMFComplete (or at DTMFMatchMore once
	// termtimeout passes) and treats DTMFNoMatch as a nomatch. Nil in requests
	// built by hand.
	DTMFState func(keys string) DTMFState
	// Properties holds the other input properties in effect
	// (confidencelevel, sensitivity, completetimeout, bargeintype, ...).
	Properties map[string]string
	// Phrases are the utterances active speech grammars accept (as text), a
	// hint for a recogniser or an automatic caller. May be empty.
	Phrases []string
	// Grammars are the active speech grammars in priority order, as a
	// recogniser takes them (empty when none has a spoken form).
	Grammars []asr.Grammar
}

// Input is the result of a collection.
type Input struct {
	Kind       InputKind
	Value      string
	Confidence float64 // 0..1; 1 for DTMF
	// Alternatives are a recogniser's further hypotheses, best first
	// (maxnbest): Kind, Value and Confidence set.
	Alternatives []Input
	Mark         string // last <mark> played before input, if any
	MarkTime     time.Duration
}

// RecordRequest describes a <record> (spec 2.3.6).
type RecordRequest struct {
	Beep         bool
	MaxTime      time.Duration
	FinalSilence time.Duration
	DTMFTerm     bool
	Type         string // MIME type of the recording
}

// Recording is what the platform captured.
type Recording struct {
	Audio    []byte
	Type     string
	Duration time.Duration
	TermChar string // DTMF key that ended the recording, if any
	MaxTime  bool   // true when recording stopped at maxtime
	Hangup   bool
}

// TransferRequest describes a <transfer> (spec 2.3.7). The interpreter does not
// place calls itself: a gateway platform asks the call server, which owns the
// legs, and reports the outcome.
type TransferRequest struct {
	Dest           string
	Bridge         bool   // true for bridge, false for blind
	Type           string // "blind", "bridge" or "consultation" (2.1)
	ConnectTimeout time.Duration
	MaxTime        time.Duration
	AAI            string
	// TransferAudio is the audio the caller hears while the far end is
	// being connected (transferaudio, resolved against the document);
	// ignored for blind transfers (spec 2.3.7.1).
	TransferAudio string
}

// TransferResult is the outcome of a transfer (spec table 46).
type TransferResult struct {
	// Status is one of busy, noanswer, network_busy, near_end_disconnect,
	// far_end_disconnect, network_disconnect, maxtime_disconnect, unknown, or
	// "" for a blind transfer that went through.
	Status   string
	Duration time.Duration
	Hangup   bool // caller hung up during the transfer
	// Input is caller input heard during a bridged transfer; when it matches
	// the transfer's grammars the interpreter ends the transfer with
	// near_end_disconnect (spec 2.3.7.2.2).
	Input *Input
}

// Platform is everything the interpreter needs from the media side of a
// VoiceXML gateway. One Platform value serves one call; methods are called only
// from the session's goroutine, so implementations need no locking for the
// interpreter's sake. ctx ends when the session is cancelled (call torn down,
// gateway stopping).
type Platform interface {
	// Play renders prompts with no input collection (before exit, transfer,
	// disconnect, or when the queue is flushed by a fetch).
	Play(ctx context.Context, prompts []PromptItem) error
	// Collect plays prompts then waits for input per req. A bargein-enabled
	// prompt stops playing at the first input.
	Collect(ctx context.Context, prompts []PromptItem, req InputRequest) (Input, error)
	// Record plays prompts then records the caller.
	Record(ctx context.Context, prompts []PromptItem, req RecordRequest) (Recording, error)
	// Transfer asks for the call to be transferred (blind, bridge or consultation).
	Transfer(ctx context.Context, prompts []PromptItem, req TransferRequest) (TransferResult, error)
	// Disconnect ends the caller's leg.
	Disconnect(ctx context.Context, reason string) error
	// Log receives <log> output (label may be empty).
	Log(label, text string)
}
