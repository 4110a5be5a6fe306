package plan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Dist is a distribution of durations (handle time, patience) as a plan
// gives it.
type Dist struct {
	// Kind is exponential, lognormal, fixed or none (patience only:
	// callers never hang up).
	Kind string `yaml:"dist"`
	// Mean is the distribution's mean.
	Mean Duration `yaml:"mean"`
	// CV is the lognormal's coefficient of variation (standard deviation
	// over mean); handle times measured in contact centres sit near 1.
	CV float64 `yaml:"cv"`
}

// Distribution kinds.
const (
	DistExponential = "exponential"
	DistLognormal   = "lognormal"
	DistFixed       = "fixed"
	DistNone        = "none"
)

// defaultCV is a lognormal's CV when none is given: Brown et al.
// ("Statistical analysis of a telephone call center", JASA 2005) found
// service times lognormal with a standard deviation close to the mean.
const defaultCV = 1.0

// validate checks d; path names it in errors.
func (d Dist) validate(path string, noneOK bool) []error {
	var errs []error
	switch d.Kind {
	case DistExponential, DistLognormal, DistFixed:
		if d.Mean <= 0 {
			errs = append(errs, fmt.Errorf("%s.mean: must be positive", path))
		}
	case DistNone:
		if !noneOK {
			errs = append(errs, fmt.Errorf("%s.dist: none is for patience only", path))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.dist: unknown distribution %q (want exponential, lognormal, fixed%s)", path, d.Kind,
			map[bool]string{true: " or none", false: ""}[noneOK]))
	}
	if d.CV < 0 || (d.CV != 0 && d.Kind != DistLognormal) {
		errs = append(errs, fmt.Errorf("%s.cv: a positive number, for lognormal only", path))
	}
	return errs
}

// never is a patience that does not end.
const never = time.Duration(math.MaxInt64)

// sample draws one duration with mean scaled to mean (0: d's own).
func (d Dist) sample(rng *rand.Rand, mean time.Duration) time.Duration {
	if mean <= 0 {
		mean = d.Mean.D()
	}
	m := float64(mean)
	var v float64
	switch d.Kind {
	case DistNone:
		return never
	case DistFixed:
		return mean
	case DistLognormal:
		cv := d.CV
		if cv == 0 {
			cv = defaultCV
		}
		s2 := math.Log1p(cv * cv)
		v = math.Exp(math.Log(m) - s2/2 + math.Sqrt(s2)*rng.NormFloat64())
	default:
		v = m * rng.ExpFloat64()
	}
	if v >= float64(never) {
		return never
	}
	return time.Duration(v)
}

// meanSeconds is the distribution's mean in seconds (+Inf for none).
func (d Dist) meanSeconds(mean time.Duration) float64 {
	if d.Kind == DistNone {
		return math.Inf(1)
	}
	if mean <= 0 {
		mean = d.Mean.D()
	}
	return mean.Seconds()
}
