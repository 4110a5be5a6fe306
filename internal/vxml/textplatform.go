package vxml

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// ScriptedInput is one caller action for the text platform.
type ScriptedInput struct {
	Kind  InputKind // InputDTMF, InputVoice, InputNoInput or InputHangup
	Value string
}

// TextPlatform is a Platform for tests and the CLI: prompts are printed as
// text and the caller is a script of inputs, or an automatic caller following
// the W3C judging rules ("Press '1'." → DTMF 1, "Say 'Chicago'." → utterance).
// Time is virtual: a noinput timeout advances Clock instead of sleeping, so a
// whole conformance suite runs in seconds.
type TextPlatform struct {
	Out    io.Writer       // prompt transcript; nil discards
	Inputs []ScriptedInput // consumed in order by Collect, Record and Transfer
	Auto   bool            // answer from the prompts when Inputs is exhausted
	// Limit ends the call (as a hang-up) once Clock passes it; 0 means none.
	Limit time.Duration
	// AudioExists says whether an audio URI can be played; by default file:
	// URIs must exist and other schemes are assumed reachable.
	AudioExists func(uri string) bool
	// MaxSilences, when positive, makes the caller hang up after that many
	// noinputs in a row once Inputs is exhausted (a CLI run of a document
	// that reprompts forever then ends quickly).
	MaxSilences int
	silences    int
	scripted    bool // the last action came from Inputs
	// TransferStatus is the outcome of bridged transfers (busy, noanswer,
	// far_end_disconnect...); "" means noanswer.
	TransferStatus string

	Played []string      // every prompt text rendered, in order
	Logs   []string      // <log> output
	Clock  time.Duration // virtual time spent waiting for the caller
	// TimedOut is set when the caller hung up because Clock passed Limit.
	TimedOut bool
	heard    strings.Builder
}

// The text platform's far end of a bridged transfer.
const (
	farEndAnswer = time.Second
	farEndTalk   = 10 * time.Second
)

func (t *TextPlatform) out() io.Writer {
	if t.Out == nil {
		return io.Discard
	}
	return t.Out
}

