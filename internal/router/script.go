package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Script is a routing script: a graph of nodes starting at the one node of
// type start. Exits name other nodes by id.
type Script struct {
	Name  string `yaml:"name"`
	Nodes []Node `yaml:"nodes"`
}

// Node is one step of a routing script, as written in YAML. Which fields
// apply depends on Type: each node kind is a file of this package
// (node_<type>.go) that states its fields in its row of the node table,
// checks them and says what the engine does at the node; NodeReference
// returns the table.
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

// nodeKind is one type of node: its compile and, through the op it
// compiles to, its run. Each kind is a file of this package registered
// with registerNode, so adding a node kind is adding a file (and its test)
// without touching the engine or the other kinds.
type nodeKind struct {
	// name is the node's type in YAML.
	name string
	// doc is the kind's row of the node table: the fields that apply and
	// what each is for.
	doc string
	// compile checks n (reporting problems through cx, each named by
	// node and field), resolves its exits through cx.exit into cn or its
	// op, and returns the op the engine runs at the node.
	compile func(cx *compileCtx, n *Node, cn *cnode) nodeOp
}

// nodeOp is a compiled node's own data and what the engine does at it. run
// is called with the engine's lock held and c.pc at the node: a node that
// moves on sets c.pc and returns false; a node that yields an instruction
// (a VRU script, an offer, a queue, a release) returns it and true. run
// never calls out of the engine.
type nodeOp interface {
	run(e *Engine, c *call, n *cnode) (Instruction, bool)
}

// nodeKinds are the node kinds by YAML type, filled by each node file's
// package variable (see registerNode); read-only once the package is
// initialised.
var nodeKinds = map[string]*nodeKind{}

// registerNode adds a node kind; a type registered twice is a programming
// error caught when the package loads.
func registerNode(k *nodeKind) *nodeKind {
	if _, dup := nodeKinds[k.name]; dup {
		panic("router: node type " + k.name + " registered twice")
	}
	if k.compile == nil {
		panic("router: node type " + k.name + " has no compile")
	}
	nodeKinds[k.name] = k
	return k
}

// nodeTypeList names the node types for an error message, in name order.
func nodeTypeList() string {
	names := make([]string, 0, len(nodeKinds))
	for name := range nodeKinds {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// NodeReference returns the node table of routing scripts, one line per
// node type in name order: the type and the fields that apply to it, as
// each node kind's file states them.
func NodeReference() string {
	names := make([]string, 0, len(nodeKinds))
	for name := range nodeKinds {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%-16s %s\n", name, nodeKinds[name].doc)
	}
	return b.String()
}

// none marks an exit that is not set.
const none = -1

// cnode is a compiled node: the parts the engine reads outside the node's
// own run, and the op that holds the rest.
type cnode struct {
	id   string
	kind *nodeKind
	// Exits the engine takes outside the node's run, none when unset:
	// next (snapshots find a VRU node by it), error (run_vru_script's
	// failure; a label's requery), noAnswer (a queue's exit after ring
	// no answer; a label's requery), busy (a label's requery).
	next, error, noAnswer, busy int
	// variable is the call variable the node names (set, callback).
	variable string
	// exits are all the node's exits, for the reachability check.
	exits []int
	op    nodeOp
}

// compiledScript is one immutable version of a script. A call keeps a
// pointer to the version it started on, so a reload never changes the
// graph under a call in progress.
type compiledScript struct {
	name  string
	nodes []cnode
	start int
}

// compileCtx is what a node kind's compile sees of the script being
// compiled: where to report problems, how to resolve exits and compile
// expressions, and the tables a node may refer to.
type compileCtx struct {
	p   *problems
	np  string // the node's path: router.scripts[s].nodes[id]
	cs  *compiledScript
	i   int // the node's index in cs.nodes
	cn  *cnode
	env map[string]any // call data, for expressions

	index       map[string]int
	queueExists func(name string) (pq bool, ok bool)
	labels      map[string]Label
	ecc         map[string]ECCVariable
}

// problem reports a problem with the node's field (a path relative to the
// node: "next", "branches[2].percent").
func (cx *compileCtx) problem(field, format string, args ...any) {
	cx.p.add(cx.np+"."+field, format, args...)
}

// exit resolves an exit's target to a node index, none when it is unset;
// a required exit must be set. Every resolved exit counts for
// reachability.
func (cx *compileCtx) exit(field, target string, required bool) int {
	if target == "" {
		if required {
			cx.problem(field, "exit has no target")
		}
		return none
	}
	j, ok := cx.index[target]
	if !ok {
		cx.problem(field, "unknown node %q", target)
		return none
	}
	cx.cn.exits = append(cx.cn.exits, j)
	return j
}

// expr compiles an expression over call data (boolean when asBool); a
// missing or bad one is reported, and the result is then nil.
func (cx *compileCtx) expr(field, src string, asBool bool) *vm.Program {
	if src == "" {
		cx.problem(field, "an expression is needed")
		return nil
	}
	opts := []expr.Option{expr.Env(cx.env)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		cx.problem(field, "%v", firstLine(err.Error()))
	}
	return prog
}

// variable checks a call variable a node names.
func (cx *compileCtx) variable(field, v string) {
	if !validVariable(v, cx.ecc) {
		cx.problem(field, "unknown variable %q (want pv1..pv10 or a declared user. ECC variable)", v)
	}
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

// compileScript turns a script into its graph, refusing missing references,
// exits with no target and unreachable nodes, each named by node and field.
// What a node checks is its kind's (node_<type>.go).
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
		cs.nodes = append(cs.nodes, cnode{id: n.ID, next: none, error: none, noAnswer: none, busy: none})
	}
	cx := &compileCtx{p: p, cs: cs, env: callDataEnv(), index: index, queueExists: queueExists, labels: labels, ecc: ecc}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		cx.np = base + ".nodes[" + n.ID + "]"
		if n.ID == "" {
			cx.np = fmt.Sprintf("%s.nodes[%d]", base, i)
		}
		cx.i, cx.cn = i, &cs.nodes[i]
		kind, ok := nodeKinds[n.Type]
		if !ok {
			cx.problem("type", "unknown node type %q (want one of %s)", n.Type, nodeTypeList())
			continue
		}
		cx.cn.kind = kind
		cx.cn.op = kind.compile(cx, n, cx.cn)
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
		if seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack, cs.nodes[i].exits...)
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
