package gateway

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/asr"
	"github.com/tandem-cc/tandem/internal/asr/sphinx"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// speechMissing is the one line a gateway without a recogniser logs at
// start, as it does for espeak-ng.
const speechMissing = "pocketsphinx not found: voice grammars fall back to DTMF; install pocketsphinx and pocketsphinx-en-us to recognise speech"

// recognizer returns the speech recogniser: Deps.Recognizer, or the local
// pocketsphinx engine opened on first use (its dictionary takes a moment
// to read, which calls without speech grammars never pay). nil when there
// is none: voice grammars then fall back to DTMF.
func (g *Gateway) recognizer() asr.Recognizer {
	g.asrOnce.Do(func() {
		if g.deps.Recognizer != nil {
			g.asr = g.deps.Recognizer
			return
		}
		e, err := sphinx.New(sphinx.Config{Log: g.log})
		if err != nil {
			if !errors.Is(err, sphinx.ErrUnavailable) {
				g.log.Warn("speech recogniser did not start; voice grammars fall back to DTMF", "error", err)
			}
			return
		}
		g.asr, g.asrEngine = e, e
	})
	return g.asr
}

// speechProps are a collection's recognition properties (spec 6.3.2) with
// the platform's defaults.
type speechProps struct {
	complete, incomplete, maxSpeech time.Duration
	confidence                      float64
	nbest                           int
	threshold                       float64 // endpointer dB above the floor
	bargein                         bool    // speech may barge in
}

func propsOf(req vxml.InputRequest, items []vxml.PromptItem) speechProps {
	p := speechProps{complete: time.Second, incomplete: 2 * time.Second, maxSpeech: 60 * time.Second,
		confidence: 0.5, nbest: 1, threshold: 12}
	dur := func(name string, d *time.Duration) {
		if v, err := time.ParseDuration(strings.TrimSpace(req.Properties[name])); err == nil && v > 0 {
			*d = v
		}
	}
	dur("completetimeout", &p.complete)
	dur("incompletetimeout", &p.incomplete)
	dur("maxspeechtimeout", &p.maxSpeech)
	if v, err := strconv.ParseFloat(req.Properties["confidencelevel"], 64); err == nil && v >= 0 && v <= 1 {
		p.confidence = v
	}
	if v, err := strconv.Atoi(req.Properties["maxnbest"]); err == nil && v > 0 {
		p.nbest = min(v, 10)
	}
	// sensitivity 0..1 (default 0.5): more sensitive, a lower threshold.
	if v, err := strconv.ParseFloat(req.Properties["sensitivity"], 64); err == nil && v >= 0 && v <= 1 {
		p.threshold = 12 + (0.5-v)*12
	}
	p.incomplete = max(p.incomplete, p.complete)
	// bargeintype hotword (only an in-grammar phrase interrupts) is
	// treated as speech: the prompt stops at the first speech.
	p.bargein = bargein(items)
	return p
}

