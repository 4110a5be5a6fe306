package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/report"
)

// Duration is a YAML duration ("30s", "5m" or a bare number of seconds).
type Duration = config.Duration

// Spec is a what-if plan: the day's traffic, what callers do, and who is
// logged in when. The router configuration is not in it: a plan runs the
// router document live calls are routed by.
type Spec struct {
	// Start is the start of the first interval (RFC 3339); its date is
	// what time-of-day and day-of-week nodes of the scripts see.
	Start time.Time `yaml:"start"`
	// Interval is the length of a planning interval (15m by default).
	Interval Duration `yaml:"interval"`
	// ServiceLevel and ShortCall are the report thresholds (20s and 5s,
	// report's defaults); SLTarget the share of calls to answer within
	// ServiceLevel (0.8); SLFormula how abandons count (negative).
	ServiceLevel *Duration `yaml:"service_level"`
	ShortCall    *Duration `yaml:"short_call"`
	SLTarget     float64   `yaml:"sl_target"`
	SLFormula    Formula   `yaml:"sl_formula"`
	// Ring is how long an offered call rings before the agent answers.
	Ring Duration `yaml:"ring"`
	// Drain is how long after the last interval calls still in progress
	// are followed before the plan stops (2h).
	Drain Duration `yaml:"drain"`
	// Talk and Patience are the defaults of every traffic entry.
	Talk     Dist `yaml:"talk"`
	Patience Dist `yaml:"patience"`
	// Traffic is the calls per interval per dialed number.
	Traffic []Traffic `yaml:"traffic"`
	// IVR says how long each VRU script (micro-app) a script runs takes and
	// what callers answer to it.
	IVR []IVRScript `yaml:"ivr"`
	// Teams are the simulated agents; none: the router document's agents,
	// logged in and ready all day.
	Teams []Team `yaml:"teams"`
}

// Traffic is one dialed number's calls.
type Traffic struct {
	DNIS string `yaml:"dnis"`
	// Calls is the expected number of calls in each interval; the day is
	// as many intervals as the longest list. Arrivals within an interval
	// are Poisson.
	Calls []float64 `yaml:"calls"`
	// TalkMeans, when given, is the mean talk time per interval (the
	// shape is Talk's); an interval past its end or 0 takes Talk's mean.
	TalkMeans []Duration `yaml:"talk_means"`
	// Talk and Patience, when given, replace the plan's for these calls.
	Talk     *Dist `yaml:"talk"`
	Patience *Dist `yaml:"patience"`
}

// IVRScript is what callers do at one VRU script.
type IVRScript struct {
	// VRUScript is the run-script string as the router document has it
	// ("M,-,12", "QT,music,9").
	VRUScript string `yaml:"vru_script"`
	// Duration is how long one run takes before its result (a menu's
	// prompt and the key; a queue-treatment round).
	Duration Duration `yaml:"duration"`
	// Keys are the shares of what callers enter (result.caller_input):
	// "1": 0.6, "2": 0.4. "" is nothing entered; "error" takes the
	// node's error exit (a menu's retries used up). Shares are weights:
	// they need not add to 1. None: every caller enters nothing.
	Keys map[string]float64 `yaml:"keys"`
}

// KeyError is the key choice that makes a VRU script fail.
const KeyError = "error"

// Team is a group of interchangeable agents.
type Team struct {
	Name        string         `yaml:"name"`
	SkillGroups []string       `yaml:"skill_groups"`
	Attributes  map[string]any `yaml:"attributes"`
	// Agents is how many are logged in (and ready) in each interval; one
	// value holds all day, and the last value holds past the list.
	Agents []int `yaml:"agents"`
}

// Plan defaults, with why.
const (
	// DefaultInterval is the planning interval: workforce management
	// forecasts and schedules in quarter hours.
	DefaultInterval = 15 * time.Minute
	// DefaultSLTarget is the classic 80/20.
	DefaultSLTarget = 0.8
	// DefaultDrain bounds how long calls of the last interval are
	// followed: longer than any sane queue.
	DefaultDrain = 2 * time.Hour
	// defaultIVR is the duration of a VRU script the plan says nothing
	// about: a short prompt.
	defaultIVR = 5 * time.Second
	// defaultQT is the duration of a queue-treatment round (QT): an
	// announcement and a stretch of music.
	defaultQT = 30 * time.Second
)

// ParseSpec reads a plan from YAML; unknown keys are errors.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Spec{}, fmt.Errorf("plan: %w", err)
	}
	return s, nil
}

// withDefaults fills the named defaults.
func (s Spec) withDefaults() Spec {
	if s.Interval == 0 {
		s.Interval = Duration(DefaultInterval)
	}
	if s.ServiceLevel == nil {
		d := Duration(report.DefaultServiceLevel)
		s.ServiceLevel = &d
	}
	if s.ShortCall == nil {
		d := Duration(report.DefaultShortCall)
		s.ShortCall = &d
	}
	if s.SLTarget == 0 {
		s.SLTarget = DefaultSLTarget
	}
	if s.SLFormula == "" {
		// Negative: abandons count as calls not answered in time. It is
		// what Erlang A's "answered within T" means, and it never makes
		// a plan look better than callers find it.
		s.SLFormula = SLNegative
	}
	if s.Drain == 0 {
		s.Drain = Duration(DefaultDrain)
	}
	if s.Talk.Kind == "" {
		s.Talk.Kind = DistExponential
	}
	if s.Patience.Kind == "" {
		s.Patience.Kind = DistNone
	}
	return s
}

