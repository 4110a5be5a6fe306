// Command asr measures tandem's local recogniser (internal/asr/sphinx) on
// espeak-ng utterances sent through G.711 μ-law at 8 kHz, as a caller's
// phone would send them: sentence accuracy per grammar (yes/no, menu
// words, 4-digit strings), out-of-grammar rejection, the real-time factor
// of each utterance, and how many recognitions can run at once on this
// machine before the real-time factor passes 1.
//
//	go run ./bench/asr [-voices en-us,en-us+f3,...] [-digits 10] [-max 64] [-seconds 10]
//
// Needs espeak-ng, pocketsphinx and pocketsphinx-en-us.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-cc/tandem/internal/asr"
	"github.com/tandem-cc/tandem/internal/asr/asrtest"
	"github.com/tandem-cc/tandem/internal/asr/sphinx"
)

type utterance struct {
	grammar string
	say     string // what espeak-ng says
	want    string // what should be recognised; "" = reject
	voice   string
	pcm     []int16
}

func choice(ws ...string) asr.Grammar {
	var alts []asr.Expr
	for _, w := range ws {
		alts = append(alts, asr.Phrase(w))
	}
	return asr.Grammar{Root: "r", Name: strings.Join(ws, "|"), Rules: map[string]asr.Expr{"r": asr.Alt(alts...)}}
}

func main() {
	voices := flag.String("voices", "en-us,en-us+f3,en-us+m3,en-us+f2,en-us+m7", "espeak-ng voices, comma separated")
	nDigits := flag.Int("digits", 10, "4-digit strings per voice")
	maxConc := flag.Int("max", 64, "largest concurrency tried")
	seconds := flag.Int("seconds", 10, "seconds per concurrency step")
	flag.Parse()
	if err := run(strings.Split(*voices, ","), *nDigits, *maxConc, time.Duration(*seconds)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench/asr:", err)
		os.Exit(1)
	}
}

func run(voices []string, nDigits, maxConc int, step time.Duration) error {
	if err := asrtest.Available(); err != nil {
		return err
	}
	digits, err := asr.Builtin("digits", 4, 4)
	if err != nil {
		return err
	}
	grammars := map[string]asr.Grammar{
		"yes/no":   choice("yes", "no"),
		"menu":     choice("sales", "support", "agent"),
		"4 digits": digits,
	}
	dir, err := os.MkdirTemp("", "bench-asr-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rng := rand.New(rand.NewSource(14))
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	var utts []utterance
	for _, v := range voices {
		for _, w := range []string{"yes", "no"} {
			utts = append(utts, utterance{grammar: "yes/no", say: w, want: w, voice: v})
		}
		for _, w := range []string{"sales", "support", "agent"} {
			utts = append(utts, utterance{grammar: "menu", say: w, want: w, voice: v})
		}
		utts = append(utts, utterance{grammar: "yes/no", say: "banana", voice: v},
			utterance{grammar: "menu", say: "banana", voice: v},
			utterance{grammar: "menu", say: "billing", voice: v})
		for range nDigits {
			var ws []string
			for range 4 {
				ws = append(ws, names[rng.Intn(10)])
			}
			s := strings.Join(ws, " ")
			utts = append(utts, utterance{grammar: "4 digits", say: s, want: s, voice: v})
		}
	}
	for i := range utts {
		pcm, err := asrtest.Render(dir, utts[i].say, utts[i].voice, 300, 300)
		if err != nil {
			return err
		}
		utts[i].pcm = pcm
	}
	e, err := sphinx.New(sphinx.Config{Decoders: maxConc, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx := context.Background()

	fmt.Printf("# tandem bench/asr: pocketsphinx %s, %d CPUs, espeak-ng voices %s, G.711 μ-law 8 kHz upsampled to 16 kHz\n",
		sphinx.DefaultModelDir, runtime.NumCPU(), strings.Join(voices, ","))
	fmt.Printf("%-9s %-8s %-26s %-26s %6s %6s %s\n", "grammar", "voice", "said", "heard", "conf", "rtf", "ok")
	type tally struct{ n, ok, raw, rejN, rejOK int }
	tallies := map[string]*tally{}
	var rtfs []float64
	for _, u := range utts {
		res, err := e.Recognize(ctx, asr.Request{Audio: u.pcm, Grammars: []asr.Grammar{grammars[u.grammar]}})
		if err != nil {
			return err
		}
		heard, conf := "", 0.0
		if len(res.Alternatives) > 0 {
			heard, conf = res.Alternatives[0].Text, res.Alternatives[0].Confidence
		}
		accepted := ""
		if conf >= 0.5 {
			accepted = heard
		}
		ok := accepted == u.want
		t := tallies[u.grammar]
		if t == nil {
			t = &tally{}
			tallies[u.grammar] = t
		}
		if u.want == "" {
			t.rejN++
			if ok {
				t.rejOK++
			}
		} else {
			t.n++
			if ok {
				t.ok++
			}
			if heard == u.want {
				t.raw++ // the best hypothesis, confidence aside
			}
		}
		rtf := res.Decode.Seconds() / res.Audio.Seconds()
		rtfs = append(rtfs, rtf)
		fmt.Printf("%-9s %-8s %-26q %-26q %6.2f %6.3f %v\n", u.grammar, u.voice, u.say, heard, conf, rtf, ok)
	}
	fmt.Println()
	fmt.Printf("%-9s %s\n", "grammar", "sentence accuracy (accepted at confidence >= 0.5) | best hypothesis right | out-of-grammar rejected")
	for _, g := range []string{"yes/no", "menu", "4 digits"} {
		t := tallies[g]
		rej := "-"
		if t.rejN > 0 {
			rej = fmt.Sprintf("%d/%d", t.rejOK, t.rejN)
		}
		fmt.Printf("%-9s %d/%d = %.1f %% | %d/%d | %s\n", g, t.ok, t.n, 100*float64(t.ok)/float64(t.n), t.raw, t.n, rej)
	}
	sort.Float64s(rtfs)
	fmt.Printf("real-time factor per utterance, one at a time: median %.3f, p95 %.3f, max %.3f\n\n",
		rtfs[len(rtfs)/2], rtfs[len(rtfs)*95/100], rtfs[len(rtfs)-1])

	// Concurrency: n callers finishing utterances back to back, each
	// decoding as soon as the last ended (the worst case: real callers
	// pause between utterances). The real-time factor of a recognition is
	// its wall time over its audio's length.
	fmt.Printf("%-5s %-12s %-10s %-10s %s\n", "conc", "utt/s", "rtf mean", "rtf p95", "")
	for n := 1; n <= maxConc; n *= 2 {
		var mu sync.Mutex
		var per []float64
		var done atomic.Int64
		end := time.Now().Add(step)
		var wg sync.WaitGroup
		for w := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; time.Now().Before(end); i++ {
					u := utts[i%len(utts)]
					start := time.Now()
					res, err := e.Recognize(ctx, asr.Request{Audio: u.pcm, Grammars: []asr.Grammar{grammars[u.grammar]}})
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						return
					}
					r := time.Since(start).Seconds() / res.Audio.Seconds()
					mu.Lock()
					per = append(per, r)
					mu.Unlock()
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		sort.Float64s(per)
		mean := 0.0
		for _, r := range per {
			mean += r
		}
		mean /= float64(len(per))
		mark := ""
		if mean > 1 {
			mark = "real-time factor above 1"
		}
		fmt.Printf("%-5d %-12.1f %-10.3f %-10.3f %s\n", n, float64(done.Load())/step.Seconds(), mean, per[len(per)*95/100], mark)
		if mean > 1 {
			break
		}
	}
	return nil
}
