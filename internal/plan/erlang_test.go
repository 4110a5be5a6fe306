package plan

import (
	"math"
	"testing"
)

func TestErlangC(t *testing.T) {
	// Values from the textbook formula aⁿ/n!·n/(n−a) / (Σ_{k<n} aᵏ/k! + ...),
	// computed apart (exact rationals for the small ones).
	for _, tc := range []struct {
		n    int
		a    float64
		want float64
	}{
		{1, 0.5, 0.5},
		{2, 1, 1.0 / 3},
		{11, 10, 0.6821182046893324},
		{12, 10, 0.44938822429827086},
		{20, 15, 0.16042938741692364},
		{10, 10, 1}, // no steady state
		{5, 0, 0},
	} {
		if got := ErlangC(tc.n, tc.a); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ErlangC(%d, %v) = %.15f, want %.15f", tc.n, tc.a, got, tc.want)
		}
	}
	// Large systems stay finite where aⁿ/n! would overflow.
	c := ErlangC(5000, 4900)
	if math.IsNaN(c) || c <= 0 || c >= 1 {
		t.Fatalf("ErlangC(5000, 4900) = %v", c)
	}
}

func TestErlangCFigures(t *testing.T) {
	// 10 erlangs on 11 agents, AHT 180 s, 20 s threshold.
	in := QueueInputs{Rate: 10.0 / 180, AHT: 180, ServiceLevel: 20, Formula: SLNegative}
	f := ErlangCFigures(in, 11)
	c := 0.6821182046893324
	if want := 1 - c*math.Exp(-(11-10)*20.0/180); math.Abs(f.SL-want) > 1e-12 {
		t.Errorf("SL %v, want %v", f.SL, want)
	}
	if want := c * 180 / (11 - 10); math.Abs(f.ASA-want) > 1e-9 {
		t.Errorf("ASA %v, want %v", f.ASA, want)
	}
	if f := ErlangCFigures(in, 10); f.Stable || f.SL != 0 {
		t.Errorf("10 agents for 10 erlangs: %+v, want unstable", f)
	}
	n, ok := AgentsFor(in, 0.8, ErlangCFigures, 1000)
	if !ok || ErlangCFigures(in, n).SL < 0.8 || ErlangCFigures(in, n-1).SL >= 0.8 {
		t.Errorf("AgentsFor = %d, %v: not the smallest meeting 80/20", n, ok)
	}
	if n, _ := AgentsFor(QueueInputs{AHT: 180}, 0.8, ErlangCFigures, 1000); n != 0 {
		t.Errorf("no calls need %d agents", n)
	}
}

// TestErlangALimits checks Erlang A against what must hold: with patience
// going to infinity it is Erlang C; the abandon share equals θ·E[queue]/λ
// (PASTA and Little: a caller waiting abandons at rate θ); answered within
// a long time is everyone answered.
func TestErlangALimits(t *testing.T) {
	base := QueueInputs{Rate: 9.5 / 60, AHT: 60, ServiceLevel: 20, Formula: SLNegative}
	c := ErlangCFigures(base, 10)
	long := base
	long.Patience = 1e7
	a := ErlangAFigures(long, 10)
	if math.Abs(a.SL-c.SL) > 1e-3 || math.Abs(a.ASA-c.ASA)/c.ASA > 1e-2 {
		t.Errorf("very patient Erlang A %+v, Erlang C %+v", a, c)
	}
	for _, tc := range []struct {
		n          int
		rate, pat  float64
		aht, sl, s float64
	}{
		{10, 10.0 / 60, 60, 60, 20, 0},
		{10, 14.0 / 60, 30, 60, 20, 5}, // overloaded: Erlang A stays stable
		{50, 55.0 / 180, 120, 180, 30, 5},
		{3, 0.05, 45, 60, 15, 0},
	} {
		in := QueueInputs{Rate: tc.rate, AHT: tc.aht, Patience: tc.pat, ServiceLevel: tc.sl, ShortCall: tc.s, Formula: SLNegative}
		f := ErlangAFigures(in, tc.n)
		pi := erlangAStates(tc.n, tc.rate*tc.aht, tc.rate, float64(tc.n)/tc.aht, 1/tc.pat)
		eq := 0.0
		for j, p := range pi {
			eq += float64(j) * p
		}
		if want := eq / tc.pat / tc.rate; math.Abs(f.Abandoned-want) > 1e-9 {
			t.Errorf("%+v: P(abandon) %v, θE[Q]/λ %v", tc, f.Abandoned, want)
		}
		ans, ab := erlangAWithin(pi, float64(tc.n)/tc.aht, 1/tc.pat, 1e5)
		if math.Abs(ans-(f.Waited-f.Abandoned)) > 1e-9 || math.Abs(ab-f.Abandoned) > 1e-9 {
			t.Errorf("%+v: within a long time answered %v abandoned %v; want %v %v", tc, ans, ab, f.Waited-f.Abandoned, f.Abandoned)
		}
		if !f.Stable || f.SL <= 0 || f.SL >= 1 {
			t.Errorf("%+v: %+v", tc, f)
		}
	}
}

