package plan

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tandem-cc/tandem/internal/report"
)

// Result is a plan's day: a row per interval and queue, and every call.
type Result struct {
	Spec Spec // with its defaults
	Rows []Row
	// Calls are the simulated calls in arrival order.
	Calls []CallRecord
	// Unfinished counts calls still in progress when the plan stopped
	// (the drain after the last interval ran out).
	Unfinished int
	// PoolShort counts logins a team could not make: its agents were all
	// still busy finishing calls of an earlier shift.
	PoolShort int
	// Simulated is the virtual time run; Wall the real time it took.
	Simulated, Wall time.Duration
}

// Row is one interval of one queue (Queue "" is every call of the
// interval). The counters are report's, counted by report's rules for
// the calls that arrived in the interval; the rates are report's formulas.
type Row struct {
	Interval int
	Start    time.Time
	Queue    string
	// Agents is how many agents of the queue's skill group the schedule
	// logs in (an agent of several groups counts in each); -1 for a
	// precision queue or the all-calls row.
	Agents int
	report.Counters
	report.Figures
	// SL is the service level by the plan's formula.
	SL float64
	// Occupancy is the queue's agents' busy time (ringing, talking, on
	// hold, wrap-up) over their busy and ready time; NaN if unknown.
	Occupancy float64
	// Erlang holds the formulas' view of the same interval; nil when they
	// do not apply (no agents known, no calls planned).
	Erlang *ErlangRow
	// SimNeeded is the smallest staffing meeting the target by simulation
	// (Size); -1 when not sized.
	SimNeeded int
}

// ErlangRow is Erlang C and A for one interval and queue.
type ErlangRow struct {
	// Inputs: the calls planned for the queue (the planned calls of each
	// dialed number times the share the router sent to the queue), AHT
	// (mean talk plus wrap-up) and patience.
	Inputs QueueInputs
	C, A   QueueFigures
	// CNeeded and ANeeded are the smallest staffing meeting the target.
	CNeeded, ANeeded int
}

// CallRecord is one simulated call.
type CallRecord struct {
	ID       string
	DNIS     string
	Interval int
	Arrive   time.Time
	// Queued is when it first joined a queue (zero: never).
	Queued  time.Time
	Queues  []string
	Offered time.Time // last offer
	Offers  int
	Agent   string
	Queue   string // the queue it was answered from
	Answer  time.Time
	End     time.Time
	Talk    time.Duration
	WrapUp  time.Duration
	Outcome Outcome
	// Callback says the caller asked for a courtesy callback.
	Callback bool
}

// maxAgentsSearch bounds the Erlang staffing search.
const maxAgentsSearch = 100000

func (s *sim) result() *Result {
	res := &Result{Spec: s.spec, PoolShort: s.short, Simulated: time.Duration(s.now - s.start)}
	cfg := report.RecordConfig{ServiceLevel: s.spec.ServiceLevel.D(), ShortCall: s.spec.ShortCall.D()}
	names := s.queueNames()
	type key struct {
		iv int
		q  string
	}
	counters := map[key]*report.Counters{}
	get := func(iv int, q string) *report.Counters {
		k := key{iv, q}
		c := counters[k]
		if c == nil {
			c = &report.Counters{}
			counters[k] = c
		}
		return c
	}
	for _, c := range s.all {
		if c.ended == 0 {
			c.outcome = OutcomeUnfinished
			res.Unfinished++
		}
		res.Calls = append(res.Calls, s.record(c))
		if c.interval >= s.nIv {
			continue
		}
		// Every call of the interval, as a call type row.
		waitFrom := c.queued
		if waitFrom == 0 {
			waitFrom = c.arrive
		}
		all := get(c.interval, "")
		all.Offered++
		count(all, &cfg, c, c.answered, waitFrom)
		// Each queue it joined, as a skill group row.
		for _, q := range c.queues {
			qc := get(c.interval, q.name)
			qc.Offered++
			answered := int64(0)
			if c.group == q.name {
				answered = c.answered
			}
			count(qc, &cfg, c, answered, q.at)
		}
	}
	for iv := 0; iv < s.nIv; iv++ {
		start := time.Unix(0, s.start+int64(iv)*s.ivLen).In(s.spec.Start.Location())
		if s.spec.Start.IsZero() {
			start = start.UTC()
		}
		for _, q := range append([]string{""}, names...) {
			c := counters[key{iv, q}]
			agents := s.scheduled(iv, q)
			if c == nil && agents <= 0 {
				continue
			}
			if c == nil {
				c = &report.Counters{}
			}
			r := Row{Interval: iv, Start: start, Queue: q, Agents: agents, Counters: *c, Figures: c.Figures(), SimNeeded: -1}
			r.SL = formulaOf(s.spec.SLFormula, r.Figures)
			r.Occupancy = s.occupancy(iv, q)
			if q != "" && agents >= 0 {
				r.Erlang = s.erlang(iv, q, agents)
			}
			res.Rows = append(res.Rows, r)
		}
	}
	return res
}