// Validate returns every problem of s, each with its path.
func (s Spec) Validate() error {
	s = s.withDefaults()
	var errs []error
	add := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("plan.%s: %s", path, fmt.Sprintf(format, a...)))
	}
	if s.Interval < Duration(time.Minute) || time.Duration(24*time.Hour)%s.Interval.D() != 0 {
		add("interval", "%v: want a divisor of a day of at least a minute (15m, 30m, 1h)", s.Interval.D())
	}
	if *s.ServiceLevel < 0 || *s.ShortCall < 0 {
		add("service_level", "thresholds must not be negative")
	}
	if s.SLTarget <= 0 || s.SLTarget >= 1 {
		add("sl_target", "%v: want a share between 0 and 1 (0.8)", s.SLTarget)
	}
	switch s.SLFormula {
	case SLIgnored, SLNegative, SLPositive:
	default:
		add("sl_formula", "%q: want ignored, negative or positive", s.SLFormula)
	}
	if s.Ring < 0 || s.Ring > Duration(time.Hour) {
		add("ring", "%v: want 0 to 1h", s.Ring.D())
	}
	if s.Drain < 0 || s.Drain > Duration(24*time.Hour) {
		add("drain", "%v: want 0 to 24h", s.Drain.D())
	}
	// The plan's talk time is needed only by traffic without its own.
	needTalk := false
	for _, t := range s.Traffic {
		needTalk = needTalk || t.Talk == nil
	}
	if needTalk || s.Talk.Mean != 0 {
		errs = append(errs, s.Talk.validate("plan.talk", false)...)
	}
	errs = append(errs, s.Patience.validate("plan.patience", true)...)
	if len(s.Traffic) == 0 {
		add("traffic", "no traffic: give calls per interval for at least one dialed number")
	}
	seen := map[string]bool{}
	for i, t := range s.Traffic {
		p := fmt.Sprintf("traffic[%d]", i)
		if t.DNIS == "" {
			add(p+".dnis", "a dialed number is needed")
		} else if seen[t.DNIS] {
			add(p+".dnis", "%q given twice", t.DNIS)
		}
		seen[t.DNIS] = true
		if len(t.Calls) == 0 {
			add(p+".calls", "no intervals")
		}
		for j, c := range t.Calls {
			if c < 0 || math.IsNaN(c) || math.IsInf(c, 0) || c > 1e6 {
				add(fmt.Sprintf("%s.calls[%d]", p, j), "%v: want a number of calls from 0 to 1,000,000", c)
			}
		}
		for j, m := range t.TalkMeans {
			if m < 0 {
				add(fmt.Sprintf("%s.talk_means[%d]", p, j), "must not be negative")
			}
		}
		if t.Talk != nil {
			errs = append(errs, t.Talk.validate("plan."+p+".talk", false)...)
		}
		if t.Patience != nil {
			errs = append(errs, t.Patience.validate("plan."+p+".patience", true)...)
		}
	}
	if n := s.Intervals(); n*int(s.Interval.D()/time.Minute) > 7*24*60 {
		add("traffic", "%d intervals: a plan covers at most a week", n)
	}
	seen = map[string]bool{}
	for i, v := range s.IVR {
		p := fmt.Sprintf("ivr[%d]", i)
		if v.VRUScript == "" {
			add(p+".vru_script", "a run-script string is needed")
		} else if seen[v.VRUScript] {
			add(p+".vru_script", "%q given twice", v.VRUScript)
		}
		seen[v.VRUScript] = true
		if v.Duration < 0 {
			add(p+".duration", "must not be negative")
		}
		sum := 0.0
		for k, w := range v.Keys {
			if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				add(p+".keys."+k, "%v: want a share of at least 0", w)
			}
			sum += w
		}
		if len(v.Keys) > 0 && sum <= 0 {
			add(p+".keys", "the shares add up to nothing")
		}
	}
	seen = map[string]bool{}
	for i, t := range s.Teams {
		p := fmt.Sprintf("teams[%d]", i)
		if t.Name == "" || strings.ContainsAny(t.Name, " \t/") {
			add(p+".name", "%q: want a name without spaces or slashes", t.Name)
		} else if seen[t.Name] {
			add(p+".name", "%q given twice", t.Name)
		}
		seen[t.Name] = true
		if len(t.Agents) == 0 {
			add(p+".agents", "how many agents: one number, or one per interval")
		}
		for j, n := range t.Agents {
			if n < 0 || n > 100000 {
				add(fmt.Sprintf("%s.agents[%d]", p, j), "%d: want 0 to 100,000", n)
			}
		}
	}
	return errors.Join(errs...)
}

// Intervals is how many intervals the plan covers.
func (s Spec) Intervals() int {
	n := 0
	for _, t := range s.Traffic {
		n = max(n, len(t.Calls))
	}
	return n
}

// ivrOf returns what callers do at a VRU script, with the defaults.
func (s *Spec) ivrOf(script string) IVRScript {
	for _, v := range s.IVR {
		if v.VRUScript == script {
			if v.Duration == 0 {
				v.Duration = Duration(defaultDuration(script))
			}
			return v
		}
	}
	return IVRScript{VRUScript: script, Duration: Duration(defaultDuration(script))}
}

func defaultDuration(script string) time.Duration {
	if strings.HasPrefix(script, "QT,") || script == "QT" {
		return defaultQT
	}
	return defaultIVR
}

// sortedKeys returns the keys of m in order, so a seeded draw is the same
// every run (map order is not).
func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// agentsAt is how many agents t has in interval i.
func (t Team) agentsAt(i int) int {
	if len(t.Agents) == 0 {
		return 0
	}
	return t.Agents[min(i, len(t.Agents)-1)]
}
