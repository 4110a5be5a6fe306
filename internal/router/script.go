package router

import (
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Script is a routing script: a graph of nodes starting at the one node of
// type start. Exits name other nodes by id.
type Script struct {
	Name  string `yaml:"name"`
	Nodes []Node `yaml:"nodes"`
}

// Node is one step of a routing script. Which fields apply depends on Type:
//
//	start            next
//	set              variable (pv1..pv10 or user.<ecc>), value (expression), next
//	if               expr (boolean, on call data), true, false
//	percent          branches: [{percent, next}] summing to 100
//	time             time_zone, windows: [{days, from, to, next}], holidays, holiday, next
//	run_vru_script   vru_script, params, label (network VRU), next, error
//	queue            skill_groups or precision_queue, priority (1 first), next, no_answer
//	wait             wait, next
//	select           skill_groups, none (no agent available)
//	label            labels, no_answer, busy, error (requery exits)
//	release          code, reason
//	callback         variable (where the number is; default the ANI), next (no number)
//	end
type Node struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"`
	Next string `yaml:"next"`

	Variable string `yaml:"variable"`
	Value    string `yaml:"value"`

	Expr  string `yaml:"expr"`
	True  string `yaml:"true"`
	False string `yaml:"false"`

	Branches []Branch `yaml:"branches"`

	TimeZone string   `yaml:"time_zone"`
	Windows  []Window `yaml:"windows"`
	Holidays []string `yaml:"holidays"`
	Holiday  string   `yaml:"holiday"`

	VRUScript string            `yaml:"vru_script"`
	Params    map[string]string `yaml:"params"`
	Label     string            `yaml:"label"`

	SkillGroups    []string `yaml:"skill_groups"`
	PrecisionQueue string   `yaml:"precision_queue"`
	Priority       int      `yaml:"priority"`
	// Rule is how a select node picks among its skill groups (ICM's
	// Select node): longest_available (default) takes the agent ready
	// longest across all of them; homing takes the first listed group
	// with a ready agent; rotary starts with the next group each time.
	Rule string `yaml:"rule"`

	Wait Duration `yaml:"wait"`
	None string   `yaml:"none"`

	Labels   []string `yaml:"labels"`
	NoAnswer string   `yaml:"no_answer"`
	Busy     string   `yaml:"busy"`
	Error    string   `yaml:"error"`

	Code   int    `yaml:"code"`
	Reason string `yaml:"reason"`
}

// Branch is one arm of a percent allocation node.
type Branch struct {
	Percent int    `yaml:"percent"`
	Next    string `yaml:"next"`
}

// Window is one arm of a time node: days of week and a time range.
type Window struct {
	Days []string `yaml:"days"` // mon..sun; empty means every day
	From string   `yaml:"from"` // HH:MM, inclusive
	To   string   `yaml:"to"`   // HH:MM, exclusive
	Next string   `yaml:"next"`
}

type nodeKind uint8

const (
	nStart nodeKind = iota
	nSet
	nIf
	nPercent
	nTime
	nVRU
	nQueue
	nWait
	nSelect
	nLabel
	nRelease
	nEnd
	nCallback
)

var nodeKinds = map[string]nodeKind{
	"start": nStart, "set": nSet, "if": nIf, "percent": nPercent, "time": nTime,
	"run_vru_script": nVRU, "queue": nQueue, "wait": nWait, "select": nSelect,
	"label": nLabel, "release": nRelease, "end": nEnd, "callback": nCallback,
}

// none marks an exit that is not set.
const none = -1

// cnode is a compiled node: exits resolved to indexes, expressions compiled.
type cnode struct {
	id   string
	kind nodeKind
	next int

	variable string
	value    *vm.Program
	cond     *vm.Program
	yes, no  int

	branches []cbranch

	loc      *time.Location
	windows  []cwindow
	holidays map[string]bool // YYYY-MM-DD in loc
	holiday  int

	vruScript string
	params    map[string]string
	label     string

	queues   []QueueName
	priority int
	rule     selectRule

	wait time.Duration
	none int

	labels                []string
	noAnswer, busy, error int

	code   int
	reason string
}