// collectSpeech is Collect when speech grammars are active and a
// recogniser is there: prompts with speech and DTMF barge-in, then
// tandem's endpointer on the caller's audio — timeout until speech starts
// (noinput), completetimeout of silence for an utterance the grammars
// accept, incompletetimeout for one they do not (nomatch) — and the whole
// utterance to the recogniser. A key turns the collection into a DTMF
// one.
func (p *platform) collectSpeech(ctx context.Context, items []vxml.PromptItem, req vxml.InputRequest) (vxml.Input, error) {
	hangup := vxml.Input{Kind: vxml.InputHangup}
	// The first call to need it opens the engine (reading its dictionary
	// takes a moment): meanwhile the caller is already being listened to,
	// so nothing said is lost, and the first utterance waits for it.
	recCh := make(chan asr.Recognizer, 1)
	go func() { recCh <- p.c.g.recognizer() }()
	var rec asr.Recognizer
	sp := propsOf(req, items)
	ep := asr.NewEndpointer(asr.EndpointConfig{Threshold: sp.threshold, MaxUtterance: sp.maxSpeech + sp.incomplete})
	var mu sync.Mutex // guards ep: the receive goroutine writes, this one reads
	notify := make(chan struct{}, 1)
	stop, err := p.c.sess.Listen(func(gap int, pcm []int16) {
		mu.Lock()
		ep.Write(gap, pcm)
		started := ep.Started()
		mu.Unlock()
		if started {
			select {
			case notify <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		p.c.log.Info("caller's audio not available to the recogniser; collecting DTMF", "error", err)
		return p.Collect(ctx, items, dtmfOnly(req))
	}
	defer stop()
	state := func() (started bool, silence, speech time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		return ep.Started(), ep.Silence(), ep.Speech()
	}

	// Prompts, stopped by a key (media's barge-in) or by speech.
	if prs := p.prompts(ctx, items); len(prs) > 0 {
		playCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := p.c.sess.Play(playCtx, media.PlayOptions{BargeIn: req.DTMF && sp.bargein}, prs...)
			done <- err
		}()
		playing := true
		for playing {
			select {
			case err := <-done:
				playing = false
				if err != nil && (ctx.Err() != nil || errors.Is(err, media.ErrClosed)) {
					cancel()
					return hangup, nil
				}
				if err != nil && playCtx.Err() == nil {
					cancel()
					return vxml.Input{}, err
				}
			case <-notify:
				if sp.bargein {
					cancel() // speech barge-in: the prompt stops, the utterance goes on
				}
			}
		}
		cancel()
		if !sp.bargein {
			// Without barge-in the caller is not heard while prompts
			// play (spec 4.1.5): listening starts now.
			mu.Lock()
			ep.Reset()
			mu.Unlock()
		}
	}
	if p.drain() {
		return hangup, nil
	}
	if len(p.pending) > 0 && req.DTMF {
		return p.Collect(ctx, nil, dtmfOnly(req))
	}
	timeout := req.Timeout
	if n := len(items); n > 0 && items[n-1].Timeout > 0 {
		timeout = items[n-1].Timeout
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	noinput := time.NewTimer(timeout)
	defer noinput.Stop()
	// backstop: the utterance's end on the wall clock, for a caller whose
	// audio stops arriving mid-utterance (no silence to measure).
	var backstop <-chan time.Time
	triedAt := time.Duration(-1) // silence at the last decode of this pause
	recognise := func(final bool) (vxml.Input, bool, error) {
		if rec == nil {
			select {
			case rec = <-recCh:
			case <-ctx.Done():
				return hangup, true, nil
			}
			if rec == nil {
				return vxml.Input{}, true, errors.New("gateway: the speech recogniser did not start")
			}
		}
		mu.Lock()
		utt := ep.Utterance()
		mu.Unlock()
		res, err := rec.Recognize(ctx, asr.Request{Audio: utt, Grammars: req.Grammars, MaxNBest: sp.nbest})
		if err != nil {
			if ctx.Err() != nil {
				return hangup, true, nil
			}
			return vxml.Input{}, true, err
		}
		in := vxml.Input{Kind: vxml.InputVoice}
		for _, a := range res.Alternatives {
			if a.Confidence < sp.confidence {
				continue
			}
			if in.Value == "" {
				in.Value, in.Confidence = a.Text, a.Confidence
			} else {
				in.Alternatives = append(in.Alternatives, vxml.Input{Kind: vxml.InputVoice, Value: a.Text, Confidence: a.Confidence})
			}
		}
		p.c.log.Info("speech recognised", "heard", res.Alternatives, "accepted", in.Value, "audio", res.Audio,
			"decode", res.Decode, "final", final)
		return in, final || in.Value != "", nil
	}
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
				// A key wins over speech, even mid-utterance: noise on
				// the line must never make keys go unheard.
				if req.DTMF {
					p.pending = append(p.pending, ev.Digit)
					stop()
					return p.Collect(ctx, nil, dtmfOnly(req))
				}
			}
		case <-noinput.C:
			if started, _, _ := state(); !started {
				return vxml.Input{Kind: vxml.InputNoInput}, nil
			}
		case <-backstop:
			in, _, err := recognise(true)
			return in, err
		case <-notify:
			started, silence, speech := state()
			if !started {
				continue
			}
			if backstop == nil {
				noinput.Stop()
				backstop = time.After(sp.maxSpeech + sp.incomplete + time.Second)
			}
			switch {
			case speech >= sp.maxSpeech || silence >= sp.incomplete:
				in, _, err := recognise(true)
				return in, err
			case silence >= sp.complete && triedAt < 0:
				// A pause as long as completetimeout: done if what was
				// said is in the grammars, else the caller may go on.
				triedAt = silence
				if in, done, err := recognise(false); done || err != nil {
					return in, err
				}
			case silence < sp.complete:
				triedAt = -1 // speaking again: the next pause decodes again
			}
		}
	}
}

// dtmfOnly is req without its speech part.
func dtmfOnly(req vxml.InputRequest) vxml.InputRequest {
	req.Voice, req.Grammars = false, nil
	return req
}
