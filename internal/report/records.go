package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// RecordConfig says how records and interval tables are cut (from
// report.Config.Records). Zero fields take the defaults below.
type RecordConfig struct {
	// Interval is the length of an interval row: 15 or 30 minutes.
	Interval time.Duration
	// ServiceLevel is the service-level threshold: a call answered (or
	// abandoned) within it counts as answered (abandoned) within service
	// level.
	ServiceLevel time.Duration
	// ShortCall is the short-call threshold: a call abandoned sooner is a
	// short call, counted apart and not as abandoned.
	ShortCall time.Duration
	// Buckets are the answer-time bucket bounds, ascending, at most
	// MaxBuckets-1 of them; a call answered after the last goes in the
	// last bucket.
	Buckets []time.Duration
}

// Record defaults, as UCCE's.
const (
	DefaultInterval     = 30 * time.Minute
	DefaultServiceLevel = 20 * time.Second
	DefaultShortCall    = 5 * time.Second
	// MaxBuckets is how many bucket columns an interval row has.
	MaxBuckets = 10
)

// DefaultBuckets are UCCE's default answer-time bucket bounds.
var DefaultBuckets = []time.Duration{8 * time.Second, 30 * time.Second, 60 * time.Second, 90 * time.Second,
	120 * time.Second, 180 * time.Second, 300 * time.Second, 600 * time.Second, 1200 * time.Second}

func (c *RecordConfig) defaults() {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.ServiceLevel == 0 {
		c.ServiceLevel = DefaultServiceLevel
	}
	if c.ShortCall == 0 {
		c.ShortCall = DefaultShortCall
	}
	if len(c.Buckets) == 0 {
		c.Buckets = DefaultBuckets
	}
}

// Validate returns every problem of c, each naming its field.
func (c RecordConfig) Validate() error {
	var errs []error
	if c.Interval != 0 && c.Interval != 15*time.Minute && c.Interval != 30*time.Minute {
		errs = append(errs, fmt.Errorf("%w: report.interval: %v, want 15m or 30m", ErrConfig, c.Interval))
	}
	if c.ServiceLevel < 0 || c.ShortCall < 0 {
		errs = append(errs, fmt.Errorf("%w: report.service_level, report.short_call: must not be negative", ErrConfig))
	}
	if len(c.Buckets) > MaxBuckets-1 {
		errs = append(errs, fmt.Errorf("%w: report.buckets: %d bounds, at most %d", ErrConfig, len(c.Buckets), MaxBuckets-1))
	}
	for i, b := range c.Buckets {
		if b <= 0 || (i > 0 && b <= c.Buckets[i-1]) {
			errs = append(errs, fmt.Errorf("%w: report.buckets[%d]: %v: bounds must be positive and ascending", ErrConfig, i, b))
		}
	}
	return errors.Join(errs...)
}

// TCD is a termination call detail: one leg of a call. LegKind is
// "caller" (the whole call as the caller saw it), "agent" (one offer to an
// agent, from ring to the end of wrap-up) or "sip" (one SIP dialog the
// call server opened). Durations are zero where they do not apply; End is
// zero while the leg is open.
type TCD struct {
	Call        event.CallID  `json:"call_id"`
	Leg         string        `json:"leg"`
	LegKind     string        `json:"leg_kind"`
	Agent       event.AgentID `json:"agent,omitempty"`
	SkillGroup  string        `json:"skill_group,omitempty"`
	CallType    string        `json:"call_type,omitempty"`
	Start       time.Time     `json:"start"`
	End         time.Time     `json:"end"`
	Ring        time.Duration `json:"ring_ns"`
	Delay       time.Duration `json:"delay_ns"` // caller: time before first queued or offered
	QueueTime   time.Duration `json:"queue_ns"`
	Talk        time.Duration `json:"talk_ns"`
	Hold        time.Duration `json:"hold_ns"`
	WrapUp      time.Duration `json:"wrapup_ns"`
	Disposition string        `json:"disposition"`
	WrapReason  int           `json:"wrapup_reason,omitempty"`
	Data        event.Data    `json:"data"`
}