// count adds one call's outcome to c, by report's rules (its
// outcomeCounts): the wait runs from waitFrom; an abandon sooner than the
// short-call threshold is a short call, not an abandon; a call answered,
// abandoned (not short) or waiting past the threshold counts in the
// service level's calls.
func count(c *report.Counters, cfg *report.RecordConfig, call *simCall, answered, waitFrom int64) {
	switch {
	case answered != 0:
		wait := time.Duration(answered - waitFrom)
		c.Handled++
		c.AnswerWaitNS += int64(wait)
		c.SLOffered++
		if wait <= cfg.ServiceLevel {
			c.AnsweredInSL++
		}
		c.TalkNS += int64(call.talk)
		c.WrapNS += int64(call.wrap)
	case call.outcome == OutcomeAbandoned:
		wait := time.Duration(call.ended - waitFrom)
		if wait < cfg.ShortCall {
			c.ShortAbandoned++
			return
		}
		c.Abandoned++
		c.SLOffered++
		if wait <= cfg.ServiceLevel {
			c.AbandonedInSL++
		}
	default:
		end := call.ended
		if end == 0 {
			end = math.MaxInt64
		}
		if time.Duration(end-waitFrom) > cfg.ServiceLevel {
			c.SLOffered++
		}
	}
}

func formulaOf(f Formula, fig report.Figures) float64 {
	switch f {
	case SLIgnored:
		return fig.SLAbandonsIgnored
	case SLPositive:
		return fig.SLAbandonsPositive
	}
	return fig.SLAbandonsNegative
}

// scheduled is how many agents of queue q's skill group interval iv logs
// in; -1 when not a skill group.
func (s *sim) scheduled(iv int, q string) int {
	if q == "" || !s.queues[q] {
		return -1
	}
	n := 0
	for ti, tm := range s.teams {
		for _, g := range tm.SkillGroups {
			if g == q {
				n += s.staffBy[ti][iv]
				break
			}
		}
	}
	return n
}

func (s *sim) occupancy(iv int, q string) float64 {
	var busy, ready int64
	for _, tm := range s.teams {
		in := q == ""
		for _, g := range tm.SkillGroups {
			in = in || g == q
		}
		if in {
			busy += tm.busy[iv]
			ready += tm.ready[iv]
		}
	}
	if busy+ready == 0 {
		return math.NaN()
	}
	return float64(busy) / float64(busy+ready)
}

