package plan

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/tandem-cc/tandem/internal/report"
)

// Recorded is a day as the report store has it, in a plan's terms.
type Recorded struct {
	// Traffic is the calls per interval of each dialed number, with the
	// mean talk time (talk and hold) of each interval's answered calls,
	// their talk distribution and the callers' patience as measured.
	Traffic []Traffic
	// IVR holds the share of each answer callers gave each micro-app.
	IVR []IVRScript
	// Calls, Answered and Abandoned count the day's caller legs.
	Calls, Answered, Abandoned int
}

// minTalkSamples is how many answered calls a dialed number needs before
// its talk-time spread is taken as lognormal with the measured CV rather
// than assumed exponential.
const minTalkSamples = 30

// FromStore reads the day of intervals starting at from (n intervals of
// length iv) from the report store: calls per interval per dialed number
// from the caller TCDs (by start), talk times from the agent TCDs of those
// calls, patience, and key shares from the micro-app results.
//
// Patience is estimated as callers' total time in queue over the number
// who abandoned from the queue: the maximum-likelihood estimate of an
// exponential patience's mean when the answered callers' patience is only
// known to be longer than their wait (Mandelbaum & Zeltyn 2007, §5).
func FromStore(ctx context.Context, st *report.Store, from time.Time, iv time.Duration, n int) (*Recorded, error) {
	to := from.Add(time.Duration(n) * iv)
	legs, err := tcds(ctx, st, from, to.Add(DefaultDrain))
	if err != nil {
		return nil, err
	}
	type dn struct {
		calls      []float64
		talk       []float64
		talkN      []int
		all        []float64 // every talk time, for the spread
		queued     float64   // seconds in queue, all callers
		abandoned  int
		firstOrder int
	}
	byDN := map[string]*dn{}
	type callOf struct {
		d  *dn
		iv int
	}
	calls := map[string]callOf{}
	rec := &Recorded{}
	for _, t := range legs {
		if t.LegKind != "caller" || t.Start.Before(from) || !t.Start.Before(to) {
			continue
		}
		d := byDN[t.Data.DNIS]
		if d == nil {
			d = &dn{calls: make([]float64, n), talk: make([]float64, n), talkN: make([]int, n), firstOrder: len(byDN)}
			byDN[t.Data.DNIS] = d
		}
		i := int(t.Start.Sub(from) / iv)
		d.calls[i]++
		calls[string(t.Call)] = callOf{d, i}
		rec.Calls++
		d.queued += t.QueueTime.Seconds()
		if t.Disposition == "abandoned" {
			rec.Abandoned++
			if t.QueueTime > 0 {
				d.abandoned++
			}
		}
	}
	for _, t := range legs {
		c, ok := calls[string(t.Call)]
		if t.LegKind != "agent" || !ok || t.Talk+t.Hold <= 0 {
			continue
		}
		s := (t.Talk + t.Hold).Seconds()
		c.d.talk[c.iv] += s
		c.d.talkN[c.iv]++
		c.d.all = append(c.d.all, s)
		rec.Answered++
	}
	names := make([]string, 0, len(byDN))
	for k := range byDN {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return byDN[names[i]].firstOrder < byDN[names[j]].firstOrder })
	for _, name := range names {
		d := byDN[name]
		if name == "" {
			continue // a call with no dialed number cannot be routed again
		}
		tr := Traffic{DNIS: name, Calls: d.calls}
		if len(d.all) > 0 {
			mean, sd := meanSD(d.all)
			tr.TalkMeans = make([]Duration, n)
			for i := range d.talk {
				if d.talkN[i] > 0 {
					tr.TalkMeans[i] = Duration(time.Duration(d.talk[i] / float64(d.talkN[i]) * float64(time.Second)))
				}
			}
			talk := Dist{Kind: DistExponential, Mean: Duration(time.Duration(mean * float64(time.Second)))}
			if len(d.all) >= minTalkSamples && mean > 0 {
				talk = Dist{Kind: DistLognormal, Mean: talk.Mean, CV: sd / mean}
			}
			tr.Talk = &talk
		}
		if d.abandoned > 0 {
			tr.Patience = &Dist{Kind: DistExponential, Mean: Duration(time.Duration(d.queued / float64(d.abandoned) * float64(time.Second)))}
		}
		rec.Traffic = append(rec.Traffic, tr)
	}
	steps, err := ivrSteps(ctx, st, from, to.Add(DefaultDrain))
	if err != nil {
		return nil, err
	}
	keys := map[string]map[string]float64{}
	var scripts []string
	for _, s := range steps {
		if s.Source != "micro_app" || s.Script == "" {
			continue
		}
		if _, ok := calls[string(s.Call)]; !ok {
			continue
		}
		m := keys[s.Script]
		if m == nil {
			m = map[string]float64{}
			keys[s.Script] = m
			scripts = append(scripts, s.Script)
		}
		key := KeyError
		if s.Outcome != "error" {
			v, _ := url.ParseQuery(s.Input)
			key = v.Get("caller_input")
		}
		m[key]++
	}
	sort.Strings(scripts)
	for _, s := range scripts {
		rec.IVR = append(rec.IVR, IVRScript{VRUScript: s, Keys: keys[s]})
	}
	return rec, nil
}