func (t *TextPlatform) audioExists(uri string) bool {
	if t.AudioExists != nil {
		return t.AudioExists(uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	if u.Scheme == "file" {
		_, err := os.Stat(u.Path)
		return err == nil
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

// Play implements Platform.
func (t *TextPlatform) Play(_ context.Context, prompts []PromptItem) error {
	for _, p := range prompts {
		t.play(p)
	}
	return nil
}

func (t *TextPlatform) play(p PromptItem) {
	if p.Audio != nil {
		fmt.Fprintf(t.out(), "audio: (recording, %d bytes)\n", len(p.Audio))
		return
	}
	if p.AudioURI != "" {
		if t.audioExists(p.AudioURI) {
			fmt.Fprintf(t.out(), "audio: %s\n", p.AudioURI)
			return
		}
		for _, f := range p.Fallback {
			t.play(f)
		}
		return
	}
	if p.Text == "" {
		return
	}
	fmt.Fprintf(t.out(), "prompt: %s\n", p.Text)
	t.Played = append(t.Played, p.Text)
	t.heard.WriteString(p.Text + "\n")
}

var (
	pressRe  = regexp.MustCompile(`(?i)press\s+'([0-9*#A-D]+)'`)
	sayRe    = regexp.MustCompile(`(?i)say\s+'([^']+)'|say\s+([A-Za-z][A-Za-z ]*?)\s*\.`)
	silentRe = regexp.MustCompile(`(?i)say nothing|no input expected`)
	junkRe   = regexp.MustCompile(`(?i)say something unrecognizable`)
)

// next returns the caller's next action: scripted, or derived from what was
// heard since the last input.
func (t *TextPlatform) next() ScriptedInput {
	heard := t.heard.String()
	t.heard.Reset()
	t.scripted = len(t.Inputs) > 0
	if t.scripted {
		in := t.Inputs[0]
		t.Inputs = t.Inputs[1:]
		return in
	}
	if !t.Auto {
		return ScriptedInput{Kind: InputNoInput}
	}
	// The last instruction heard decides.
	best, bestPos := ScriptedInput{Kind: InputNoInput}, -1
	for _, m := range pressRe.FindAllStringSubmatchIndex(heard, -1) {
		if m[0] > bestPos {
			best, bestPos = ScriptedInput{Kind: InputDTMF, Value: heard[m[2]:m[3]]}, m[0]
		}
	}
	for _, m := range sayRe.FindAllStringSubmatchIndex(heard, -1) {
		v := ""
		if m[2] >= 0 {
			v = heard[m[2]:m[3]]
		} else {
			v = heard[m[4]:m[5]]
			if w := strings.ToLower(v); strings.HasPrefix(w, "nothing") || strings.HasPrefix(w, "something") {
				continue
			}
		}
		if m[0] > bestPos {
			best, bestPos = ScriptedInput{Kind: InputVoice, Value: v}, m[0]
		}
	}
	for _, m := range junkRe.FindAllStringIndex(heard, -1) {
		if m[0] > bestPos {
			best, bestPos = ScriptedInput{Kind: InputVoice, Value: "xyzzy plugh"}, m[0]
		}
	}
	for _, m := range silentRe.FindAllStringIndex(heard, -1) {
		if m[0] > bestPos {
			best, bestPos = ScriptedInput{Kind: InputNoInput}, m[0]
		}
	}
	return best
}

// wait advances the virtual clock. Past Limit the simulated caller gives up
// and hangs up, which the interpreter handles like any hang-up.
func (t *TextPlatform) wait(d time.Duration) error {
	t.Clock += d
	if t.Limit > 0 && t.Clock > t.Limit {
		t.TimedOut = true
		fmt.Fprintf(t.out(), "caller: (hangs up after %v)\n", t.Clock)
		return ErrHangup
	}
	return nil
}

// Collect implements Platform.
func (t *TextPlatform) Collect(ctx context.Context, prompts []PromptItem, req InputRequest) (Input, error) {
	if t.TimedOut {
		return Input{Kind: InputHangup}, ErrHangup
	}
	if err := t.Play(ctx, prompts); err != nil {
		return Input{}, err
	}
	in := t.next()
	if in.Kind != InputNoInput {
		t.silences = 0
	}
	switch in.Kind {
	case InputHangup:
		fmt.Fprintln(t.out(), "caller: (hangs up)")
		return Input{Kind: InputHangup}, ErrHangup
	case InputNoInput:
		if !t.scripted && t.MaxSilences > 0 {
			t.silences++
			if t.silences > t.MaxSilences {
				fmt.Fprintln(t.out(), "caller: (hangs up)")
				return Input{Kind: InputHangup}, ErrHangup
			}
		}
		fmt.Fprintln(t.out(), "caller: (silence)")
		if err := t.wait(req.Timeout); err != nil {
			return Input{Kind: InputHangup}, err
		}
		return Input{Kind: InputNoInput}, nil
	case InputDTMF:
		keys := in.Value
		if req.TermChar != "" {
			if i := strings.Index(keys, req.TermChar); i >= 0 {
				keys = keys[:i]
			}
		}
		fmt.Fprintf(t.out(), "caller: dtmf %s\n", in.Value)
		if !req.DTMF {
			return Input{Kind: InputNoInput}, t.wait(req.Timeout)
		}
		return Input{Kind: InputDTMF, Value: keys, Confidence: 1}, t.wait(time.Second)
	default:
		fmt.Fprintf(t.out(), "caller: says %q\n", in.Value)
		if !req.Voice {
			return Input{Kind: InputNoInput}, t.wait(req.Timeout)
		}
		return Input{Kind: InputVoice, Value: in.Value, Confidence: 1}, t.wait(time.Second)
	}
}

// Record implements Platform: the caller "speaks" for a virtual second.
func (t *TextPlatform) Record(ctx context.Context, prompts []PromptItem, req RecordRequest) (Recording, error) {
	if t.TimedOut {
		return Recording{Hangup: true}, ErrHangup
	}
	if err := t.Play(ctx, prompts); err != nil {
		return Recording{}, err
	}
	in := t.next()
	switch in.Kind {
	case InputHangup:
		return Recording{Hangup: true}, nil
	case InputNoInput:
		if len(t.Inputs) == 0 && t.Auto {
			break // the automatic caller always says something when recorded
		}
		return Recording{}, t.wait(5 * time.Second)
	}
	if req.Beep {
		fmt.Fprintln(t.out(), "beep")
	}
	fmt.Fprintln(t.out(), "caller: (recorded 1s)")
	term := ""
	if in.Kind == InputDTMF {
		term = in.Value
	}
	// 1 s of 8 kHz mu-law silence stands in for the caller's voice.
	audio := make([]byte, 8000)
	for i := range audio {
		audio[i] = 0xff
	}
	return Recording{Audio: audio, Type: req.Type, Duration: time.Second, TermChar: term}, t.wait(time.Second)
}

// Transfer implements Platform: blind transfers succeed; bridged ones reach a
// simulated far end (or TransferStatus), and caller input during the bridge is
// returned for the interpreter to match against the transfer's grammars.
func (t *TextPlatform) Transfer(ctx context.Context, prompts []PromptItem, req TransferRequest) (TransferResult, error) {
	if t.TimedOut {
		return TransferResult{Hangup: true}, ErrHangup
	}
	if err := t.Play(ctx, prompts); err != nil {
		return TransferResult{}, err
	}
	fmt.Fprintf(t.out(), "transfer: %s to %s\n", req.Type, req.Dest)
	if !req.Bridge {
		return TransferResult{}, nil
	}
	in := t.next()
	switch in.Kind {
	case InputHangup:
		return TransferResult{Hangup: true}, nil
	case InputDTMF, InputVoice:
		i := Input{Kind: in.Kind, Value: in.Value, Confidence: 1}
		return TransferResult{Status: "near_end_disconnect", Duration: time.Second, Input: &i}, t.wait(time.Second)
	}
	if t.TransferStatus != "" {
		return TransferResult{Status: t.TransferStatus, Duration: time.Second}, nil
	}
	// The simulated far end answers after farEndAnswer and hangs up after
	// farEndTalk, so connecttimeout and maxtime behave as on a real call.
	if req.ConnectTimeout > 0 && req.ConnectTimeout < farEndAnswer {
		return TransferResult{Status: "noanswer"}, t.wait(req.ConnectTimeout)
	}
	if req.MaxTime > 0 && req.MaxTime < farEndTalk {
		return TransferResult{Status: "maxtime_disconnect", Duration: req.MaxTime}, t.wait(farEndAnswer + req.MaxTime)
	}
	return TransferResult{Status: "far_end_disconnect", Duration: farEndTalk}, t.wait(farEndAnswer + farEndTalk)
}

// Disconnect implements Platform.
func (t *TextPlatform) Disconnect(context.Context, string) error {
	fmt.Fprintln(t.out(), "disconnect")
	return nil
}

// Log implements Platform.
func (t *TextPlatform) Log(label, text string) {
	if label != "" {
		text = label + ": " + text
	}
	t.Logs = append(t.Logs, text)
	fmt.Fprintf(t.out(), "log: %s\n", text)
}
