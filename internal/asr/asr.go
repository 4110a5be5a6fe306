package asr

import (
	"context"
	"errors"
	"time"
)

// SampleRate is the rate of the audio a Recognizer takes: telephone audio,
// G.711 decoded to 16-bit linear PCM.
const SampleRate = 8000

// ErrNoGrammar is returned for a request without any grammar.
var ErrNoGrammar = errors.New("asr: no grammar to recognise against")

// Recognizer decodes whole utterances. Implementations are safe for
// concurrent use; each Recognize is one utterance.
type Recognizer interface {
	// Recognize decodes req.Audio against req.Grammars. A result with no
	// alternatives means nothing in the grammars was heard (nomatch). The
	// error is for a request or engine failure, not for a nomatch.
	Recognize(ctx context.Context, req Request) (Result, error)
}

// Request is one utterance to decode.
type Request struct {
	// Audio is the utterance, 8 kHz mono linear PCM, as the endpointer
	// cut it (a little silence before and after the speech).
	Audio []int16
	// Grammars are the active speech grammars, in the document's priority
	// order; the recogniser accepts what any of them accepts.
	Grammars []Grammar
	// MaxNBest is how many alternatives to return at most (VoiceXML's
	// maxnbest property); 0 means 1.
	MaxNBest int
}

// Result is what an utterance was heard as.
type Result struct {
	// Alternatives are best first, at most MaxNBest, without duplicates.
	Alternatives []Alternative
	// Audio is the length of the utterance decoded; Decode the time the
	// engine took (Decode/Audio is the real-time factor).
	Audio, Decode time.Duration
}

// Alternative is one hypothesis: the words, lower case, separated by one
// space, and the engine's confidence in them (0..1).
type Alternative struct {
	Text       string
	Confidence float64
}
