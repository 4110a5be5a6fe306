package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// RecordConfig says how records and interval tables are cut. Zero fields
// take the defaults below.
type RecordConfig struct {
	// Interval is the length of an interval row: 15 or 30 minutes.
	Interval time.Duration `yaml:"interval"`
	// ServiceLevel is the service-level threshold: a call answered (or
	// abandoned) within it counts as answered (abandoned) within service
	// level.
	ServiceLevel time.Duration `yaml:"service_level"`
	// ShortCall is the short-call threshold: a call abandoned sooner is a
	// short call, counted apart and not as abandoned.
	ShortCall time.Duration `yaml:"short_call"`
	// Buckets are the answer-time bucket bounds, ascending, at most
	// MaxBuckets-1 of them; a call answered after the last goes in the
	// last bucket.
	Buckets []time.Duration `yaml:"buckets"`
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

// segment is one offer to an agent, as the agent TCD and the agent and
// skill-group figures see it.
type segment struct {
	agent                  event.AgentID
	queue                  string
	n                      int
	offer, answer, end     time.Time
	wrapEnd                time.Time
	holdStart              time.Time
	hold                   time.Duration
	queueWait              time.Duration
	disposition            string
	wrapReason             int
	rona, abandonedRinging bool
	// consult: an agent's consult call about the call (offer Reason
	// "consult"); joined is when the caller was put through to it (a
	// consult transfer or a conference), zero if it never was.
	consult bool
	joined  time.Time
}

// buildCall derives a call's records from its events in order. It is a
// pure function: the same events give the same records, whatever was
// derived before.
func buildCall(evs []event.Event, cfg *RecordConfig) callRecords {
	var r callRecords
	if len(evs) == 0 {
		return r
	}
	if rj, ok := buildRejected(evs, cfg); ok {
		return rj // an INVITE refused before it became a call (rejected.go)
	}
	id := evs[0].Call
	var (
		start, end          time.Time
		callEnded, dataSeen bool
		outcome             event.Outcome
		callType            string
		data                event.Data
		segs                []*segment
		queuesIn            = map[string]time.Time{} // queue → entered, while in it
		firstEnter          = map[string]time.Time{} // queue → first entered
		queueOrder          []string
		abandonedFrom       = map[string]bool{}
		inQueue             int
		episode, firstQueue time.Time
		queueTotal          time.Duration
		sip                 = map[event.LegID]*TCD{}
		sipOrder            []event.LegID
		sipAnswer           = map[event.LegID]time.Time{}
		// A courtesy callback: the caller's SIP call ends (call.ended)
		// while the call keeps its place in queue; the call goes on until
		// the callback's own end, or the router gives it up.
		cbRequested, cbPending bool
	)
	stopQueue := func(t time.Time) {
		if inQueue == 0 && !episode.IsZero() {
			queueTotal += t.Sub(episode)
			if n := len(r.rcd); n > 0 {
				r.rcd[n-1].Queue += t.Sub(episode)
			}
			episode = time.Time{}
		}
	}
	lastSeg := func(a event.AgentID) *segment {
		for i := len(segs) - 1; i >= 0; i-- {
			if segs[i].agent == a {
				return segs[i]
			}
		}
		return nil
	}
	sipLeg := func(e *event.Event) *TCD {
		t := sip[e.Leg]
		if t == nil {
			t = &TCD{Call: id, Leg: string(e.Leg), LegKind: "sip", Start: e.Time}
			sip[e.Leg] = t
			sipOrder = append(sipOrder, e.Leg)
		}
		return t
	}
	for i := range evs {
		e := &evs[i]
		if start.IsZero() || e.Time.Before(start) {
			start = e.Time
		}
		switch e.Kind {
		case event.CallNew:
			start = e.Time
			if e.Leg != "" {
				t := sipLeg(e)
				t.Start = e.Time
				t.Disposition = "inbound"
			}
		case event.CallEnded:
			// The last call.ended is the call's end and disposition.
			callEnded, end, outcome = true, e.Time, e.Outcome
			if e.Outcome == OutcomeNodeRestart {
				// Closed at start (CloseOrphans): a callback kept queued
				// died with the process that kept it.
				cbPending = false
			}
		case event.CallbackRequested:
			cbRequested, cbPending = true, true
		case event.CallAnswered:
			if strings.HasPrefix(e.Reason, "courtesy callback") {
				cbPending = false
			}
		case event.RouteRequest:
			callType = e.CallType
			if e.Data != nil {
				data.ANI, data.DNIS, data.SIPCallID = e.Data.ANI, e.Data.DNIS, e.Data.SIPCallID
			}
		case event.CallData:
			dataSeen = true
			if end.IsZero() || cbPending {
				end = e.Time // a callback given up ends here, not at the caller's release
			}
			if e.Data != nil {
				sipID := data.SIPCallID
				data = *e.Data
				if data.SIPCallID == "" {
					data.SIPCallID = sipID
				}
			}
			if callType == "" {
				callType = e.CallType
			}
		case event.IVRStep:
			r.ivr = append(r.ivr, IVRStep{Call: id, N: len(r.ivr) + 1, Time: e.Time, Source: "vxml", Script: e.Script,
				Item: e.Node, Element: e.State, Input: e.Target, Outcome: e.Reason})
		case event.IVRResult:
			r.ivr = append(r.ivr, IVRStep{Call: id, N: len(r.ivr) + 1, Time: e.Time, Source: "micro_app", Script: e.Script,
				Input: e.Target, Outcome: e.Reason})
		case event.RouteDecision:
			stopQueue(e.Time)
			r.rcd = append(r.rcd, RCD{Call: id, N: len(r.rcd) + 1, Time: e.Time, CallType: e.CallType,
				Script: e.Script, Node: e.Node, Decision: e.Reason, Target: e.Target})
			if inQueue > 0 {
				episode = e.Time // queue time after this decision is its own
			}
		case event.QueueEnter:
			if _, ok := queuesIn[e.Queue]; !ok {
				queuesIn[e.Queue] = e.Time
				if inQueue == 0 {
					episode = e.Time
				}
				inQueue++
			}
			if _, ok := firstEnter[e.Queue]; !ok {
				firstEnter[e.Queue] = e.Time
				queueOrder = append(queueOrder, e.Queue)
			}
			if firstQueue.IsZero() {
				firstQueue = e.Time
			}
		case event.QueueLeave:
			if _, ok := queuesIn[e.Queue]; ok {
				delete(queuesIn, e.Queue)
				inQueue--
				stopQueue(e.Time)
			}
			if e.Reason == "abandoned" {
				abandonedFrom[e.Queue] = true
			}
		case event.AgentOffer:
			s := &segment{agent: e.Agent, queue: e.Queue, offer: e.Time, n: len(segs) + 1, consult: e.Reason == "consult"}
			if t, ok := firstEnter[e.Queue]; ok {
				s.queueWait = e.Time.Sub(t)
			}
			segs = append(segs, s)
		case event.AgentRONA:
			if s := lastSeg(e.Agent); s != nil && s.end.IsZero() {
				s.end, s.rona, s.disposition = e.Time, true, "rona"
			}
		case event.AgentAnswered:
			if s := lastSeg(e.Agent); s != nil && s.answer.IsZero() {
				s.answer = e.Time
			}
		case event.AgentHold:
			if s := lastSeg(e.Agent); s != nil && s.holdStart.IsZero() {
				s.holdStart = e.Time
			}
		case event.AgentRetrieve:
			if s := lastSeg(e.Agent); s != nil && !s.holdStart.IsZero() {
				s.hold += e.Time.Sub(s.holdStart)
				s.holdStart = time.Time{}
			}
		case event.AgentTransfer, event.AgentConference:
			// A consult transfer (Reason consult) or a conference puts the
			// caller through to the consult target (Target, an agent id);
			// a target still ringing is taken as answered then. A blind
			// transfer's Target is a queue or a number: nothing to join.
			if e.Kind == event.AgentTransfer && e.Reason != "consult" {
				break
			}
			if s := lastSeg(event.AgentID(e.Target)); s != nil && s.consult && s.end.IsZero() && s.joined.IsZero() {
				s.joined = e.Time
				if s.answer.IsZero() {
					s.answer = e.Time
				}
			}
		case event.AgentCallEnd:
			if s := lastSeg(e.Agent); s != nil && s.end.IsZero() {
				s.end = e.Time
				if !s.holdStart.IsZero() {
					s.hold += e.Time.Sub(s.holdStart)
					s.holdStart = time.Time{}
				}
				switch {
				case e.Reason == DispositionNodeRestart:
					// Closed at start (CloseOrphans): the process that
					// had the call died; it is neither an abandon nor a
					// handled call.
					s.disposition = DispositionNodeRestart
				case e.Reason == "callback not answered":
					// The agent took the callback; the caller did not.
					s.disposition = "callback_not_answered"
				case s.consult && s.answer.IsZero():
					s.disposition = "consult_cancelled"
				case s.consult && s.joined.IsZero():
					s.disposition = "consult" // talked to the agent only
				case s.answer.IsZero():
					s.abandonedRinging, s.disposition = true, "abandoned_ringing"
					abandonedFrom[s.queue] = true
				case e.Reason == "transferred":
					s.disposition = "transferred"
				default:
					s.disposition = "handled"
				}
			}
		case event.AgentWrapUp:
			if s := lastSeg(e.Agent); s != nil && !s.end.IsZero() && s.wrapEnd.IsZero() {
				s.wrapEnd, s.wrapReason = e.Time, e.ReasonCode
			}
		case event.LegNew:
			sipLeg(e).Disposition = "open"
		case event.LegAnswered:
			t := sipLeg(e)
			t.Ring = e.Time.Sub(t.Start)
			sipAnswer[e.Leg] = e.Time
		case event.LegFailed, event.LegEnded:
			t := sipLeg(e)
			if t.End.IsZero() {
				t.End = e.Time
				if a, ok := sipAnswer[e.Leg]; ok {
					t.Talk = e.Time.Sub(a)
				}
				switch {
				case e.Kind == event.LegFailed:
					t.Disposition = fmt.Sprintf("failed %d", e.Code)
				case e.Code != 0:
					t.Disposition = fmt.Sprintf("ended %d %s", e.Code, e.Reason)
				default:
					t.Disposition = "ended " + e.Reason
				}
			}
		}
	}
	r.ended = dataSeen || (callEnded && !cbPending)
	for i := range r.ivr {
		r.ivr[i].CallType = callType
	}
	if end.IsZero() {
		end = evs[len(evs)-1].Time
	}
	if r.ended {
		inQueue = 0
		stopQueue(end)
	}
	r.endNS = end.UnixNano()

	// The caller's leg: the whole call.
	caller := TCD{Call: id, Leg: "caller", LegKind: "caller", CallType: callType, Start: start, QueueTime: queueTotal, Data: data}
	if r.ended {
		caller.End = end
		caller.Disposition = string(outcome)
		switch {
		case cbRequested && cbPending:
			caller.Disposition = "callback_failed"
		case caller.Disposition == "":
			caller.Disposition = "ended"
		}
	} else {
		caller.Disposition = "in_progress"
	}
	switch {
	case !firstQueue.IsZero():
		caller.Delay = firstQueue.Sub(start)
	case len(segs) > 0:
		caller.Delay = segs[0].offer.Sub(start)
	}
	// The caller talks while any agent is on the call with it (several at
	// once in a conference), less hold; a consult target counts from when
	// the caller was put through to it.
	var spans [][2]time.Time
	for _, s := range segs {
		from := s.answer
		if s.consult {
			from = s.joined
		} else {
			caller.Ring += ringOf(s)
		}
		if !from.IsZero() && !s.end.IsZero() {
			spans = append(spans, [2]time.Time{from, s.end})
			caller.Hold += s.hold
		}
		if caller.Agent == "" && !s.answer.IsZero() && !s.consult {
			caller.Agent, caller.SkillGroup = s.agent, s.queue
		}
	}
	caller.Talk = union(spans) - caller.Hold
	r.tcd = append(r.tcd, caller)
	for _, s := range segs {
		t := TCD{Call: id, Leg: fmt.Sprintf("agent-%d", s.n), LegKind: "agent", Agent: s.agent, SkillGroup: s.queue, CallType: callType,
			Start: s.offer, End: s.end, Ring: ringOf(s), QueueTime: s.queueWait, Talk: talkOf(s), Hold: s.hold,
			Disposition: s.disposition, WrapReason: s.wrapReason, Data: data}
		if t.Disposition == "" {
			t.Disposition = "in_progress"
		}
		if !s.wrapEnd.IsZero() {
			t.WrapUp = s.wrapEnd.Sub(s.end)
			t.End = s.wrapEnd
		}
		r.tcd = append(r.tcd, t)
	}
	for _, l := range sipOrder {
		t := sip[l]
		t.CallType, t.Data = callType, data
		r.tcd = append(r.tcd, *t)
	}
	if !r.ended {
		return r
	}

	// Interval contributions: a call counts in the interval it ended in.
	iv := end.Truncate(cfg.Interval).UnixNano()
	firstAnswer := time.Time{}
	var ct Counters
	for _, s := range segs {
		if !s.answer.IsZero() && firstAnswer.IsZero() {
			firstAnswer = s.answer
		}
		addSegment(&ct, s)
	}
	waitFrom := firstQueue
	if waitFrom.IsZero() {
		waitFrom = start
	}
	// A courtesy callback given up is not an abandon: the caller asked to
	// be called back and was not reached.
	if cbPending {
		clear(abandonedFrom)
	}
	abandoned := len(abandonedFrom) > 0 && firstAnswer.IsZero()
	outcomeCounts(&ct, cfg, firstAnswer, waitFrom, end, abandoned)
	ct.Offered = 1
	if callType != "" {
		r.contribs = append(r.contribs, contribution{IntervalCallType, callType, iv, ct})
	}
	for _, q := range queueOrder {
		var c Counters
		c.Offered = 1
		answered := time.Time{}
		for _, s := range segs {
			if s.queue == q {
				addSegment(&c, s)
				if !s.answer.IsZero() && answered.IsZero() {
					answered = s.answer
				}
			}
		}
		outcomeCounts(&c, cfg, answered, firstEnter[q], end, abandonedFrom[q] && answered.IsZero())
		r.contribs = append(r.contribs, contribution{IntervalSkillGroup, q, iv, c})
	}
	byAgent := map[event.AgentID]*Counters{}
	var agents []event.AgentID
	for _, s := range segs {
		c := byAgent[s.agent]
		if c == nil {
			c = &Counters{}
			byAgent[s.agent] = c
			agents = append(agents, s.agent)
		}
		c.Offered++
		addSegment(c, s)
		if !s.answer.IsZero() && (!s.consult || !s.joined.IsZero()) {
			// An agent's answer wait is its ring time.
			c.Handled++
			ring := ringOf(s)
			c.AnswerWaitNS += int64(ring)
			c.Buckets[bucketOf(cfg, ring)]++
		}
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i] < agents[j] })
	for _, a := range agents {
		r.contribs = append(r.contribs, contribution{IntervalAgent, string(a), iv, *byAgent[a]})
	}
	return r
}

// union is the length of the union of spans.
func union(spans [][2]time.Time) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, sp := range spans {
		switch {
		case i == 0:
			cur = sp
		case !sp[0].After(cur[1]):
			if sp[1].After(cur[1]) {
				cur[1] = sp[1]
			}
		default:
			total += cur[1].Sub(cur[0])
			cur = sp
		}
	}
	if len(spans) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total
}

// addSegment adds a segment's RONA and handle times.
func addSegment(c *Counters, s *segment) {
	if s.rona {
		c.RONA++
	}
	if !s.answer.IsZero() {
		c.TalkNS += int64(talkOf(s))
		c.HoldNS += int64(s.hold)
		if !s.wrapEnd.IsZero() {
			c.WrapNS += int64(s.wrapEnd.Sub(s.end))
		}
	}
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

func ringOf(s *segment) time.Duration {
	switch {
	case !s.answer.IsZero():
		return s.answer.Sub(s.offer)
	case !s.end.IsZero():
		return s.end.Sub(s.offer)
	}
	return 0
}

func talkOf(s *segment) time.Duration {
	if s.answer.IsZero() || s.end.IsZero() {
		return 0
	}
	return s.end.Sub(s.answer) - s.hold
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