// Apply puts the recorded day into s where s says nothing: its traffic
// (when s has none), and the key shares of VRU scripts s gives no keys for.
func (r *Recorded) Apply(s *Spec) {
	if len(s.Traffic) == 0 {
		s.Traffic = r.Traffic
	}
	for _, v := range r.IVR {
		found := false
		for i := range s.IVR {
			if s.IVR[i].VRUScript == v.VRUScript {
				found = true
				if len(s.IVR[i].Keys) == 0 {
					s.IVR[i].Keys = v.Keys
				}
			}
		}
		if !found {
			s.IVR = append(s.IVR, v)
		}
	}
}

func meanSD(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	if len(xs) > 1 {
		v /= float64(len(xs) - 1)
	}
	return m, math.Sqrt(v)
}

// tcds reads every TCD started in [from, to).
func tcds(ctx context.Context, st *report.Store, from, to time.Time) ([]report.TCD, error) {
	return readAll(ctx, from, to, "TCDs started", st.TCDs)
}

// ivrSteps reads every IVR step in [from, to).
func ivrSteps(ctx context.Context, st *report.Store, from, to time.Time) ([]report.IVRStep, error) {
	return readAll(ctx, from, to, "IVR steps", st.IVRSteps)
}

// readAll reads every row of a report query in [from, to), an hour at a
// time, halving a window that fills report's row limit.
func readAll[T any](ctx context.Context, from, to time.Time, what string,
	query func(context.Context, report.Filter) ([]T, error)) ([]T, error) {
	var out []T
	var read func(a, b time.Time) error
	read = func(a, b time.Time) error {
		rows, err := query(ctx, report.Filter{From: a, To: b, Limit: report.MaxLimit})
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		if len(rows) == report.MaxLimit {
			if b.Sub(a) <= time.Second {
				return fmt.Errorf("plan: more than %d %s within a second at %s", report.MaxLimit, what, a.Format(time.RFC3339))
			}
			mid := a.Add(b.Sub(a) / 2)
			if err := read(a, mid); err != nil {
				return err
			}
			return read(mid, b)
		}
		out = append(out, rows...)
		return nil
	}
	for a := from; a.Before(to); a = a.Add(time.Hour) {
		if err := read(a, minTime(a.Add(time.Hour), to)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Staffing reads how many agents were staffed in each interval (logged in
// and not in not ready: ready, on calls or in wrap-up), from the agent
// interval rows, as teams of the router document's agents grouped by
// their skill groups. An agent row of a longer store interval is spread
// over the plan intervals it covers.
func Staffing(ctx context.Context, st *report.Store, agents map[string][]string, from time.Time, iv time.Duration, n int) ([]Team, error) {
	to := from.Add(time.Duration(n) * iv)
	rows, err := st.Intervals(ctx, report.Filter{Kind: report.IntervalAgent, From: from.Add(-st.RecordConfig().Interval), To: to, Limit: report.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if len(rows) == report.MaxLimit {
		return nil, fmt.Errorf("plan: more than %d agent interval rows in the day", report.MaxLimit)
	}
	storeIv := st.RecordConfig().Interval
	byKey := map[string]*Team{}
	var order []string
	staffed := map[string][]float64{}
	for _, r := range rows {
		if r.States == nil {
			continue
		}
		groups, ok := agents[r.Name]
		if !ok || len(groups) == 0 {
			continue // no longer in the router document, or no skill group
		}
		key := fmt.Sprint(groups)
		if byKey[key] == nil {
			name := key[1 : len(key)-1]
			byKey[key] = &Team{Name: teamName(name), SkillGroups: groups}
			order = append(order, key)
			staffed[key] = make([]float64, n)
		}
		ns := float64(r.States.LoggedOnNS - r.States.NotReadyNS)
		a, b := r.Start, r.Start.Add(storeIv)
		for i := 0; i < n; i++ {
			ia, ib := from.Add(time.Duration(i)*iv), from.Add(time.Duration(i+1)*iv)
			lo, hi := maxTime(a, ia), minTime(b, ib)
			if hi.After(lo) {
				staffed[key][i] += ns * float64(hi.Sub(lo)) / float64(storeIv)
			}
		}
	}
	var teams []Team
	for _, k := range order {
		t := byKey[k]
		t.Agents = make([]int, n)
		for i, ns := range staffed[k] {
			t.Agents[i] = int(math.Round(ns / float64(iv)))
		}
		teams = append(teams, *t)
	}
	return teams, nil
}

// teamName makes a team name of skill group names ("sales support" →
// "sales+support").
func teamName(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == ' ' || c == '\t' || c == '/' {
			out[i] = '+'
		}
	}
	return string(out)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