// RCD is a route call detail: one routing decision.
type RCD struct {
	Call     event.CallID  `json:"call_id"`
	N        int           `json:"n"` // 1, 2, 3... in the call
	Time     time.Time     `json:"time"`
	CallType string        `json:"call_type"`
	Script   string        `json:"script"`
	Node     string        `json:"node_path"`
	Decision string        `json:"decision"`
	Target   string        `json:"target"`
	Queue    time.Duration `json:"queue_ns"` // queued after this decision, until the next or the end
}

// IVRStep is one IVR step of a call: a VoiceXML form item the caller
// visited (Source "vxml", from the gateway's ivr.step) or a micro-app the
// router ran (Source "micro_app", from ivr.result).
type IVRStep struct {
	Call     event.CallID `json:"call_id"`
	N        int          `json:"n"` // 1, 2, 3... in the call
	Time     time.Time    `json:"time"`
	CallType string       `json:"call_type"`
	Source   string       `json:"source"`
	// Script is the document and form (vxml) or the micro-app.
	Script string `json:"script"`
	// Item and Element name the form item (vxml only).
	Item    string `json:"item,omitempty"`
	Element string `json:"element,omitempty"`
	// Input is what the caller gave (vxml), or the micro-app's result
	// values, URL-encoded.
	Input string `json:"input"`
	// Outcome is filled, noinput, nomatch, hangup, error.* (vxml), or ok
	// or error (micro-app).
	Outcome string `json:"outcome"`
}

// Counters are the additive figures of an interval row; Figures derives
// the rates from them.
type Counters struct {
	Offered        int64 `json:"offered"`
	Handled        int64 `json:"handled"`
	Abandoned      int64 `json:"abandoned"`       // not counting short calls
	ShortAbandoned int64 `json:"short_abandoned"` // abandoned within ShortCall
	SLOffered      int64 `json:"sl_offered"`      // answered, abandoned (not short), or waited past ServiceLevel
	AnsweredInSL   int64 `json:"answered_in_sl"`
	AbandonedInSL  int64 `json:"abandoned_in_sl"`
	RONA           int64 `json:"rona"`
	AnswerWaitNS   int64 `json:"answer_wait_ns"` // sum over handled calls
	TalkNS         int64 `json:"talk_ns"`
	HoldNS         int64 `json:"hold_ns"`
	WrapNS         int64 `json:"wrapup_ns"`
	// Buckets[i] counts handled calls answered within bound i (and after
	// bound i-1); the last counts the rest.
	Buckets [MaxBuckets]int64 `json:"buckets"`
	// Rejected counts INVITEs refused before they became calls
	// (call.rejected; rejected.go), on the IntervalRejected rows.
	Rejected int64 `json:"rejected"`
}

func (c *Counters) add(o *Counters, sign int64) {
	c.Offered += sign * o.Offered
	c.Handled += sign * o.Handled
	c.Abandoned += sign * o.Abandoned
	c.ShortAbandoned += sign * o.ShortAbandoned
	c.SLOffered += sign * o.SLOffered
	c.AnsweredInSL += sign * o.AnsweredInSL
	c.AbandonedInSL += sign * o.AbandonedInSL
	c.RONA += sign * o.RONA
	c.AnswerWaitNS += sign * o.AnswerWaitNS
	c.TalkNS += sign * o.TalkNS
	c.HoldNS += sign * o.HoldNS
	c.WrapNS += sign * o.WrapNS
	for i := range c.Buckets {
		c.Buckets[i] += sign * o.Buckets[i]
	}
	c.Rejected += sign * o.Rejected
}

func (c *Counters) zero() bool { return *c == Counters{} }

