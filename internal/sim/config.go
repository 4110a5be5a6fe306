package sim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/media"
)

// Config is one simulation: where tandem is, how many callers arrive and
// how they behave, which agents staff the queues and how they work.
// Zero values take the defaults of Defaults (see fill), so a Config with
// only Target and CTI set drives the demo contact center.
type Config struct {
	// Target is tandem's SIP address (UDP host:port). Callers send their
	// INVITEs there and agents' phones register there.
	Target string
	// CTI is the base URL of tandem's CTI API (http://host:port).
	CTI string
	// LocalIP is the address the sim binds its SIP and RTP sockets on.
	LocalIP netip.Addr
	// Number is the dialed number the callers call (the demo's 1000).
	Number string

	// Calls is how many callers arrive in all; Rate how many a second.
	Calls int
	Rate  float64
	// Digits is the mix of menu keys callers press, by weight.
	Digits DigitMix
	// MenuDelay is how long a caller listens to the menu before pressing
	// its key (keys barge in on the prompt).
	MenuDelay time.Duration
	// Patience: a caller waiting in queue longer than this hangs up (an
	// abandoned call). 0 waits until the run ends.
	Patience time.Duration
	// CallerTalk is how long a caller talks to an agent before hanging up,
	// drawn per call; the agent may hang up first.
	CallerTalk Range
	// CallerPort is the SIP port of the callers' gateway; 0 lets the OS
	// choose.
	CallerPort int

	// Agents are the ids of the simulated agents; none means callers only
	// (real agents, or an abandon test).
	Agents []string
	// AgentPassword and SIPPassword make each agent's CTI and SIP
	// passwords; "{id}" is replaced by the agent's id (the demo's
	// "pw{id}").
	AgentPassword, SIPPassword string
	// AnswerDelay is how long an agent's phone rings before the agent
	// picks up.
	AnswerDelay time.Duration
	// AgentTalk is how long an agent talks before hanging up, drawn per
	// call; the caller may hang up first.
	AgentTalk Range
	// WrapUp is how long an agent stays in wrap-up before ending it
	// through CTI with WrapUpReason. 0 leaves it to the router's timer.
	WrapUp       time.Duration
	WrapUpReason int
	// RONAPause is how long an agent made not ready by ring-no-answer
	// takes to notice and go ready again, as a person would.
	RONAPause time.Duration
	// AgentPorts is the range of SIP ports of the agents' phones, one port
	// each; zero lets the OS choose.
	AgentPorts PortRange

	// Duration caps the run: at the cap, calls in progress are hung up and
	// counted as interrupted.
	Duration time.Duration
	// ServiceLevel is the answer-time threshold of the service level;
	// ShortAbandon the wait under which an abandon does not count
	// against it.
	ServiceLevel, ShortAbandon time.Duration

	// Progress receives a live progress line once a second; nil for none.
	Progress io.Writer
	// Log receives the sim's logs; nil discards them.
	Log *slog.Logger
}

// Defaults of a simulation against the demo contact center.
const (
	DefaultTarget = "127.0.0.1:5060"
	DefaultCTI    = "http://127.0.0.1:8080"
	DefaultNumber = "1000"
	// The demo's agent passwords (README): pw1001 … pw1010, for CTI and SIP.
	DefaultPassword = "pw{id}"
	// A wrap-up reason code of the demo ("Question answered").
	DefaultWrapUpReason = 21
	// Twenty seconds is the usual contact-center service level threshold
	// (80/20), and UCCE's default; five seconds its short-abandon default.
	DefaultServiceLevel = 20 * time.Second
	DefaultShortAbandon = 5 * time.Second
)

// fill sets the defaults of the fields left zero.
func (c *Config) fill() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Target, DefaultTarget)
	def(&c.CTI, DefaultCTI)
	def(&c.Number, DefaultNumber)
	def(&c.AgentPassword, DefaultPassword)
	def(&c.SIPPassword, DefaultPassword)
	if !c.LocalIP.IsValid() {
		c.LocalIP = netip.MustParseAddr("127.0.0.1")
	}
	if c.Rate == 0 {
		c.Rate = 1
	}
	if len(c.Digits) == 0 {
		c.Digits = DigitMix{{'1', 1}, {'2', 1}}
	}
	if c.MenuDelay == 0 {
		c.MenuDelay = 1500 * time.Millisecond
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Minute
	}
	if c.ServiceLevel == 0 {
		c.ServiceLevel = DefaultServiceLevel
	}
	if c.ShortAbandon == 0 {
		c.ShortAbandon = DefaultShortAbandon
	}
	if c.RONAPause == 0 {
		c.RONAPause = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Validate returns every problem of the config, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("sim: %s: %s", field, fmt.Sprintf(format, a...)))
	}
	if _, _, err := net.SplitHostPort(c.Target); err != nil {
		bad("target", "%q is not host:port: %v", c.Target, err)
	}
	if u, err := url.Parse(c.CTI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("cti", "%q is not an http(s) URL", c.CTI)
	}
	if c.Number == "" {
		bad("number", "required")
	}
	if c.Calls < 0 {
		bad("calls", "%d is negative", c.Calls)
	}
	if c.Rate <= 0 || c.Rate > 1000 {
		bad("rate", "%g calls a second is out of range (0, 1000]", c.Rate)
	}
	for _, d := range c.Digits {
		if _, ok := media.DigitEvent(d.Digit); !ok {
			bad("digits", "%q is not a DTMF key", d.Digit)
		}
		if d.Weight <= 0 {
			bad("digits", "key %q has weight %g; want more than 0", d.Digit, d.Weight)
		}
	}
	for name, d := range map[string]time.Duration{"menu-delay": c.MenuDelay, "patience": c.Patience, "answer-delay": c.AnswerDelay,
		"wrapup": c.WrapUp, "rona-pause": c.RONAPause, "duration": c.Duration, "sl": c.ServiceLevel, "short-abandon": c.ShortAbandon} {
		if d < 0 {
			bad(name, "%s is negative", d)
		}
	}
	for name, r := range map[string]Range{"talk": c.CallerTalk, "agent-talk": c.AgentTalk} {
		if r.Min < 0 || r.Max < r.Min {
			bad(name, "%s is not a range of durations", r)
		}
	}
	if c.CallerPort < 0 || c.CallerPort > 65535 {
		bad("caller-port", "%d is not a port", c.CallerPort)
	}
	seen := map[string]bool{}
	for _, a := range c.Agents {
		if a == "" || seen[a] {
			bad("agents", "agent %q is empty or listed twice", a)
		}
		seen[a] = true
	}
	if c.AgentPorts.Lo != 0 && c.AgentPorts.Hi-c.AgentPorts.Lo+1 < len(c.Agents) {
		bad("agent-ports", "%s has fewer ports than the %d agents", c.AgentPorts, len(c.Agents))
	}
	if c.WrapUpReason < 0 {
		bad("wrapup-reason", "%d is negative", c.WrapUpReason)
	}
	return errors.Join(errs...)
}

