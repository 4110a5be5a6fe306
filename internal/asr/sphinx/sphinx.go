package sphinx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/tandem-cc/tandem/internal/asr"
)

// ErrUnavailable means pocketsphinx (the library or its US English model)
// is not installed: `apt-get install pocketsphinx pocketsphinx-en-us`.
var ErrUnavailable = errors.New("sphinx: pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)")

// DefaultModelDir is where Debian's pocketsphinx-en-us puts the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Available reports whether the library and the model can be opened,
// without reading the dictionary (for a start-up line), or why not.
func Available(modelDir string) error {
	if modelDir == "" {
		modelDir = DefaultModelDir
	}
	if _, err := load(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(modelDir, "en-us", "mdef")); err != nil {
		return fmt.Errorf("%w: model: %v", ErrUnavailable, err)
	}
	return nil
}

// Config is the engine's configuration; the zero value is Debian's model
// with one decoder per CPU.
type Config struct {
	// ModelDir holds the acoustic model (en-us/) and the pronunciation
	// dictionary (cmudict-en-us.dict).
	ModelDir string
	// Decoders is how many utterances decode at once; more wait their
	// turn. 0 means GOMAXPROCS: decoding is CPU bound.
	Decoders int
	// Dictionary is an extra pronunciation file in CMU format ("word PH
	// ON ES" a line), for words of the grammars cmudict lacks; optional.
	Dictionary string
	// Args are more pocketsphinx arguments ("-beam", "1e-60", ...) after
	// tandem's own, for tuning; optional.
	Args []string
	Log  *slog.Logger
}

// Engine is an asr.Recognizer on pocketsphinx. Each decoder is one
// ps_decoder_t, used by one utterance at a time; decoders are made on
// first use and kept.
type Engine struct {
	cfg  Config
	lib  *lib
	dict *Dictionary
	log  *slog.Logger
	// pool holds the idle decoders; slots counts the decoders that may
	// still be made. Together they bound the decoders to cfg.Decoders.
	pool  chan *decoder
	slots chan struct{}
	// seedDict is the one-word dictionary file decoders start with
	// (ps_init needs one); words are added as grammars need them.
	seedDict string

	mu      sync.Mutex // guards warned
	warned  map[string]bool
	closeMu sync.Mutex // guards closed and the decoders made
	closed  bool
	all     []*decoder
}

// New opens the library and reads the dictionary. It returns an error
// wrapping ErrUnavailable when pocketsphinx or its model is missing.
func New(cfg Config) (*Engine, error) {
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = runtime.GOMAXPROCS(0)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	l, err := load()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(cfg.ModelDir, "en-us", "mdef")); err != nil {
		return nil, fmt.Errorf("%w: model: %v", ErrUnavailable, err)
	}
	d, err := LoadDictionary(filepath.Join(cfg.ModelDir, "cmudict-en-us.dict"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if cfg.Dictionary != "" {
		if err := d.ReadFile(cfg.Dictionary); err != nil {
			return nil, fmt.Errorf("sphinx: dictionary: %w", err)
		}
	}
	seed, err := os.CreateTemp("", "tandem-asr-*.dict")
	if err != nil {
		return nil, fmt.Errorf("sphinx: %w", err)
	}
	_, err = seed.WriteString("yes Y EH S\n")
	if cerr := seed.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sphinx: %w", err)
	}
	e := &Engine{cfg: cfg, lib: l, dict: d, log: cfg.Log, seedDict: seed.Name(),
		pool: make(chan *decoder, cfg.Decoders), slots: make(chan struct{}, cfg.Decoders), warned: map[string]bool{}}
	for range cfg.Decoders {
		e.slots <- struct{}{}
	}
	// Make one decoder now: a model that does not load fails here, at
	// start, rather than on the first caller.
	dec, err := e.newDecoder()
	if err != nil {
		os.Remove(e.seedDict)
		return nil, err
	}
	<-e.slots
	e.pool <- dec
	return e, nil
}

// Close frees the decoders. Recognitions in progress must have returned.
func (e *Engine) Close() error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for _, d := range e.all {
		e.lib.psFree(d.ps)
	}
	e.all = nil
	return os.Remove(e.seedDict)
}

// decoder is one ps_decoder_t and what it has been given: owned by the
// goroutine that took it from the pool.
type decoder struct {
	ps       uintptr
	lmath    uintptr
	words    map[string]bool // words added to its dictionary
	searches []string        // grammars it holds, oldest first
	has      map[string]bool
}

// maxSearches bounds the compiled grammars a decoder keeps: a document
// server generating a new grammar for every call must not grow memory.
const maxSearches = 64