// Figures are an interval row's rates, from its Counters. A rate whose
// denominator is zero is 0.
type Figures struct {
	// The three UCCE service-level formulas:
	//   ignored:  AnsweredInSL / (SLOffered - AbandonedInSL)
	//   negative: AnsweredInSL / SLOffered
	//   positive: (AnsweredInSL + AbandonedInSL) / SLOffered
	SLAbandonsIgnored  float64 `json:"sl_abandons_ignored"`
	SLAbandonsNegative float64 `json:"sl_abandons_negative"`
	SLAbandonsPositive float64 `json:"sl_abandons_positive"`
	// ASA: average speed of answer, AnswerWait / Handled, in seconds.
	ASA float64 `json:"asa_s"`
	// AHT: average handle time, (Talk + Hold + WrapUp) / Handled, seconds.
	AHT float64 `json:"aht_s"`
}

// Figures computes the rates of c.
func (c Counters) Figures() Figures {
	ratio := func(a, b int64) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return Figures{
		SLAbandonsIgnored:  ratio(c.AnsweredInSL, c.SLOffered-c.AbandonedInSL),
		SLAbandonsNegative: ratio(c.AnsweredInSL, c.SLOffered),
		SLAbandonsPositive: ratio(c.AnsweredInSL+c.AbandonedInSL, c.SLOffered),
		ASA:                ratio(c.AnswerWaitNS, c.Handled) / 1e9,
		AHT:                ratio(c.TalkNS+c.HoldNS+c.WrapNS, c.Handled) / 1e9,
	}
}

// Interval kinds.
const (
	IntervalCallType   = "call_type"
	IntervalSkillGroup = "skill_group"
	IntervalAgent      = "agent"
)

// contribution is what one call adds to one interval row. A call's
// contributions are kept (call_facts) so that deriving it again takes the
// old ones off before adding the new: derivation is idempotent.
type contribution struct {
	Kind  string   `json:"k"`
	Name  string   `json:"n"`
	Start int64    `json:"s"` // interval start, unix ns
	C     Counters `json:"c"`
}

// callRecords is everything derived from one call's events.
type callRecords struct {
	tcd      []TCD
	rcd      []RCD
	ivr      []IVRStep
	ended    bool
	endNS    int64
	contribs []contribution
}

// A record family is one file of this package (family_<name>.go): the
// events it reads, what it keeps of a call while reading them (its
// accumulators) and the records it writes, registered by the file's init
// with registerFamily. buildCall runs the families over a call's
// events, so adding a record family is adding such a file and its test.
type family struct {
	name string
	// doc says which events the family reads and what it derives from
	// them (RecordFamilies lists them).
	doc string
	// rank orders the families: for one event, their handlers run in rank
	// order, and so do their settle, records and contribute, which orders
	// a call's TCDs and interval rows. The call family (10) writes the
	// caller's TCD, a call's first record.
	rank int
	// state makes the family's accumulators for one call (reached through
	// the build); nil when it keeps none.
	state func() any
	// on are the family's handlers, by event kind.
	on map[event.Kind]func(b *build, e *event.Event)
	// settle runs after the last event, once the call family has settled
	// whether the call is over (b.ended) and its end (b.end).
	settle func(b *build)
	// records writes the family's records: its TCD legs, RCDs or IVR
	// steps, and its part of the caller's TCD (b.caller()).
	records func(b *build)
	// contribute adds the family's interval rows of an ended call, in the
	// interval iv it ended in.
	contribute func(b *build, iv int64)

	idx int // in families
}

// families are the record families in rank order, and familyOn their
// handlers by event kind, in rank order; both are set by the families'
// inits and read-only once the package is initialised.
var (
	families []*family
	familyOn = map[event.Kind][]func(*build, *event.Event){}
)

// registerFamily adds a record family and orders the families again
// (inits run in no order a file can rely on); a name or rank used twice is
// a programming error caught when the package loads.
func registerFamily(f *family) *family {
	for _, o := range families {
		if o.name == f.name || o.rank == f.rank {
			panic("report: record family " + f.name + " registered twice (name or rank of " + o.name + ")")
		}
	}
	families = append(families, f)
	sortFamilies()
	return f
}

