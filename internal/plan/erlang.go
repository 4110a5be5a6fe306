package plan

import "math"

// The queueing formulas planners size contact centres with, for the same
// inputs the simulation runs on, so the two can be read side by side.
//
// Erlang C is M/M/n: Poisson arrivals at rate λ, exponential handle time
// of mean 1/μ, n agents, callers who never hang up. It is computed through
// the Erlang B recursion
//
//	B(0) = 1,  B(k) = a·B(k−1) / (k + a·B(k−1)),  a = λ/μ,
//	C(n, a) = n·B(n) / (n − a·(1 − B(n))),
//
// which stays within floating point for any n (the textbook form with aⁿ/n!
// overflows past a few hundred agents). Then P(W > t) = C·e^(−(nμ−λ)t)
// and the mean wait over all calls is C/(nμ−λ).
//
// Erlang A is M/M/n+M (Palm 1943; Garnett, Mandelbaum & Reiman, "Designing
// a call center with impatient customers", MSOM 4(3), 2002; Mandelbaum &
// Zeltyn, "The Palm/Erlang-A queue, with applications to call centers",
// 2007): the same, with callers who hang up after an exponential patience
// of mean 1/θ if not answered by then. It is computed from its birth-death
// chain: states k = 0, 1, ... calls in the system, birth rate λ, death rate
// min(k,n)μ + (k−n)⁺θ. Below n the chain is Erlang B's, so with
// πₙ the probability of n calls,
//
//	Σ_{k≤n} πₖ = πₙ / B(n),  π_{n+j} = πₙ · Π_{i=1..j} λ/(nμ+iθ),
//
// summed until the terms vanish (they fall geometrically once nμ+iθ > λ).
// A caller arriving to n+j calls (PASTA) has j callers ahead. Each step
// toward an agent takes an agent freeing up or a caller ahead hanging up
// (rate nμ+iθ with i ahead) and races the caller's own patience (θ), so
// it is answered with probability Π_{i=0..j} (nμ+iθ)/(nμ+(i+1)θ) =
// nμ/(nμ+(j+1)θ), and given that, each step lasts an exponential time of
// rate nμ+(i+1)θ. The time-dependent shares (answered within t, abandoned
// within t) come from that small absorbing chain by uniformization (Grassmann
// 1977): only sums of non-negative terms, so no cancellation however many
// callers wait. P(abandon) = θ·E[queue]/λ is checked against the same sums
// in the tests.

// QueueInputs are one queue's figures for one interval.
type QueueInputs struct {
	// Rate is arrivals per second.
	Rate float64
	// AHT is the mean handle time (talk, hold and wrap-up), seconds.
	AHT float64
	// Patience is the callers' mean patience in seconds; 0 or +Inf: they
	// never hang up (Erlang A is then Erlang C).
	Patience float64
	// ServiceLevel is the service-level threshold, ShortCall the
	// short-abandon threshold (seconds), as report.RecordConfig has them.
	ServiceLevel, ShortCall float64
	// Formula is how abandons count in the service level.
	Formula Formula
}

// QueueFigures are what a formula predicts for one interval, as shares of
// the calls offered and per handled call, comparable with the simulated
// (and reported) figures.
type QueueFigures struct {
	Agents int
	// SL is the service level by the inputs' formula.
	SL float64
	// ASA is the mean wait of handled calls, seconds (report's ASA).
	ASA float64
	// Abandoned is the share of calls abandoned (short ones included).
	Abandoned float64
	// Waited is the share of calls that had to wait at all.
	Waited float64
	// Occupancy is the share of the agents' time busy with calls.
	Occupancy float64
	// Stable is false when Erlang C has no steady state (load ≥ agents):
	// the queue grows for ever and the figures are the limits.
	Stable bool
}

// Formula is one of UCCE's three ways of counting abandons in the service
// level (report.Figures computes all three).
type Formula string