// loopSearch is the name of each decoder's phone loop search.
const loopSearch = "_phone_loop"

// confMid and confSlope place the logistic curve of confidence: the
// per-frame gap between the grammar's path and the phone loop's (in the
// library's scaled log units) at which confidence is one half, and how
// quickly it moves around it. Set on the espeak-ng utterances of the tests
// through G.711: the menu words and yes/no gain 0.27 to 3.8 a frame over
// the loop, "banana" forced into yes|no 0.10; this is a thin margin,
// measured on few utterances (bench/asr).
const (
	confMid   = 0.18
	confSlope = 0.05
)

// phoneList is the model's phone set in a fixed order.
var phoneList = strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH")

func loopWord(phone string) string { return "phone_loop_" + strings.ToLower(phone) }

func (e *Engine) newDecoder() (*decoder, error) {
	cfg, err := e.lib.config(append([]string{
		"-hmm", filepath.Join(e.cfg.ModelDir, "en-us"),
		"-dict", e.seedDict,
		"-logfn", os.DevNull,
		// The utterance comes cut by tandem's endpointer: the engine's
		// own voice detection would only drop short words.
		"-remove_silence", "no",
		"-bestpath", "yes",
	}, e.cfg.Args...))
	if err != nil {
		return nil, err
	}
	ps := e.lib.psInit(cfg)
	e.lib.cmdLnFree(cfg)
	if ps == 0 {
		return nil, fmt.Errorf("sphinx: decoder did not start with the model in %s", e.cfg.ModelDir)
	}
	d := &decoder{ps: ps, lmath: e.lib.psLogmath(ps), words: map[string]bool{"yes": true}, has: map[string]bool{}}
	// The phone loop: any sequence of phones, the yardstick a grammar's
	// path is measured against (see confidence).
	var loop []string
	for _, p := range phoneList {
		w := loopWord(p)
		e.lib.psAddWord(ps, w, p, 0)
		loop = append(loop, w)
	}
	if e.lib.psSetJSGF(ps, loopSearch, "#JSGF V1.0;\ngrammar loop;\npublic <loop> = ("+strings.Join(loop, " | ")+")+;\n") < 0 {
		e.lib.psFree(ps)
		return nil, errors.New("sphinx: the phone loop grammar was refused")
	}
	e.closeMu.Lock()
	e.all = append(e.all, d)
	e.closeMu.Unlock()
	return d, nil
}