// erlang is the formulas' view of interval iv for skill group q.
func (s *sim) erlang(iv int, q string, agents int) *ErlangRow {
	var calls, talkW, patW, patN float64
	for _, st := range s.streams {
		planned := 0.0
		if iv < len(st.t.Calls) {
			planned = st.t.Calls[iv]
		}
		if planned == 0 {
			continue
		}
		// The share of the number's calls the router sent to q: this
		// interval's, or the day's when none arrived in it.
		share := 0.0
		if n := st.arrivals[iv]; n > 0 {
			share = float64(st.entered[iv][q]) / float64(n)
		} else {
			tot, in := 0, 0
			for i := range st.arrivals {
				tot += st.arrivals[i]
				in += st.entered[i][q]
			}
			if tot > 0 {
				share = float64(in) / float64(tot)
			}
		}
		if share == 0 {
			continue
		}
		n := planned * share
		calls += n
		var mean time.Duration
		if iv < len(st.t.TalkMeans) {
			mean = st.t.TalkMeans[iv].D()
		}
		talkW += n * st.talk.meanSeconds(mean)
		if p := st.patience.meanSeconds(0); !math.IsInf(p, 1) {
			// Patience as a rate, averaged by calls: abandon rates add.
			patW += n / p
			patN += n
		}
	}
	if calls == 0 {
		return nil
	}
	in := QueueInputs{
		Rate:         calls / time.Duration(s.ivLen).Seconds(),
		AHT:          talkW/calls + s.wrapUp.Seconds(),
		ServiceLevel: s.spec.ServiceLevel.D().Seconds(),
		ShortCall:    s.spec.ShortCall.D().Seconds(),
		Formula:      s.spec.SLFormula,
	}
	if patN > 0 {
		// Callers with no patience given wait for ever: they dilute the
		// abandon rate.
		in.Patience = calls / patW
	}
	e := &ErlangRow{Inputs: in, C: ErlangCFigures(in, agents), A: ErlangAFigures(in, agents)}
	e.CNeeded, _ = AgentsFor(in, s.spec.SLTarget, ErlangCFigures, maxAgentsSearch)
	e.ANeeded, _ = AgentsFor(in, s.spec.SLTarget, ErlangAFigures, maxAgentsSearch)
	return e
}

func (s *sim) record(c *simCall) CallRecord {
	t := func(ns int64) time.Time {
		if ns == 0 {
			return time.Time{}
		}
		return time.Unix(0, ns).UTC()
	}
	r := CallRecord{ID: string(c.id), DNIS: c.st.t.DNIS, Interval: c.interval, Arrive: t(c.arrive), Queued: t(c.queued),
		Offered: t(c.offered), Offers: c.offers, Agent: string(c.agent), Queue: c.group, Answer: t(c.answered), End: t(c.ended),
		WrapUp: c.wrap, Outcome: c.outcome, Callback: c.gone}
	if c.answered != 0 {
		r.Talk = c.talk
	}
	for _, q := range c.queues {
		r.Queues = append(r.Queues, q.name)
	}
	return r
}

// Header is the column names of WriteCSV.
var Header = []string{"interval", "start", "queue", "agents", "offered", "handled", "abandoned", "short_abandoned",
	"sl", "asa_s", "aht_s", "occupancy", "erlang_c_sl", "erlang_c_asa_s", "erlang_c_occupancy", "erlang_c_agents_needed",
	"erlang_a_sl", "erlang_a_asa_s", "erlang_a_abandoned", "erlang_a_occupancy", "erlang_a_agents_needed", "sim_agents_needed",
	"planned_calls", "planned_aht_s", "planned_patience_s"}