// password expands a password template for agent id.
func password(tmpl, id string) string { return strings.ReplaceAll(tmpl, "{id}", id) }

// Range is a span of durations a value is drawn from uniformly.
type Range struct{ Min, Max time.Duration }

// ParseRange reads "10s" (exactly) or "5s-15s" (a span); "" is the zero
// range (never).
func ParseRange(s string) (Range, error) {
	if s == "" {
		return Range{}, nil
	}
	lo, hi, span := strings.Cut(s, "-")
	a, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return Range{}, fmt.Errorf("range %q: %w", s, err)
	}
	b := a
	if span {
		if b, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
	}
	if a < 0 || b < a {
		return Range{}, fmt.Errorf("range %q: want min-max with 0 <= min <= max", s)
	}
	return Range{a, b}, nil
}

func (r Range) String() string {
	if r.Min == r.Max {
		return r.Min.String()
	}
	return r.Min.String() + "-" + r.Max.String()
}

// IsZero says the range is "never".
func (r Range) IsZero() bool { return r.Max == 0 }

// draw picks a duration in the range.
func (r Range) draw() time.Duration {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + rand.N(r.Max-r.Min+1)
}

// WeightedDigit is a menu key and how often callers press it.
type WeightedDigit struct {
	Digit  byte
	Weight float64
}

// DigitMix is the keys callers press, by weight.
type DigitMix []WeightedDigit

// ParseDigitMix reads "1:60,2:40" (or "1,2": equal weights).
func ParseDigitMix(s string) (DigitMix, error) {
	var m DigitMix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, w, hasW := strings.Cut(part, ":")
		if len(k) != 1 {
			return nil, fmt.Errorf("digit mix %q: %q is not one key", s, k)
		}
		if _, ok := media.DigitEvent(k[0]); !ok {
			return nil, fmt.Errorf("digit mix %q: %q is not a DTMF key", s, k)
		}
		weight := 1.0
		if hasW {
			var err error
			if weight, err = strconv.ParseFloat(w, 64); err != nil || weight <= 0 {
				return nil, fmt.Errorf("digit mix %q: weight %q: want a number above 0", s, w)
			}
		}
		m = append(m, WeightedDigit{k[0], weight})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("digit mix %q: no keys", s)
	}
	return m, nil
}

// pick draws a key by weight.
func (m DigitMix) pick() byte {
	total := 0.0
	for _, d := range m {
		total += d.Weight
	}
	x := rand.Float64() * total
	for _, d := range m {
		if x < d.Weight {
			return d.Digit
		}
		x -= d.Weight
	}
	return m[len(m)-1].Digit
}

func (m DigitMix) String() string {
	parts := make([]string, len(m))
	for i, d := range m {
		parts[i] = string(rune(d.Digit)) + ":" + strconv.FormatFloat(d.Weight, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// ParseAgents reads a list of agent ids and numeric ranges:
// "1001-1010", "1001,1003,1006-1008". "" and "none" are no agents.
func ParseAgents(s string) ([]string, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	var ids []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			if part == "" {
				return nil, fmt.Errorf("agents %q: empty id", s)
			}
			ids = append(ids, part)
			continue
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a > b || len(lo) != len(hi) {
			return nil, fmt.Errorf("agents %q: %q is not a range of numeric ids of one width", s, part)
		}
		if b-a >= 10000 {
			return nil, fmt.Errorf("agents %q: %q is more than 10,000 agents", s, part)
		}
		for i := a; i <= b; i++ {
			ids = append(ids, fmt.Sprintf("%0*d", len(lo), i))
		}
	}
	return ids, nil
}

// PortRange is an inclusive range of ports; the zero value is "any".
type PortRange struct{ Lo, Hi int }

// ParsePortRange reads "20000-20099", one port, or "" / "0" for any.
func ParsePortRange(s string) (PortRange, error) {
	if s == "" || s == "0" {
		return PortRange{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("port range %q: want lo-hi within 1-65535", s)
	}
	return PortRange{a, b}, nil
}

func (p PortRange) String() string {
	if p.Lo == 0 {
		return "any"
	}
	return strconv.Itoa(p.Lo) + "-" + strconv.Itoa(p.Hi)
}