// TestErlangAWithinRK4 checks the uniformized shares against a plain
// Runge-Kutta integration of the tagged caller's chain: two ways of
// solving the same equations, which agree only if both are right.
func TestErlangAWithinRK4(t *testing.T) {
	n, lam, aht, pat, T := 3, 0.05, 60.0, 45.0, 25.0
	nmu, th := float64(n)/aht, 1/pat
	pi := erlangAStates(n, lam*aht, lam, nmu, th)
	gotA, gotB := erlangAWithin(pi, nmu, th, T)
	// du_i/dt = −(nμ+(i+1)θ)u_i + (nμ+(i+1)θ)u_{i+1}; answered' = nμ u_0;
	// abandoned' = θ Σ u_i.
	J := len(pi)
	deriv := func(u []float64) ([]float64, float64, float64) {
		d := make([]float64, J)
		sum := 0.0
		for i := range u {
			d[i] = -(nmu + float64(i+1)*th) * u[i]
			if i+1 < J {
				d[i] += (nmu + float64(i+1)*th) * u[i+1]
			}
			sum += u[i]
		}
		return d, nmu * u[0], th * sum
	}
	u := append([]float64(nil), pi...)
	var A, B float64
	h := 0.001
	for s := 0; s < int(T/h+0.5); s++ {
		axpy := func(k []float64, f float64) []float64 {
			out := make([]float64, J)
			for i := range u {
				out[i] = u[i] + f*k[i]
			}
			return out
		}
		k1, a1, b1 := deriv(u)
		k2, a2, b2 := deriv(axpy(k1, h/2))
		k3, a3, b3 := deriv(axpy(k2, h/2))
		k4, a4, b4 := deriv(axpy(k3, h))
		for i := range u {
			u[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
		A += h / 6 * (a1 + 2*a2 + 2*a3 + a4)
		B += h / 6 * (b1 + 2*b2 + 2*b3 + b4)
	}
	if math.Abs(gotA-A) > 1e-9 || math.Abs(gotB-B) > 1e-9 {
		t.Errorf("uniformization answered %.12f abandoned %.12f; Runge-Kutta %.12f %.12f", gotA, gotB, A, B)
	}
}

func TestErlangAFormulas(t *testing.T) {
	in := QueueInputs{Rate: 12.0 / 60, AHT: 60, Patience: 40, ServiceLevel: 20, ShortCall: 5}
	var sl [3]float64
	for i, f := range []Formula{SLIgnored, SLNegative, SLPositive} {
		in.Formula = f
		sl[i] = ErlangAFigures(in, 11).SL
	}
	// Abandons count for nothing, against, or for: ignored and positive
	// above negative.
	if !(sl[1] < sl[0] && sl[1] < sl[2]) {
		t.Errorf("ignored %v negative %v positive %v", sl[0], sl[1], sl[2])
	}
	// Nobody staffed: every caller abandons; negative SL is 0.
	in.Formula = SLNegative
	if f := ErlangAFigures(in, 0); f.Abandoned != 1 || f.SL != 0 {
		t.Errorf("no agents: %+v", f)
	}
}
