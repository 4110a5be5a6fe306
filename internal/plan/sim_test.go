package plan

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/report"
)

// oneGroup is a router document with one skill group: a call is queued to
// it and waits (the script's end keeps a queued call queued).
const oneGroup = `
dialed_numbers: [{number: "100", call_type: ct}]
call_types: [{name: ct, script: s}]
skill_groups: [{name: g}]
scripts:
  - name: s
    nodes:
      - {id: start, type: start, next: q}
      - {id: q, type: queue, skill_groups: [g], next: e}
      - {id: e, type: end}
`

// steady is a plan of hours one-hour intervals at a constant rate.
func steady(hours, agents int, perHour float64, aht, patience time.Duration) Spec {
	calls := make([]float64, hours)
	for i := range calls {
		calls[i] = perHour
	}
	zero := Duration(0)
	s := Spec{Interval: Duration(time.Hour), ShortCall: &zero,
		Talk:    Dist{Kind: DistExponential, Mean: Duration(aht)},
		Traffic: []Traffic{{DNIS: "100", Calls: calls}},
		Teams:   []Team{{Name: "t", SkillGroups: []string{"g"}, Agents: []int{agents}}}}
	if patience > 0 {
		s.Patience = Dist{Kind: DistExponential, Mean: Duration(patience)}
	}
	return s
}

// batches sums the queue's rows in batches of k intervals after dropping
// the first (the day starts empty: a warm-up) and returns each batch's
// figures with f.
func batches(res *Result, queue string, k int, f func(report.Counters) float64) []float64 {
	var out []float64
	var sum report.Counters
	n := 0
	for _, r := range res.Rows {
		if r.Queue != queue || r.Interval == 0 {
			continue
		}
		addCounters(&sum, &r.Counters)
		n++
		if n == k {
			out = append(out, f(sum))
			sum, n = report.Counters{}, 0
		}
	}
	return out
}

func addCounters(a, b *report.Counters) {
	a.Offered += b.Offered
	a.Handled += b.Handled
	a.Abandoned += b.Abandoned
	a.ShortAbandoned += b.ShortAbandoned
	a.SLOffered += b.SLOffered
	a.AnsweredInSL += b.AnsweredInSL
	a.AbandonedInSL += b.AbandonedInSL
	a.AnswerWaitNS += b.AnswerWaitNS
}

// meanSE is the mean of the batch means and its standard error.
func meanSE(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	v /= float64(len(xs) - 1)
	return m, math.Sqrt(v / float64(len(xs)))
}

// The statistical tolerance of the comparisons with the formulas. The
// simulated figure is the mean of batch means (batches of batchHours
// consecutive one-hour intervals, long beside the queue's relaxation time
// so that batches are nearly independent); its standard error SE comes
// from the batches themselves. A simulation that is right lands within
// zTol·SE of the formula with probability above 99.99 % (4 σ, assuming
// normal batch means); the seed is fixed, so the test gives the same
// answer every run. seMax keeps the check from being vacuous: an SE that
// large would pass anything, so it fails the test instead.
const (
	zTol       = 4.0
	batchHours = 4
)

// hoursFor is how long the tests simulate: 160 hours (a week is the
// plan's limit) gives each load about 40 batches; under the race detector
// (about 10× slower) a quarter of it, with the tolerance widening as the
// SE does.
func hoursFor() int {
	if raceEnabled {
		return 41
	}
	return 161
}

