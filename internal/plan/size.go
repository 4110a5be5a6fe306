package plan

import (
	"fmt"

	"github.com/tandem-cc/tandem/internal/report"
)

// SizeOptions bound the search for the staffing by simulation.
type SizeOptions struct {
	// Reps is how many days (seeds Seed, Seed+1, ...) each candidate
	// staffing is simulated for; their calls are pooled per interval.
	Reps int
	// Rounds bounds the search (each round simulates Reps days).
	Rounds int
}

// Size answers "how many agents for the target in each interval" by
// simulation: for each team of one skill group it searches, interval by
// interval, the fewest agents whose simulated service level (pooled over
// Reps days) meets the plan's target, starting from Erlang A's answer
// and bisecting between the largest staffing seen to fail and the
// smallest seen to meet it. All intervals move together, round by round,
// so the calls an understaffed interval hands to the next are in every
// judgement. Teams of several skill groups keep their schedule (which of
// their groups they should be added to is not a question of one number).
// The result is Run's for the plan as given, with SimNeeded set on the
// rows of the sized groups (the sized team plus the group's other agents).
func Size(doc []byte, spec Spec, opt Options, so SizeOptions) (*Result, error) {
	if so.Reps <= 0 {
		so.Reps = 5
	}
	if so.Rounds <= 0 {
		so.Rounds = 16
	}
	base, err := Run(doc, spec, opt)
	if err != nil {
		return nil, err
	}
	spec = base.Spec
	if len(spec.Teams) == 0 {
		return nil, fmt.Errorf("plan: sizing by simulation needs teams in the plan (whose agents it can add and take away)")
	}
	nIv := spec.Intervals()
	type search struct {
		team, group string
		n, lo, hi   []int // candidate, largest failing (−1), smallest meeting (−1: none yet)
		others      []int // the group's agents of other teams
	}
	var sized []*search
	staffing := make([][]int, len(spec.Teams))
	for ti, t := range spec.Teams {
		staffing[ti] = make([]int, nIv)
		for iv := range staffing[ti] {
			staffing[ti][iv] = t.agentsAt(iv)
		}
		if len(t.SkillGroups) != 1 {
			sized = append(sized, nil)
			continue
		}
		g := t.SkillGroups[0]
		s := &search{team: t.Name, group: g, n: make([]int, nIv), lo: make([]int, nIv), hi: make([]int, nIv), others: make([]int, nIv)}
		for iv := 0; iv < nIv; iv++ {
			s.lo[iv], s.hi[iv] = -1, -1
			row := base.row(iv, g)
			if row == nil || row.Erlang == nil {
				// No calls planned for the group: nobody needed.
				s.n[iv], s.hi[iv] = 0, 0
				continue
			}
			s.others[iv] = max(0, row.Agents-t.agentsAt(iv))
			s.n[iv] = max(0, row.Erlang.ANeeded-s.others[iv])
		}
		sized = append(sized, s)
	}
	for round := 0; round < so.Rounds; round++ {
		open := false
		for ti, s := range sized {
			if s == nil {
				continue
			}
			copy(staffing[ti], s.n)
		}
		sl, err := pooledSL(doc, spec, opt, staffing, so.Reps)
		if err != nil {
			return nil, err
		}
		for _, s := range sized {
			if s == nil {
				continue
			}
			for iv := 0; iv < nIv; iv++ {
				if s.hi[iv] == 0 {
					continue
				}
				v, ok := sl[slKey{iv, s.group}]
				if !ok || v >= spec.SLTarget {
					s.hi[iv] = s.n[iv]
				} else {
					s.lo[iv] = s.n[iv]
				}
				switch {
				case s.hi[iv] >= 0 && s.hi[iv]-s.lo[iv] <= 1:
					s.n[iv] = s.hi[iv]
					continue
				case s.hi[iv] < 0:
					// Still failing: step up by a tenth, at least one.
					s.n[iv] = s.lo[iv] + max(1, s.lo[iv]/10)
				case s.lo[iv] < 0:
					s.n[iv] = s.hi[iv] - max(1, s.hi[iv]/10)
					if s.n[iv] < 0 {
						s.n[iv] = 0
					}
				default:
					s.n[iv] = (s.lo[iv] + s.hi[iv]) / 2
				}
				open = true
			}
		}
		if !open {
			break
		}
	}
	for _, s := range sized {
		if s == nil {
			continue
		}
		for iv := 0; iv < nIv; iv++ {
			if r := base.row(iv, s.group); r != nil && s.hi[iv] >= 0 {
				r.SimNeeded = s.hi[iv] + s.others[iv]
			}
		}
	}
	return base, nil
}

type slKey struct {
	iv    int
	queue string
}

// pooledSL runs reps days with the staffing and returns each interval's
// service level per queue, counters pooled over the days.
func pooledSL(doc []byte, spec Spec, opt Options, staffing [][]int, reps int) (map[slKey]float64, error) {
	sum := map[slKey]*report.Counters{}
	for r := 0; r < reps; r++ {
		o := opt
		o.Seed = opt.Seed + uint64(r)
		o.staffing = staffing
		res, err := Run(doc, spec, o)
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			if row.Queue == "" {
				continue
			}
			k := slKey{row.Interval, row.Queue}
			c := sum[k]
			if c == nil {
				c = &report.Counters{}
				sum[k] = c
			}
			c.Offered += row.Offered
			c.Handled += row.Handled
			c.SLOffered += row.SLOffered
			c.AnsweredInSL += row.AnsweredInSL
			c.AbandonedInSL += row.AbandonedInSL
		}
	}
	out := make(map[slKey]float64, len(sum))
	for k, c := range sum {
		if c.SLOffered == 0 {
			continue // no call counted: nothing to judge
		}
		out[k] = formulaOf(spec.SLFormula, c.Figures())
	}
	return out, nil
}

// row returns the row of interval iv and queue q.
func (r *Result) row(iv int, q string) *Row {
	for i := range r.Rows {
		if r.Rows[i].Interval == iv && r.Rows[i].Queue == q {
			return &r.Rows[i]
		}
	}
	return nil
}