// selectRule is a select node's way of choosing among its skill groups.
type selectRule uint8

const (
	ruleLongestAvailable selectRule = iota
	ruleHoming
	ruleRotary
)

type cbranch struct {
	upTo int // cumulative percent
	next int
}

type cwindow struct {
	days     uint8 // bit per time.Weekday; 0x7f for every day
	from, to int   // minutes since midnight
	next     int
}

// compiledScript is one immutable version of a script. A call keeps a
// pointer to the version it started on, so a reload never changes the
// graph under a call in progress.
type compiledScript struct {
	name  string
	nodes []cnode
	start int
}

// callDataEnv is the shape of the environment script expressions see; it
// is given to the compiler so unknown names are refused at load.
func callDataEnv() map[string]any {
	env := map[string]any{
		"ani": "", "dnis": "", "call_type": "",
		"ecc":     map[string]string{},
		"headers": map[string]string{},
		"result":  map[string]string{},
	}
	for i := 1; i <= NumCallVars; i++ {
		env[fmt.Sprintf("pv%d", i)] = ""
	}
	return env
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

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

// compileScript turns a script into its graph, refusing missing references,
// exits with no target and unreachable nodes, each named by node and field.
func compileScript(s Script, queueExists func(string) (pq bool, ok bool), labels map[string]Label, ecc map[string]ECCVariable, p *problems) *compiledScript {
	base := "router.scripts[" + s.Name + "]"
	cs := &compiledScript{name: s.Name, start: none}
	index := make(map[string]int, len(s.Nodes))
	for i, n := range s.Nodes {
		path := fmt.Sprintf("%s.nodes[%d].id", base, i)
		switch {
		case n.ID == "":
			p.add(path, "a node needs an id")
		default:
			if _, dup := index[n.ID]; dup {
				p.add(path, "duplicate node id %q", n.ID)
			} else {
				index[n.ID] = i
			}
		}
		cs.nodes = append(cs.nodes, cnode{id: n.ID})
	}
	env := callDataEnv()
	for i, n := range s.Nodes {
		np := base + ".nodes[" + n.ID + "]"
		if n.ID == "" {
			np = fmt.Sprintf("%s.nodes[%d]", base, i)
		}
		cn := &cs.nodes[i]
		kind, ok := nodeKinds[n.Type]
		if !ok {
			p.add(np+".type", "unknown node type %q", n.Type)
			continue
		}
		cn.kind = kind
		// exit resolves a target; required exits must be set.
		exit := func(field, target string, required bool) int {
			if target == "" {
				if required {
					p.add(np+"."+field, "exit has no target")
				}
				return none
			}
			j, ok := index[target]
			if !ok {
				p.add(np+"."+field, "unknown node %q", target)
				return none
			}
			return j
		}
		compileExpr := func(field, src string, asBool bool) *vm.Program {
			if src == "" {
				p.add(np+"."+field, "an expression is needed")
				return nil
			}
			opts := []expr.Option{expr.Env(env)}
			if asBool {
				opts = append(opts, expr.AsBool())
			}
			prog, err := expr.Compile(src, opts...)
			if err != nil {
				p.add(np+"."+field, "%v", firstLine(err.Error()))
			}
			return prog
		}
		cn.next, cn.yes, cn.no, cn.none, cn.holiday = none, none, none, none, none
		cn.noAnswer, cn.busy, cn.error = none, none, none
		switch kind {
		case nStart:
			if cs.start != none {
				p.add(np+".type", "a second start node (the first is %q)", cs.nodes[cs.start].id)
			}
			cs.start = i
			cn.next = exit("next", n.Next, true)
		case nSet:
			cn.variable = n.Variable
			if !validVariable(n.Variable, ecc) {
				p.add(np+".variable", "unknown variable %q (want pv1..pv10 or a declared user. ECC variable)", n.Variable)
			}
			cn.value = compileExpr("value", n.Value, false)
			cn.next = exit("next", n.Next, true)
		case nIf:
			cn.cond = compileExpr("expr", n.Expr, true)
			cn.yes = exit("true", n.True, true)
			cn.no = exit("false", n.False, true)
		case nPercent:
			sum := 0
			if len(n.Branches) == 0 {
				p.add(np+".branches", "a percent node needs branches")
			}
			for j, b := range n.Branches {
				if b.Percent < 0 {
					p.add(fmt.Sprintf("%s.branches[%d].percent", np, j), "negative percent %d", b.Percent)
				}
				sum += b.Percent
				cn.branches = append(cn.branches, cbranch{upTo: sum, next: exit(fmt.Sprintf("branches[%d].next", j), b.Next, true)})
			}
			if len(n.Branches) > 0 && sum != 100 {
				p.add(np+".branches", "percents add up to %d, not 100", sum)
			}
		case nTime:
			loc, err := time.LoadLocation(n.TimeZone)
			if err != nil {
				p.add(np+".time_zone", "unknown time zone %q", n.TimeZone)
				loc = time.UTC
			}
			cn.loc = loc
			for j, w := range n.Windows {
				wp := fmt.Sprintf("%s.windows[%d]", np, j)
				cw := cwindow{next: exit(fmt.Sprintf("windows[%d].next", j), w.Next, true)}
				for _, d := range w.Days {
					wd, ok := weekdays[strings.ToLower(d)]
					if !ok {
						p.add(wp+".days", "unknown day %q (want mon..sun)", d)
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
					p.add(wp+".from", "bad time %q (want HH:MM)", w.From)
				}
				if !ok2 {
					p.add(wp+".to", "bad time %q (want HH:MM)", w.To)
				}
				if ok1 && ok2 && cw.from >= cw.to {
					p.add(wp+".to", "%s is not after %s", w.To, w.From)
				}
				cn.windows = append(cn.windows, cw)
			}
			cn.holidays = map[string]bool{}
			for j, h := range n.Holidays {
				if _, err := time.Parse(time.DateOnly, h); err != nil {
					p.add(fmt.Sprintf("%s.holidays[%d]", np, j), "bad date %q (want YYYY-MM-DD)", h)
				}
				cn.holidays[h] = true
			}
			cn.holiday = exit("holiday", n.Holiday, false)
			cn.next = exit("next", n.Next, true)
		case nVRU:
			if n.VRUScript == "" {
				p.add(np+".vru_script", "a run_vru_script node needs a vru_script")
			}
			cn.vruScript, cn.params = n.VRUScript, n.Params
			if n.Label != "" {
				if l, ok := labels[n.Label]; !ok || l.Kind != LabelNetworkVRU {
					p.add(np+".label", "%q is not a network_vru label", n.Label)
				}
			}
			cn.label = n.Label
			cn.next = exit("next", n.Next, true)
			cn.error = exit("error", n.Error, false)
		case nQueue, nSelect:
			if n.PrecisionQueue != "" && kind == nQueue {
				if pq, ok := queueExists(n.PrecisionQueue); !ok || !pq {
					p.add(np+".precision_queue", "unknown precision queue %q", n.PrecisionQueue)
				}
				cn.queues = append(cn.queues, QueueName(n.PrecisionQueue))
			}
			for j, sg := range n.SkillGroups {
				if pq, ok := queueExists(sg); !ok || pq {
					p.add(fmt.Sprintf("%s.skill_groups[%d]", np, j), "unknown skill group %q", sg)
				}
				cn.queues = append(cn.queues, QueueName(sg))
			}
			if len(cn.queues) == 0 {
				p.add(np+".skill_groups", "nothing to queue to (give skill_groups or precision_queue)")
			}
			if kind == nQueue && len(n.SkillGroups) > 0 && n.PrecisionQueue != "" {
				p.add(np+".precision_queue", "give skill_groups or precision_queue, not both")
			}
			cn.priority = n.Priority
			if cn.priority == 0 {
				cn.priority = defaultPrio
			}
			if cn.priority < minPriority || cn.priority > maxPriority {
				p.add(np+".priority", "priority %d out of range (1 first … 10 last)", n.Priority)
			}
			if kind == nQueue {
				cn.next = exit("next", n.Next, true)
				cn.noAnswer = exit("no_answer", n.NoAnswer, false)
			} else {
				cn.none = exit("none", n.None, true)
				cn.noAnswer = exit("no_answer", n.NoAnswer, false)
				switch n.Rule {
				case "", "longest_available":
					cn.rule = ruleLongestAvailable
				case "homing":
					cn.rule = ruleHoming
				case "rotary":
					cn.rule = ruleRotary
				default:
					p.add(np+".rule", "unknown select rule %q (want longest_available, homing or rotary)", n.Rule)
				}
			}
			if kind == nQueue && n.Rule != "" {
				p.add(np+".rule", "rule applies to select nodes only")
			}
		case nWait:
			if n.Wait <= 0 {
				p.add(np+".wait", "a wait node needs a positive wait")
			}
			cn.wait = n.Wait.D()
			cn.next = exit("next", n.Next, true)
		case nLabel:
			if len(n.Labels) == 0 {
				p.add(np+".labels", "a label node needs labels")
			}
			for j, l := range n.Labels {
				if _, ok := labels[l]; !ok {
					p.add(fmt.Sprintf("%s.labels[%d]", np, j), "unknown label %q", l)
				}
			}
			cn.labels = n.Labels
			cn.noAnswer = exit("no_answer", n.NoAnswer, false)
			cn.busy = exit("busy", n.Busy, false)
			cn.error = exit("error", n.Error, false)
		case nRelease:
			cn.code, cn.reason = n.Code, n.Reason
			if cn.code == 0 {
				cn.code, cn.reason = 480, "Temporarily Unavailable"
			}
			if cn.code < 400 || cn.code > 699 {
				p.add(np+".code", "release code %d is not a SIP failure status (400–699)", n.Code)
			}
		case nEnd:
		case nCallback:
			// A courtesy callback: the caller hangs up and keeps its place;
			// the number is the ANI or the call data named by variable.
			cn.variable = n.Variable
			if n.Variable != "" && !validVariable(n.Variable, ecc) {
				p.add(np+".variable", "unknown variable %q (want pv1..pv10 or a declared user. ECC variable)", n.Variable)
			}
			// next: where the script goes when there is no number to call.
			cn.next = exit("next", n.Next, false)
		}
	}
	if cs.start == none {
		p.add(base+".nodes", "no start node")
		return cs
	}
	// Reachability from start: a node nobody can reach is a mistake the
	// author should hear about at load, not a dead branch found in a year.
	seen := make([]bool, len(cs.nodes))
	stack := []int{cs.start}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i == none || seen[i] {
			continue
		}
		seen[i] = true
		n := &cs.nodes[i]
		stack = append(stack, n.next, n.yes, n.no, n.none, n.holiday, n.noAnswer, n.busy, n.error)
		for _, b := range n.branches {
			stack = append(stack, b.next)
		}
		for _, w := range n.windows {
			stack = append(stack, w.next)
		}
	}
	for i, ok := range seen {
		if !ok {
			p.add(base+".nodes["+cs.nodes[i].id+"]", "unreachable from the start node")
		}
	}
	return cs
}

func validVariable(v string, ecc map[string]ECCVariable) bool {
	if _, ok := callVarIndex(v); ok {
		return true
	}
	name, _, _ := strings.Cut(v, "[")
	_, ok := ecc[name]
	return ok
}

// callVarIndex maps pv1..pv10 to 0..9.
func callVarIndex(v string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(v, "pv%d", &n); err != nil || n < 1 || n > NumCallVars || v != fmt.Sprintf("pv%d", n) {
		return 0, false
	}
	return n - 1, true
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// pickWindow returns the exit a time node takes at now.
func (n *cnode) pickWindow(now time.Time) int {
	t := now.In(n.loc)
	if n.holidays[t.Format(time.DateOnly)] {
		if n.holiday != none {
			return n.holiday
		}
		return n.next
	}
	m := t.Hour()*60 + t.Minute()
	for _, w := range n.windows {
		if w.days&(1<<t.Weekday()) != 0 && m >= w.from && m < w.to {
			return w.next
		}
	}
	return n.next
}

// pickBranch returns the exit a percent node takes for r in [0,100).
func (n *cnode) pickBranch(r int) int {
	for _, b := range n.branches {
		if r < b.upTo {
			return b.next
		}
	}
	return n.branches[len(n.branches)-1].next
}