// sortFamilies puts families in rank order, numbers them and lists their
// handlers by event kind.
func sortFamilies() {
	sort.Slice(families, func(i, j int) bool { return families[i].rank < families[j].rank })
	clear(familyOn)
	for i, f := range families {
		f.idx = i
		kinds := make([]string, 0, len(f.on))
		for k := range f.on {
			kinds = append(kinds, string(k))
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			familyOn[event.Kind(k)] = append(familyOn[event.Kind(k)], f.on[event.Kind(k)])
		}
	}
}

// RecordFamilies returns the record families, one line each in rank
// order: its name, the events it reads and what it derives from them.
func RecordFamilies() string {
	var b strings.Builder
	for _, f := range families {
		fmt.Fprintf(&b, "%-9s %s\n", f.name, f.doc)
	}
	return b.String()
}

// build is one call's derivation in progress: the call's facts every
// family reads (written by the call family, but start, the earliest event,
// which buildCall keeps), each family's accumulators and the records
// written so far. It lives for one buildCall.
type build struct {
	id  event.CallID
	cfg *RecordConfig
	r   callRecords

	start    time.Time // the call's first moment
	end      time.Time // its end, once settled (zero before: not yet known)
	last     time.Time // the last event's time
	ended    bool      // settled: the call is over
	callType string
	data     event.Data

	state []any // each family's accumulators, by family idx
}

// caller is the caller's TCD, the call's first record (the call family's).
func (b *build) caller() *TCD { return &b.r.tcd[0] }

// buildCall derives a call's records from its events in order, running
// the record families over them. It is a pure function: the same events
// give the same records, whatever was derived before.
func buildCall(evs []event.Event, cfg *RecordConfig) callRecords {
	var r callRecords
	if len(evs) == 0 {
		return r
	}
	b := &build{id: evs[0].Call, cfg: cfg, last: evs[len(evs)-1].Time, state: make([]any, len(families))}
	for i, f := range families {
		if f.state != nil {
			b.state[i] = f.state()
		}
	}
	for i := range evs {
		e := &evs[i]
		if b.start.IsZero() || e.Time.Before(b.start) {
			b.start = e.Time
		}
		for _, on := range familyOn[e.Kind] {
			on(b, e)
		}
	}
	for _, f := range families {
		if f.settle != nil {
			f.settle(b)
		}
	}
	b.r.ended, b.r.endNS = b.ended, b.end.UnixNano()
	for _, f := range families {
		if f.records != nil {
			f.records(b)
		}
	}
	if !b.ended {
		return b.r
	}
	// Interval contributions: a call counts in the interval it ended in.
	iv := b.end.Truncate(cfg.Interval).UnixNano()
	for _, f := range families {
		if f.contribute != nil {
			f.contribute(b, iv)
		}
	}
	return b.r
}

// outcomeCounts sets handled, abandoned and the service-level counts of a
// call (or its part in one skill group) that waited from waitFrom and was
// answered at answer (zero: not answered) or ended at end.
func outcomeCounts(c *Counters, cfg *RecordConfig, answer, waitFrom, end time.Time, abandoned bool) {
	switch {
	case !answer.IsZero():
		wait := answer.Sub(waitFrom)
		c.Handled = 1
		c.AnswerWaitNS = int64(wait)
		c.SLOffered = 1
		if wait <= cfg.ServiceLevel {
			c.AnsweredInSL = 1
		}
		c.Buckets[bucketOf(cfg, wait)]++
	case abandoned:
		wait := end.Sub(waitFrom)
		if wait < cfg.ShortCall {
			c.ShortAbandoned = 1
			return
		}
		c.Abandoned, c.SLOffered = 1, 1
		if wait <= cfg.ServiceLevel {
			c.AbandonedInSL = 1
		}
	default:
		// Released or routed elsewhere: it counts against service level
		// only if it waited past the threshold.
		if end.Sub(waitFrom) > cfg.ServiceLevel {
			c.SLOffered = 1
		}
	}
}

// bucketOf returns the answer-time bucket of wait.
func bucketOf(cfg *RecordConfig, wait time.Duration) int {
	for i, b := range cfg.Buckets {
		if wait <= b {
			return i
		}
	}
	return len(cfg.Buckets)
}