// WriteCSV writes the rows with Header.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(Header)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		if math.IsInf(v, 0) {
			return "inf"
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	n := func(v int) string {
		if v < 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	for _, row := range r.Rows {
		q := row.Queue
		if q == "" {
			q = "(all)"
		}
		rec := []string{strconv.Itoa(row.Interval), row.Start.Format(time.RFC3339), q, n(row.Agents),
			strconv.FormatInt(row.Offered, 10), strconv.FormatInt(row.Handled, 10), strconv.FormatInt(row.Abandoned, 10),
			strconv.FormatInt(row.ShortAbandoned, 10), f(row.SL), f(row.ASA), f(row.AHT), f(row.Occupancy)}
		if e := row.Erlang; e != nil {
			rec = append(rec, f(e.C.SL), f(e.C.ASA), f(e.C.Occupancy), n(e.CNeeded),
				f(e.A.SL), f(e.A.ASA), f(e.A.Abandoned), f(e.A.Occupancy), n(e.ANeeded), n(row.SimNeeded),
				f(e.Inputs.Rate*r.Spec.Interval.D().Seconds()), f(e.Inputs.AHT), f(e.Inputs.Patience))
		} else {
			rec = append(rec, "", "", "", "", "", "", "", "", "", n(row.SimNeeded), "", "", "")
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("plan: csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the rows as an aligned table, then a summary.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 0, 1, ' ', tabwriter.AlignRight)
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return strconv.FormatFloat(100*v, 'f', 1, 64)
	}
	sec := func(v float64) string {
		if math.IsInf(v, 0) {
			return "inf"
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	n := func(v int) string {
		if v < 0 {
			return "-"
		}
		return strconv.Itoa(v)
	}
	fmt.Fprintf(tw, "start\tqueue\tagents\toffered\thandled\taband\tSL%%\tASA\tocc%%\t|\tC.SL%%\tC.ASA\tC.occ%%\tC.need\t|\tA.SL%%\tA.ASA\tA.ab%%\tA.need\t|\tsim.need\t\n")
	for _, row := range r.Rows {
		q := row.Queue
		if q == "" {
			q = "(all)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t|\t", row.Start.Format("01-02 15:04"), q, n(row.Agents), row.Offered, row.Handled,
			row.Abandoned+row.ShortAbandoned, pct(row.SL), sec(row.ASA), pct(row.Occupancy))
		if e := row.Erlang; e != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t|\t%s\t%s\t%s\t%d\t|\t", pct(e.C.SL), sec(e.C.ASA), pct(e.C.Occupancy), e.CNeeded,
				pct(e.A.SL), sec(e.A.ASA), pct(e.A.Abandoned), e.ANeeded)
		} else {
			fmt.Fprint(tw, "\t\t\t\t|\t\t\t\t\t|\t")
		}
		fmt.Fprintf(tw, "%s\t\n", n(row.SimNeeded))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var tot report.Counters
	for _, row := range r.Rows {
		if row.Queue == "" {
			tot.Offered += row.Offered
			tot.Handled += row.Handled
			tot.Abandoned += row.Abandoned
			tot.ShortAbandoned += row.ShortAbandoned
			tot.SLOffered += row.SLOffered
			tot.AnsweredInSL += row.AnsweredInSL
			tot.AbandonedInSL += row.AbandonedInSL
			tot.AnswerWaitNS += row.AnswerWaitNS
			tot.TalkNS += row.TalkNS
			tot.WrapNS += row.WrapNS
		}
	}
	fig := tot.Figures()
	_, err := fmt.Fprintf(w, "\nday: %d offered, %d handled, %d abandoned (%d short), SL %s%% (%s, %v), ASA %.1fs, AHT %.1fs; %d unfinished; simulated %v in %v\n",
		tot.Offered, tot.Handled, tot.Abandoned, tot.ShortAbandoned, pct(formulaOf(r.Spec.SLFormula, fig)), r.Spec.SLFormula,
		r.Spec.ServiceLevel.D(), fig.ASA, fig.AHT, r.Unfinished, r.Simulated.Round(time.Second), r.Wall.Round(time.Millisecond))
	if r.PoolShort > 0 && err == nil {
		_, err = fmt.Fprintf(w, "warning: %d logins could not be made: a team's agents were still finishing calls of the shift before\n", r.PoolShort)
	}
	return err
}

// WriteCalls writes every simulated call as CSV.
func (r *Result) WriteCalls(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"call", "dnis", "interval", "arrive", "queued", "queues", "offered", "offers", "agent", "queue",
		"answer", "end", "talk_s", "wrapup_s", "outcome", "callback"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	for _, c := range r.Calls {
		qs := ""
		for i, q := range c.Queues {
			if i > 0 {
				qs += ","
			}
			qs += q
		}
		if err := cw.Write([]string{c.ID, c.DNIS, strconv.Itoa(c.Interval), ts(c.Arrive), ts(c.Queued), qs, ts(c.Offered),
			strconv.Itoa(c.Offers), c.Agent, c.Queue, ts(c.Answer), ts(c.End), strconv.FormatFloat(c.Talk.Seconds(), 'f', 3, 64),
			strconv.FormatFloat(c.WrapUp.Seconds(), 'f', 3, 64), string(c.Outcome), strconv.FormatBool(c.Callback)}); err != nil {
			return fmt.Errorf("plan: calls csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}