// take returns an idle decoder, making one if the bound allows.
func (e *Engine) take(ctx context.Context) (*decoder, error) {
	select {
	case d := <-e.pool:
		return d, nil
	default:
	}
	select {
	case d := <-e.pool:
		return d, nil
	case <-e.slots:
		d, err := e.newDecoder()
		if err != nil {
			e.slots <- struct{}{}
			return nil, err
		}
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Recognize implements asr.Recognizer.
func (e *Engine) Recognize(ctx context.Context, req asr.Request) (asr.Result, error) {
	if len(req.Grammars) == 0 {
		return asr.Result{}, asr.ErrNoGrammar
	}
	jsgf, missing, err := asr.JSGF(req.Grammars, e.dict.Has)
	if err != nil {
		return asr.Result{}, err
	}
	e.warnMissing(missing)
	d, err := e.take(ctx)
	if err != nil {
		return asr.Result{}, fmt.Errorf("sphinx: waiting for a decoder: %w", err)
	}
	defer func() { e.pool <- d }()
	start := time.Now()
	if err := e.prepare(d, jsgf, asr.Vocabulary(req.Grammars)); err != nil {
		return asr.Result{}, err
	}
	res, err := e.decode(d, Upsample(req.Audio), max(req.MaxNBest, 1))
	res.Audio = time.Duration(len(req.Audio)) * time.Second / asr.SampleRate
	res.Decode = time.Since(start)
	return res, err
}

func (e *Engine) warnMissing(words []string) {
	if len(words) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range words {
		if !e.warned[w] && len(e.warned) < 10000 {
			e.warned[w] = true
			e.log.Warn("asr: grammar word has no pronunciation; the phrases with it cannot be recognised (add it to the dictionary file)", "word", w)
		}
	}
}

// prepare gives d the words and the grammar of one request.
func (e *Engine) prepare(d *decoder, jsgf string, vocab []string) error {
	sum := sha256.Sum256([]byte(jsgf))
	name := "g" + hex.EncodeToString(sum[:12])
	if d.has[name] {
		if e.lib.psSetSearch(d.ps, name) < 0 {
			return fmt.Errorf("sphinx: grammar %s could not be selected", name)
		}
		return nil
	}
	for _, w := range vocab {
		if d.words[w] {
			continue
		}
		for i, pron := range e.dict.Prons(w) {
			word := w
			if i > 0 {
				word = fmt.Sprintf("%s(%d)", w, i+1)
			}
			// -1 is an error, and also what an existing word gives:
			// either way the word stays as the dictionary has it.
			e.lib.psAddWord(d.ps, word, pron, 0)
		}
		d.words[w] = true
	}
	if len(d.searches) >= maxSearches {
		old := d.searches[0]
		d.searches = d.searches[1:]
		delete(d.has, old)
		e.lib.psUnset(d.ps, old)
	}
	if e.lib.psSetJSGF(d.ps, name, jsgf) < 0 {
		return fmt.Errorf("sphinx: the engine refused the grammar:\n%s", jsgf)
	}
	d.searches = append(d.searches, name)
	d.has[name] = true
	if e.lib.psSetSearch(d.ps, name) < 0 {
		return fmt.Errorf("sphinx: grammar %s could not be selected", name)
	}
	return nil
}

// decode runs one utterance (16 kHz) through d's current grammar.
func (e *Engine) decode(d *decoder, pcm []int16, nbest int) (asr.Result, error) {
	var res asr.Result
	if len(pcm) == 0 {
		return res, nil
	}
	if e.lib.psStartUtt(d.ps) < 0 {
		return res, errors.New("sphinx: could not start an utterance")
	}
	n := e.lib.psProcess(d.ps, unsafe.Pointer(&pcm[0]), uintptr(len(pcm)), 0, 1)
	runtime.KeepAlive(pcm)
	if e.lib.psEndUtt(d.ps) < 0 || n < 0 {
		return res, errors.New("sphinx: decoding failed")
	}
	var score int32
	hyp := strings.TrimSpace(e.lib.psGetHyp(d.ps, &score))
	if hyp == "" {
		return res, nil
	}
	post := e.lib.logmathExp(d.lmath, e.lib.psGetProb(d.ps))
	frames := e.lib.psNFrames(d.ps)
	type alt struct {
		text  string
		score int32
	}
	alts := []alt{{hyp, score}}
	if nbest > 1 {
		seen := map[string]bool{hyp: true}
		it := e.lib.psNbest(d.ps)
		for it != 0 {
			it = e.lib.psNbestNext(it)
			if it == 0 {
				break // the iterator freed itself at its end
			}
			var s int32
			h := strings.TrimSpace(e.lib.psNbestHyp(it, &s))
			if h == "" || seen[h] {
				continue
			}
			seen[h] = true
			alts = append(alts, alt{h, s})
			if len(alts) == nbest {
				e.lib.psNbestFree(it)
				break
			}
		}
	}
	loop, err := e.loopScore(d, pcm)
	if err != nil {
		return res, err
	}
	for _, a := range alts {
		res.Alternatives = append(res.Alternatives, asr.Alternative{Text: a.text,
			Confidence: confidence(post, a.score, loop, frames)})
	}
	return res, nil
}

// loopScore decodes pcm again with the phone loop and returns its best
// path's score.
func (e *Engine) loopScore(d *decoder, pcm []int16) (int32, error) {
	if e.lib.psSetSearch(d.ps, loopSearch) < 0 || e.lib.psStartUtt(d.ps) < 0 {
		return 0, errors.New("sphinx: the phone loop could not start")
	}
	n := e.lib.psProcess(d.ps, unsafe.Pointer(&pcm[0]), uintptr(len(pcm)), 0, 1)
	runtime.KeepAlive(pcm)
	if e.lib.psEndUtt(d.ps) < 0 || n < 0 {
		return 0, errors.New("sphinx: phone loop decoding failed")
	}
	var score int32
	e.lib.psGetHyp(d.ps, &score)
	return score, nil
}

// Confidence. A grammar-constrained decoder always finds some path
// through the grammar, and its posterior among the grammar's paths is near
// 1 whatever was said ("banana" against yes|no is "yes", sure). What tells
// in-grammar speech from anything else is how far the grammar's best path
// falls below the best unconstrained one (the phone loop) on the same
// audio, per frame: near 0 for words of the grammar, far below for other
// words. That distance, through a logistic curve set on the
// espeak-ng utterances of the tests, is the confidence (times the
// posterior, which separates alternatives within the grammar).
func confidence(post float64, score, loop int32, frames int32) float64 {
	if frames <= 0 {
		return 0
	}
	gap := float64(score-loop) / float64(frames)
	c := 1 / (1 + math.Exp(-(gap-confMid)/confSlope))
	return clamp(post * c)
}

func clamp(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}