// Service-level formulas.
const (
	SLIgnored  Formula = "ignored"  // answered in SL / (SL offered − abandoned in SL)
	SLNegative Formula = "negative" // answered in SL / SL offered
	SLPositive Formula = "positive" // (answered + abandoned in SL) / SL offered
)

// slOf applies f to shares of the calls offered, with report's rules.
func slOf(f Formula, answeredInSL, abandonedInSL, slOffered float64) float64 {
	ratio := func(a, b float64) float64 {
		if b <= 1e-300 {
			return 0
		}
		return a / b
	}
	switch f {
	case SLIgnored:
		return ratio(answeredInSL, slOffered-abandonedInSL)
	case SLPositive:
		return ratio(answeredInSL+abandonedInSL, slOffered)
	}
	return ratio(answeredInSL, slOffered)
}

// ErlangB is the blocking probability of n servers offered a erlangs, by
// the recursion (stable for any n).
func ErlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that a call waits with n agents and a erlangs
// (1 when a ≥ n: no steady state).
func ErlangC(n int, a float64) float64 {
	if n <= 0 || a >= float64(n) {
		return 1
	}
	if a <= 0 {
		return 0
	}
	b := ErlangB(n, a)
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ErlangCFigures is Erlang C for n agents.
func ErlangCFigures(in QueueInputs, n int) QueueFigures {
	f := QueueFigures{Agents: n, Stable: true}
	a := in.Rate * in.AHT
	if in.Rate <= 0 {
		f.SL = 1
		return f
	}
	if n <= 0 || a >= float64(n) {
		f.Stable, f.Waited, f.ASA = false, 1, math.Inf(1)
		f.Occupancy = 1
		return f
	}
	c := ErlangC(n, a)
	rate := (float64(n) - a) / in.AHT // nμ − λ
	f.Waited = c
	// No abandons: the three formulas agree.
	f.SL = 1 - c*math.Exp(-rate*in.ServiceLevel)
	f.ASA = c / rate
	f.Occupancy = a / float64(n)
	return f
}

// ErlangAFigures is Erlang A (M/M/n+M) for n agents; with no patience
// given it is Erlang C.
func ErlangAFigures(in QueueInputs, n int) QueueFigures {
	if in.Patience <= 0 || math.IsInf(in.Patience, 1) {
		return ErlangCFigures(in, n)
	}
	f := QueueFigures{Agents: n, Stable: true}
	if in.Rate <= 0 {
		f.SL = 1
		return f
	}
	if n <= 0 {
		// Nobody answers: every caller hangs up after its patience.
		f.Abandoned, f.Waited = 1, 1
		short := 1 - math.Exp(-in.ShortCall/in.Patience)
		inSL := 1 - math.Exp(-in.ServiceLevel/in.Patience)
		abInSL := math.Max(0, inSL-short)
		f.SL = slOf(in.Formula, 0, abInSL, 1-short)
		return f
	}
	lam, mu, th := in.Rate, 1/in.AHT, 1/in.Patience
	nmu := float64(n) * mu
	pi := erlangAStates(n, lam/mu, lam, nmu, th)
	// pi[j] is the probability of n+j calls in the system; below n the
	// rest, 1 − Σ pi.
	waited, abandoned, waitServed := 0.0, 0.0, 0.0
	steps := 0.0 // Σ_{i≤j} 1/(nμ+(i+1)θ): the mean wait of an answered caller with j ahead
	for j, p := range pi {
		waited += p
		served := nmu / (nmu + float64(j+1)*th)
		abandoned += p * (1 - served)
		steps += 1 / (nmu + float64(j+1)*th)
		waitServed += p * served * steps
	}
	f.Waited, f.Abandoned = waited, abandoned
	handled := 1 - abandoned
	if handled > 0 {
		f.ASA = waitServed / handled
	}
	f.Occupancy = lam * handled / nmu
	ansT, abT := erlangAWithin(pi, nmu, th, in.ServiceLevel)
	_, abS := erlangAWithin(pi, nmu, th, in.ShortCall)
	ansInSL := (1 - waited) + ansT
	short := abS
	abInSL := 0.0
	if in.ServiceLevel >= in.ShortCall {
		abInSL = abT - abS
	}
	slOffered := handled + abandoned - short
	f.SL = slOf(in.Formula, ansInSL, abInSL, slOffered)
	return f
}

// erlangAStates returns π_{n+j}, j = 0, 1, ..., J, of the M/M/n+M chain,
// J where the tail no longer counts. a = λ/μ.
func erlangAStates(n int, a, lam, nmu, th float64) []float64 {
	// Relative to πₙ: q_0 = 1, q_j = q_{j−1}·λ/(nμ+jθ).
	q := []float64{1}
	sum := 1.0
	for j := 1; j < 1<<22; j++ {
		r := lam / (nmu + float64(j)*th)
		next := q[j-1] * r
		if r < 1 && next < 1e-16*sum {
			break
		}
		q = append(q, next)
		sum += next
	}
	b := ErlangB(n, a)
	// Σ_{k<n} πₖ = πₙ(1/B − 1); Σ_{k≥n} = πₙ·sum.
	pn := 1 / (1/b - 1 + sum)
	for j := range q {
		q[j] *= pn
	}
	return q
}

// erlangAWithin returns the shares of all callers that are answered after
// a positive wait of at most t, and that hang up within t, for the waiting
// callers' states pi (pi[j]: j callers ahead on arrival). The tagged
// caller's chain (stage i = callers ahead; answered from stage 0 at rate
// nμ; one stage down at nμ+iθ; hung up at θ from every stage) is
// uniformized at Λ = nμ+(J+1)θ: after m jumps of the embedded chain the
// absorbed masses are weighed by the Poisson(Λt) probability of m jumps.
func erlangAWithin(pi []float64, nmu, th, t float64) (answered, abandoned float64) {
	if t <= 0 || len(pi) == 0 {
		return 0, 0
	}
	J := len(pi) - 1
	lamU := nmu + float64(J+1)*th
	v := append([]float64(nil), pi...)
	next := make([]float64, len(v))
	lt := lamU * t
	// Enough jumps for the Poisson tail past lt to be below 1e-13.
	maxM := int(lt + 12*math.Sqrt(lt) + 40)
	absA, absB := 0.0, 0.0 // absorbed so far: answered, abandoned
	cdf := 0.0
	for m := 0; m <= maxM; m++ {
		w := math.Exp(-lt + float64(m)*math.Log(lt) - lgamma(float64(m)+1))
		if lt == 0 {
			w = 0
			if m == 0 {
				w = 1
			}
		}
		answered += w * absA
		abandoned += w * absB
		cdf += w
		if m > int(lt) && 1-cdf < 1e-14 {
			// The rest of the Poisson mass sees at least what is
			// absorbed now and at most all of it.
			answered += (1 - cdf) * absA
			abandoned += (1 - cdf) * absB
			break
		}
		// One jump of the embedded chain.
		alive := 0.0
		for i, x := range v {
			alive += x
			stay := 1 - (nmu+float64(i+1)*th)/lamU
			next[i] = x * stay
		}
		absB += alive * th / lamU
		absA += v[0] * nmu / lamU
		for i := 0; i < J; i++ {
			next[i] += v[i+1] * (nmu + float64(i+1)*th) / lamU
		}
		v, next = next, v
	}
	return answered, abandoned
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// AgentsFor returns the smallest number of agents whose figures by fig meet
// the service-level target, searching up to limit agents; ok is false when
// none does.
func AgentsFor(in QueueInputs, target float64, fig func(QueueInputs, int) QueueFigures, limit int) (int, bool) {
	if in.Rate <= 0 {
		return 0, true
	}
	meets := func(n int) bool {
		f := fig(in, n)
		return f.Stable && f.SL >= target
	}
	// Service level grows with agents: double to a bound, then bisect.
	lo, hi := 0, 1
	for !meets(hi) {
		lo = hi
		hi *= 2
		if hi > limit {
			if meets(limit) {
				hi = limit
				break
			}
			return limit, false
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if meets(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}
