package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// platform is vxml.Platform on a call's media session. The interpreter calls
// it from the call's goroutine only.
type platform struct {
	c      *call
	events <-chan media.Event
	voice  string
	// pending holds keys that arrived outside a collection (typed ahead
	// during a prompt without barge-in), in order (spec 6.3.3 typeahead).
	pending []byte
}

// prompts turns the interpreter's prompt items into media prompts. An item
// that cannot be rendered is skipped with a log line (its fallback plays if
// it has one) so the caller hears the rest rather than nothing.
func (p *platform) prompts(ctx context.Context, items []vxml.PromptItem) []*media.Prompt {
	var out []*media.Prompt
	cache := p.c.g.deps.Prompts
	for _, it := range items {
		switch {
		case len(it.Audio) > 0:
			pcm, _, err := media.DecodeWAV(it.Audio, "recording")
			if err != nil {
				p.c.log.Info("recorded audio unplayable", "error", err)
				continue
			}
			out = append(out, media.NewPrompt("recording", pcm))
		case it.AudioURI != "":
			pr, err := cache.Load(ctx, it.AudioURI)
			if err != nil {
				p.c.log.Info("audio unavailable, using fallback", "uri", it.AudioURI, "error", err)
				out = append(out, p.prompts(ctx, it.Fallback)...)
				continue
			}
			out = append(out, pr)
		case strings.TrimSpace(it.Text) != "":
			pr, err := cache.Text(ctx, it.Text, p.voice)
			if err != nil {
				p.c.log.Info("text not spoken", "text", it.Text, "error", err)
				continue
			}
			out = append(out, pr)
		default:
			// A prompt of nothing but SSML breaks is a pause, and a
			// pause must take its time: a hold loop of breaks that
			// played nothing would spin through its rounds at once.
			if d := breaks(it.SSML); d > 0 {
				out = append(out, media.NewPrompt("pause", make([]int16, int(d/time.Millisecond)*8)))
			}
		}
	}
	return out
}

// breakRE finds SSML 1.0 <break> elements and their time or strength.
var breakRE = regexp.MustCompile(`<break\b([^>]*)/?>`)
var breakAttrRE = regexp.MustCompile(`(time|strength)\s*=\s*["']([^"']*)["']`)

// maxBreak bounds one prompt's pause, so a document cannot hold a port in
// silence for ever with a huge break time.
const maxBreak = 60 * time.Second

// breaks is the total pause of the SSML breaks in ssml (SSML 1.0 §3.2.3:
// time as "250ms" or "3s"; strength none..x-strong; a bare break is
// medium).
func breaks(ssml string) time.Duration {
	var total time.Duration
	for _, m := range breakRE.FindAllStringSubmatch(ssml, -1) {
		d := 500 * time.Millisecond // medium
		for _, a := range breakAttrRE.FindAllStringSubmatch(m[1], -1) {
			if a[1] == "time" {
				if v, err := time.ParseDuration(strings.TrimSpace(a[2])); err == nil && v >= 0 {
					d = v
				}
				break
			}
			d = map[string]time.Duration{"none": 0, "x-weak": 100 * time.Millisecond, "weak": 250 * time.Millisecond,
				"medium": 500 * time.Millisecond, "strong": time.Second, "x-strong": 2 * time.Second}[a[2]]
		}
		total += d
	}
	return min(total, maxBreak)
}

func bargein(items []vxml.PromptItem) bool {
	for _, it := range items {
		if it.Bargein {
			return true
		}
	}
	return false
}

// drain moves keys that arrived meanwhile into pending and reports a hangup.
func (p *platform) drain() (hungUp bool) {
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				return true
			}
			switch ev.Kind {
			case media.EventDTMF:
				p.pending = append(p.pending, ev.Digit)
			case media.EventRTPTimeout, media.EventBye:
				return true
			}
		default:
			return false
		}
	}
}

// Play implements vxml.Platform.
func (p *platform) Play(ctx context.Context, items []vxml.PromptItem) error {
	prs := p.prompts(ctx, items)
	if len(prs) == 0 {
		return nil
	}
	if _, err := p.c.sess.Play(ctx, media.PlayOptions{}, prs...); err != nil {
		if ctx.Err() != nil || errors.Is(err, media.ErrClosed) {
			return vxml.ErrHangup
		}
		return fmt.Errorf("gateway: play: %w", err)
	}
	return nil
}

