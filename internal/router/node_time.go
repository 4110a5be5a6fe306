package router

import (
	"fmt"
	"strings"
	"time"
)

// time: ICM's Time of Day and Day of Week nodes in one; the first window
// that holds now (in the node's time zone) gives the exit, a listed
// holiday gives the holiday exit, and anything else next.
func init() {
	registerNode(&nodeKind{
		name: "time",
		doc:  "time_zone, windows: [{days, from, to, next}], holidays, holiday, next",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &timeOp{}
			loc, err := time.LoadLocation(n.TimeZone)
			if err != nil {
				cx.problem("time_zone", "unknown time zone %q", n.TimeZone)
				loc = time.UTC
			}
			op.loc = loc
			for j, w := range n.Windows {
				wp := fmt.Sprintf("windows[%d]", j)
				cw := cwindow{next: cx.exit(wp+".next", w.Next, true)}
				for _, d := range w.Days {
					wd, ok := weekdays[strings.ToLower(d)]
					if !ok {
						cx.problem(wp+".days", "unknown day %q (want mon..sun)", d)
					}
					cw.days |= 1 << wd
				}
				if len(w.Days) == 0 {
					cw.days = 0x7f
				}
				var ok1, ok2 bool
				cw.from, ok1 = parseHHMM(w.From)
				cw.to, ok2 = parseHHMM(w.To)
				if !ok1 {
					cx.problem(wp+".from", "bad time %q (want HH:MM)", w.From)
				}
				if !ok2 {
					cx.problem(wp+".to", "bad time %q (want HH:MM)", w.To)
				}
				if ok1 && ok2 && cw.from >= cw.to {
					cx.problem(wp+".to", "%s is not after %s", w.To, w.From)
				}
				op.windows = append(op.windows, cw)
			}
			op.holidays = map[string]bool{}
			for j, h := range n.Holidays {
				if _, err := time.Parse(time.DateOnly, h); err != nil {
					cx.problem(fmt.Sprintf("holidays[%d]", j), "bad date %q (want YYYY-MM-DD)", h)
				}
				op.holidays[h] = true
			}
			op.holiday = cx.exit("holiday", n.Holiday, false)
			cn.next = cx.exit("next", n.Next, true)
			op.next = cn.next
			return op
		},
	})
}

type timeOp struct {
	loc      *time.Location
	windows  []cwindow
	holidays map[string]bool // YYYY-MM-DD in loc
	holiday  int
	next     int
}

type cwindow struct {
	days     uint8 // bit per time.Weekday; 0x7f for every day
	from, to int   // minutes since midnight
	next     int
}

func (op *timeOp) run(e *Engine, c *call, _ *cnode) (Instruction, bool) {
	c.pc = op.pickWindow(e.now())
	return Instruction{}, false
}

// pickWindow returns the exit a time node takes at now.
func (op *timeOp) pickWindow(now time.Time) int {
	t := now.In(op.loc)
	if op.holidays[t.Format(time.DateOnly)] {
		if op.holiday != none {
			return op.holiday
		}
		return op.next
	}
	m := t.Hour()*60 + t.Minute()
	for _, w := range op.windows {
		if w.days&(1<<t.Weekday()) != 0 && m >= w.from && m < w.to {
			return w.next
		}
	}
	return op.next
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseHHMM reads a window bound; 24:00 is the end of the day.
func parseHHMM(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, true
		}
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}