func TestSimMatchesErlangC(t *testing.T) {
	const agents = 10
	aht := 60 * time.Second
	for _, rho := range []float64{0.7, 0.85, 0.95} {
		t.Run(fmt.Sprint(rho), func(t *testing.T) {
			perHour := rho * agents * 3600 / aht.Seconds()
			res, err := Run([]byte(oneGroup), steady(hoursFor(), agents, perHour, aht, 0), Options{Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			in := QueueInputs{Rate: perHour / 3600, AHT: aht.Seconds(), ServiceLevel: 20, Formula: SLNegative}
			want := ErlangCFigures(in, agents)
			sl, slSE := meanSE(batches(res, "g", batchHours, func(c report.Counters) float64 { return c.Figures().SLAbandonsNegative }))
			asa, asaSE := meanSE(batches(res, "g", batchHours, func(c report.Counters) float64 { return c.Figures().ASA }))
			t.Logf("ρ=%.2f: %d calls; SL %.4f ± %.4f (Erlang C %.4f); ASA %.2f ± %.2f s (Erlang C %.2f)",
				rho, len(res.Calls), sl, slSE, want.SL, asa, asaSE, want.ASA)
			seMax := map[bool]float64{false: 0.02, true: 0.04}[raceEnabled]
			if slSE > seMax {
				t.Fatalf("SL standard error %.4f above %.2f: too few calls to judge", slSE, seMax)
			}
			if math.Abs(sl-want.SL) > zTol*slSE {
				t.Errorf("SL %.4f, Erlang C %.4f: off by %.1f SE (tolerance %.0f)", sl, want.SL, math.Abs(sl-want.SL)/slSE, zTol)
			}
			if math.Abs(asa-want.ASA) > zTol*asaSE {
				t.Errorf("ASA %.2f s, Erlang C %.2f s: off by %.1f SE (tolerance %.0f)", asa, want.ASA, math.Abs(asa-want.ASA)/asaSE, zTol)
			}
			// The row's own Erlang columns are the same formula.
			for _, r := range res.Rows {
				if r.Queue == "g" && r.Erlang != nil && math.Abs(r.Erlang.C.SL-want.SL) > 1e-9 {
					t.Fatalf("row %d: Erlang C SL %v, want %v", r.Interval, r.Erlang.C.SL, want.SL)
				}
			}
		})
	}
}

func TestSimMatchesErlangA(t *testing.T) {
	const agents = 10
	aht := 60 * time.Second
	for _, tc := range []struct {
		rho      float64
		patience time.Duration
	}{
		{0.9, 60 * time.Second},
		{1.1, 90 * time.Second}, // overloaded: only abandons keep the queue finite
	} {
		t.Run(fmt.Sprint(tc.rho), func(t *testing.T) {
			perHour := tc.rho * agents * 3600 / aht.Seconds()
			res, err := Run([]byte(oneGroup), steady(hoursFor(), agents, perHour, aht, tc.patience), Options{Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			in := QueueInputs{Rate: perHour / 3600, AHT: aht.Seconds(), Patience: tc.patience.Seconds(), ServiceLevel: 20, Formula: SLNegative}
			want := ErlangAFigures(in, agents)
			sl, slSE := meanSE(batches(res, "g", batchHours, func(c report.Counters) float64 { return c.Figures().SLAbandonsNegative }))
			ab, abSE := meanSE(batches(res, "g", batchHours, func(c report.Counters) float64 {
				return float64(c.Abandoned+c.ShortAbandoned) / float64(c.Offered)
			}))
			asa, asaSE := meanSE(batches(res, "g", batchHours, func(c report.Counters) float64 { return c.Figures().ASA }))
			t.Logf("ρ=%.2f patience %v: %d calls; SL %.4f ± %.4f (Erlang A %.4f); abandoned %.4f ± %.4f (%.4f); ASA %.2f ± %.2f (%.2f)",
				tc.rho, tc.patience, len(res.Calls), sl, slSE, want.SL, ab, abSE, want.Abandoned, asa, asaSE, want.ASA)
			seMax := map[bool]float64{false: 0.02, true: 0.04}[raceEnabled]
			if slSE > seMax || abSE > seMax {
				t.Fatalf("standard errors %.4f, %.4f above %.2f: too few calls to judge", slSE, abSE, seMax)
			}
			for _, c := range []struct {
				name          string
				got, se, want float64
			}{{"SL", sl, slSE, want.SL}, {"abandoned", ab, abSE, want.Abandoned}, {"ASA", asa, asaSE, want.ASA}} {
				if math.Abs(c.got-c.want) > zTol*c.se {
					t.Errorf("%s %.4f, Erlang A %.4f: off by %.1f SE (tolerance %.0f)", c.name, c.got, c.want, math.Abs(c.got-c.want)/c.se, zTol)
				}
			}
		})
	}
}

// TestSeeded: the same seed gives the same day, byte for byte; another
// seed another day.
func TestSeeded(t *testing.T) {
	spec := steady(3, 4, 200, 60*time.Second, 50*time.Second)
	out := func(seed uint64) string {
		res, err := Run([]byte(oneGroup), spec, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := res.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b, c := out(1), out(1), out(2)
	if a != b {
		t.Fatalf("same seed, different output:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatal("different seeds, same output")
	}
}