// Collect implements vxml.Platform: prompts (with barge-in), then DTMF
// under the timeouts of spec 6.3.3: timeout to the first key,
// interdigittimeout between keys, termtimeout once a grammar is satisfied.
func (p *platform) Collect(ctx context.Context, items []vxml.PromptItem, req vxml.InputRequest) (vxml.Input, error) {
	if req.Voice && len(req.Grammars) > 0 && p.c.g.speech {
		return p.collectSpeech(ctx, items, req)
	}
	hangup := vxml.Input{Kind: vxml.InputHangup}
	if prs := p.prompts(ctx, items); len(prs) > 0 {
		_, err := p.c.sess.Play(ctx, media.PlayOptions{BargeIn: req.DTMF && bargein(items)}, prs...)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, media.ErrClosed) {
				return hangup, nil
			}
			return vxml.Input{}, fmt.Errorf("gateway: play: %w", err)
		}
	}
	if p.drain() {
		return hangup, nil
	}
	timeout := req.Timeout
	if n := len(items); n > 0 && items[n-1].Timeout > 0 {
		timeout = items[n-1].Timeout
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var keys strings.Builder
	// add takes one key and says whether collection is over.
	add := func(d byte) (done bool) {
		if !req.DTMF {
			return false
		}
		if req.TermChar != "" && string(d) == req.TermChar {
			return true
		}
		keys.WriteByte(d)
		if req.MaxDigits > 0 && keys.Len() >= req.MaxDigits {
			return true
		}
		if req.DTMFState != nil {
			switch req.DTMFState(keys.String()) {
			case vxml.DTMFComplete, vxml.DTMFNoMatch:
				return true
			case vxml.DTMFMatchMore:
				if req.TermChar == "" {
					timeout = req.InterDigitTimeout
				} else {
					timeout = req.TermTimeout
				}
				return timeout <= 0
			}
		}
		timeout = req.InterDigitTimeout
		return false
	}
	result := func() vxml.Input {
		if keys.Len() == 0 && !req.DTMF {
			return vxml.Input{Kind: vxml.InputNoInput}
		}
		return vxml.Input{Kind: vxml.InputDTMF, Value: keys.String(), Confidence: 1}
	}
	for len(p.pending) > 0 {
		d := p.pending[0]
		p.pending = p.pending[1:]
		if add(d) {
			return result(), nil
		}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return hangup, nil
		case ev, ok := <-p.events:
			if !ok {
				return hangup, nil
			}
			switch ev.Kind {
			case media.EventRTPTimeout, media.EventBye:
				return hangup, nil
			case media.EventDTMF:
				if add(ev.Digit) {
					return result(), nil
				}
				timer.Reset(max(timeout, time.Millisecond))
			}
		case <-timer.C:
			if keys.Len() == 0 {
				return vxml.Input{Kind: vxml.InputNoInput}, nil
			}
			return result(), nil
		}
	}
}

// Record implements vxml.Platform.
func (p *platform) Record(ctx context.Context, items []vxml.PromptItem, req vxml.RecordRequest) (vxml.Recording, error) {
	if err := p.Play(ctx, items); err != nil {
		if errors.Is(err, vxml.ErrHangup) {
			return vxml.Recording{Hangup: true}, nil
		}
		return vxml.Recording{}, err
	}
	rec, err := p.c.sess.Record(ctx, media.RecordOptions{MaxTime: req.MaxTime, FinalSilence: req.FinalSilence, DTMFTerm: req.DTMFTerm, Beep: req.Beep})
	if err != nil && ctx.Err() == nil && !errors.Is(err, media.ErrClosed) {
		return vxml.Recording{}, fmt.Errorf("gateway: record: %w", err)
	}
	var buf bytes.Buffer
	if err := media.WriteWAV(&buf, rec.Samples); err != nil {
		return vxml.Recording{}, fmt.Errorf("gateway: record: %w", err)
	}
	out := vxml.Recording{Audio: buf.Bytes(), Type: "audio/x-wav", Duration: rec.Duration, MaxTime: rec.Reason == media.StopMaxTime,
		Hangup: rec.Reason == media.StopClosed || ctx.Err() != nil}
	if rec.Reason == media.StopDTMF && rec.Digit != 0 {
		out.TermChar = string(rec.Digit)
	}
	return out, nil
}

// Transfer implements vxml.Platform by asking the call server.
func (p *platform) Transfer(ctx context.Context, items []vxml.PromptItem, req vxml.TransferRequest) (vxml.TransferResult, error) {
	if err := p.Play(ctx, items); err != nil && errors.Is(err, vxml.ErrHangup) {
		return vxml.TransferResult{Hangup: true}, nil
	}
	if t := p.c.g.deps.Transfer; t != nil {
		return t.Transfer(ctx, p.c.id, req)
	}
	return p.referTransfer(ctx, req) // REFER to the call server (transfer.go)
}

// Disconnect implements vxml.Platform.
func (p *platform) Disconnect(ctx context.Context, reason string) error {
	p.c.hangup("disconnect: " + reason)
	return nil
}

// Log implements vxml.Platform: <log> lines go to the log and, as events, to
// the call's record.
func (p *platform) Log(label, text string) {
	p.c.log.Info("vxml log", "label", label, "text", text)
	p.c.g.events.Emit(event.Event{Time: time.Now(), Kind: KindLog, Call: p.c.id, Reason: text, Peer: label})
}

// step reports a visited input item of the VoiceXML session as an
// ivr.step event of the call (the IVR steps of its journey).
func (c *call) step(st vxml.Step) {
	script := st.Document
	if st.Form != "" {
		script += "#" + st.Form
	}
	c.g.events.Emit(event.Event{Time: time.Now(), Kind: event.IVRStep, Call: c.id, Script: script, Node: st.Item,
		State: st.Element, Target: st.Input, Reason: st.Outcome})
}

// KindLog is the event a VoiceXML <log> produces.
const KindLog event.Kind = "vxml.log"
