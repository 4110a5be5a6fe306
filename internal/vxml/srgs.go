package vxml

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// SRGS is a compiled SRGS 1.0 XML grammar (http://www.w3.org/TR/speech-grammar/).
// Without a speech recogniser, voice grammars are matched against the words of
// a text utterance and DTMF grammars against the keys, one token each.
type SRGS struct {
	Mode      string
	Root      string
	TagFormat string
	rules     map[string]*gnode

	// Compilation state for external rulerefs.
	prefix   string            // prefix of the rule ids being compiled
	base     string            // URI of the grammar being compiled
	load     GrammarLoader     // nil: external rulerefs are errors
	imported map[string]string // external grammar URI -> its root rule id
}

type gkind int

const (
	gSeq gkind = iota
	gAlt
	gToken
	gRef
	gTag
	gNull
	gVoid
	gGarbage
)

type gnode struct {
	kind     gkind
	children []*gnode
	token    string
	ref      string // rule id for a local ruleref
	min, max int    // repeat bounds; max -1 = unbounded
	tag      string
}

// maxMatchSteps bounds the backtracking matcher so that a pathological grammar
// (nested unbounded repeats) yields nomatch instead of consuming the CPU.
const maxMatchSteps = 200000

// GrammarLoader fetches and parses the grammar at an absolute URI, for
// rulerefs to external grammars.
type GrammarLoader func(uri string) (*Node, error)

// maxGrammarImports bounds how many external grammars one grammar may pull in.
const maxGrammarImports = 32

// ParseSRGS compiles an SRGS XML grammar element (the <grammar> root).
// defaultMode applies when the grammar has no mode attribute. External
// rulerefs are errors; use ParseSRGSWith to resolve them.
func ParseSRGS(g *Node, defaultMode string) (*SRGS, error) {
	return ParseSRGSWith(g, defaultMode, "", nil)
}

// ParseSRGSWith compiles a grammar whose rulerefs may name rules of other
// grammars (uri#rule, or uri for the other grammar's root), resolved against
// base and fetched with load. Imported rules are kept under "uri#id".
func ParseSRGSWith(g *Node, defaultMode, base string, load GrammarLoader) (*SRGS, error) {
	s := &SRGS{Mode: g.Attr("mode"), TagFormat: g.Attr("tag-format"), rules: map[string]*gnode{},
		base: base, load: load, imported: map[string]string{}}
	if s.Mode == "" {
		s.Mode = defaultMode
	}
	if s.Mode != "dtmf" && s.Mode != "voice" {
		return nil, fmt.Errorf("grammar %s: bad mode %q", g.Where(), s.Mode)
	}
	root, err := s.addRules(g)
	if err != nil {
		return nil, err
	}
	s.Root = root
	for id, body := range s.rules {
		if err := s.checkRefs(body); err != nil {
			return nil, fmt.Errorf("grammar rule %q: %w", id, err)
		}
	}
	return s, nil
}

// addRules compiles the rules of grammar g under the current prefix and
// returns its root rule's (prefixed) id.
func (s *SRGS) addRules(g *Node) (string, error) {
	root := g.Attr("root")
	for _, r := range g.ChildrenNamed("rule") {
		id := r.Attr("id")
		if id == "" {
			return "", fmt.Errorf("grammar %s: rule without id", r.Where())
		}
		if _, dup := s.rules[s.prefix+id]; dup {
			return "", fmt.Errorf("grammar %s: duplicate rule %q", r.Where(), id)
		}
		body, err := s.compileSeq(r, 0)
		if err != nil {
			return "", err
		}
		s.rules[s.prefix+id] = body
		if root == "" {
			root = id // no root attribute: take the first rule
		}
	}
	if len(g.ChildrenNamed("rule")) == 0 {
		// A grammar with inline text only (no rules) is a single phrase.
		body, err := s.compileSeq(g, 0)
		if err != nil {
			return "", err
		}
		root = "__root"
		s.rules[s.prefix+root] = body
	}
	if _, ok := s.rules[s.prefix+root]; !ok {
		return "", fmt.Errorf("grammar %s: root rule %q not defined", g.Where(), root)
	}
	return s.prefix + root, nil
}

// importRef compiles the external grammar a ruleref names and returns the
// rule id to reference.
func (s *SRGS) importRef(c *Node, uri string) (string, error) {
	if s.load == nil {
		return "", fmt.Errorf("grammar %s: external ruleref %q needs a loader", c.Where(), uri)
	}
	abs, err := ResolveURI(s.base, uri)
	if err == nil {
		err = checkScheme(s.base, abs)
	}
	if err != nil {
		return "", fmt.Errorf("grammar %s: %w", c.Where(), err)
	}
	key, frag := stripFragment(abs), fragment(abs)
	root, seen := s.imported[key]
	if !seen {
		if len(s.imported) >= maxGrammarImports {
			return "", fmt.Errorf("grammar %s: more than %d external grammars", c.Where(), maxGrammarImports)
		}
		s.imported[key] = "" // guards against import cycles
		g, err := s.load(key)
		if err != nil {
			return "", fmt.Errorf("grammar %s: ruleref %s: %w", c.Where(), uri, err)
		}
		prefix, base := s.prefix, s.base
		s.prefix, s.base = key+"#", key
		root, err = s.addRules(g)
		s.prefix, s.base = prefix, base
		if err != nil {
			return "", err
		}
		s.imported[key] = root
	}
	if frag != "" {
		return key + "#" + frag, nil
	}
	if root == "" {
		return "", fmt.Errorf("grammar %s: ruleref %s: recursive import of a root", c.Where(), uri)
	}
	return root, nil
}

func (s *SRGS) checkRefs(n *gnode) error {
	if n.kind == gRef {
		if _, ok := s.rules[n.ref]; !ok {
			return fmt.Errorf("ruleref to undefined rule %q", n.ref)
		}
	}
	for _, c := range n.children {
		if err := s.checkRefs(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *SRGS) compileSeq(parent *Node, depth int) (*gnode, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("grammar %s: nested too deep", parent.Where())
	}
	seq := &gnode{kind: gSeq, min: 1, max: 1}
	for _, c := range parent.Children {
		if c.IsText() {
			for _, w := range tokenize(s.Mode, c.Text) {
				seq.children = append(seq.children, &gnode{kind: gToken, token: w, min: 1, max: 1})
			}
			continue
		}
		n, err := s.compileElem(c, depth+1)
		if err != nil {
			return nil, err
		}
		if n != nil {
			seq.children = append(seq.children, n)
		}
	}
	return seq, nil
}

func (s *SRGS) compileElem(c *Node, depth int) (*gnode, error) {
	switch c.Name {
	case "item":
		n, err := s.compileSeq(c, depth)
		if err != nil {
			return nil, err
		}
		if rep := c.Attr("repeat"); rep != "" {
			n.min, n.max, err = parseRepeat(rep)
			if err != nil {
				return nil, fmt.Errorf("grammar %s: %w", c.Where(), err)
			}
		}
		return n, nil
	case "one-of":
		alt := &gnode{kind: gAlt, min: 1, max: 1}
		for _, it := range c.Elements() {
			n, err := s.compileElem(it, depth+1)
			if err != nil {
				return nil, err
			}
			if n != nil {
				alt.children = append(alt.children, n)
			}
		}
		return alt, nil
	case "ruleref":
		if sp := c.Attr("special"); sp != "" {
			switch sp {
			case "NULL":
				return &gnode{kind: gNull, min: 1, max: 1}, nil
			case "VOID":
				return &gnode{kind: gVoid, min: 1, max: 1}, nil
			case "GARBAGE":
				return &gnode{kind: gGarbage, min: 1, max: 1}, nil
			}
			return nil, fmt.Errorf("grammar %s: unknown special %q", c.Where(), sp)
		}
		uri := c.Attr("uri")
		if strings.HasPrefix(uri, "#") {
			return &gnode{kind: gRef, ref: s.prefix + uri[1:], min: 1, max: 1}, nil
		}
		// External grammars are compiled in once, here, rather than fetched
		// per match.
		ref, err := s.importRef(c, uri)
		if err != nil {
			return nil, err
		}
		return &gnode{kind: gRef, ref: ref, min: 1, max: 1}, nil
	case "tag":
		return &gnode{kind: gTag, tag: c.TextContent(), min: 1, max: 1}, nil
	case "token":
		return &gnode{kind: gToken, token: strings.ToLower(strings.TrimSpace(c.TextContent())), min: 1, max: 1}, nil
	case "example", "meta", "metadata", "lexicon":
		return nil, nil
	}
	return nil, fmt.Errorf("grammar %s: unknown element", c.Where())
}

func parseRepeat(rep string) (int, int, error) {
	lo, hi, rng := strings.Cut(rep, "-")
	min, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil || min < 0 {
		return 0, 0, fmt.Errorf("bad repeat %q", rep)
	}
	if !rng {
		return min, min, nil
	}
	if strings.TrimSpace(hi) == "" {
		return min, -1, nil
	}
	max, err := strconv.Atoi(strings.TrimSpace(hi))
	if err != nil || max < min {
		return 0, 0, fmt.Errorf("bad repeat %q", rep)
	}
	return min, max, nil
}

// trace events record one parse so its tags can be evaluated afterwards.
type tev struct {
	kind  byte // 'b' begin rule, 'e' end rule, 't' token, 'g' tag
	value string
}

type matcher struct {
	s       *SRGS
	toks    []string
	steps   int
	result  []tev
	partial bool // prefix mode: running out of input inside the grammar succeeds
	active  map[ruleAt]bool
	depth   int
}

// Match returns the first full parse of toks, with its semantic interpretation.
func (s *SRGS) Match(e *engine, toks []string) (*Result, error) {
	m := &matcher{s: s, toks: toks}
	ok := m.rule(s.Root, 0, nil, func(pos int, tr *trace) bool {
		if pos == len(toks) {
			m.result = tr.slice()
			return true
		}
		return false
	})
	if !ok {
		return nil, errNoMatch
	}
	interp, err := s.interpret(e, m.result)
	if err != nil {
		return nil, err
	}
	sep := " "
	if s.Mode == "dtmf" {
		sep = " "
	}
	return &Result{Utterance: strings.Join(toks, sep), Interp: interp, Mode: s.Mode}, nil
}

type cont func(pos int, tr *trace) bool

// trace is a persistent list of parse events, newest first: pushing is O(1)
// and alternatives share their common prefix.
type trace struct {
	ev   tev
	prev *trace
}

func push(tr *trace, ev tev) *trace { return &trace{ev: ev, prev: tr} }

func (t *trace) slice() []tev {
	var out []tev
	for x := t; x != nil; x = x.prev {
		out = append(out, x.ev)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// maxRuleDepth bounds rule nesting in one parse; deeper recursion cannot
// match input of any realistic length.
const maxRuleDepth = 100

func (m *matcher) rule(id string, pos int, tr *trace, k cont) bool {
	// SRGS forbids left recursion; entering a rule again at the same position
	// would never consume input, so that path fails (and cannot loop).
	key := ruleAt{id, pos}
	if m.active[key] || m.depth >= maxRuleDepth {
		return false
	}
	if m.active == nil {
		m.active = map[ruleAt]bool{}
	}
	m.active[key] = true
	m.depth++
	ok := m.node(m.s.rules[id], pos, push(tr, tev{'b', id}), func(p int, t *trace) bool {
		// Continuing after the rule: it is no longer being entered here.
		m.active[key] = false
		m.depth--
		r := k(p, push(t, tev{'e', id}))
		m.depth++
		m.active[key] = true
		return r
	})
	m.depth--
	delete(m.active, key)
	return ok
}

type ruleAt struct {
	id  string
	pos int
}

func (m *matcher) node(n *gnode, pos int, tr *trace, k cont) bool {
	m.steps++
	if m.steps > maxMatchSteps {
		return false
	}
	if n.min == 1 && n.max == 1 {
		return m.once(n, pos, tr, k)
	}
	var rep func(count, pos int, tr *trace) bool
	rep = func(count, pos int, tr *trace) bool {
		// Greedy: try one more repetition first, then stop if allowed.
		if n.max < 0 || count < n.max {
			if m.once(n, pos, tr, func(p int, t *trace) bool {
				if p == pos { // empty iteration: no progress, stop looping
					return false
				}
				return rep(count+1, p, t)
			}) {
				return true
			}
		}
		return count >= n.min && k(pos, tr)
	}
	return rep(0, pos, tr)
}

func (m *matcher) once(n *gnode, pos int, tr *trace, k cont) bool {
	switch n.kind {
	case gToken:
		if pos < len(m.toks) && m.toks[pos] == n.token {
			return k(pos+1, push(tr, tev{'t', n.token}))
		}
		return m.partial && pos == len(m.toks)
	case gTag:
		return k(pos, push(tr, tev{'g', n.tag}))
	case gNull:
		return k(pos, tr)
	case gVoid:
		return false
	case gGarbage:
		for p := pos; p <= len(m.toks); p++ {
			if k(p, tr) {
				return true
			}
		}
		return false
	case gRef:
		return m.rule(n.ref, pos, tr, k)
	case gAlt:
		for _, c := range n.children {
			if m.node(c, pos, tr, k) {
				return true
			}
		}
		return false
	default: // gSeq
		var step func(i, pos int, tr *trace) bool
		step = func(i, pos int, tr *trace) bool {
			if i == len(n.children) {
				return k(pos, tr)
			}
			return m.node(n.children[i], pos, tr, func(p int, t *trace) bool { return step(i+1, p, t) })
		}
		return step(0, pos, tr)
	}
}

// interpret evaluates the tags of one parse (SISR 1.0 subset): each rule has an
// `out` variable (also reachable as `$`), `rules.NAME` / `rules.latest()` hold
// the values of referenced rules, and a rule whose tags never set anything is
// worth its matched text. With tag-format semantics/1.0-literals, or when a
// script tag is a bare expression, the tag's value is the rule's value.
func (s *SRGS) interpret(e *engine, tr []tev) (any, error) {
	literal := strings.Contains(s.TagFormat, "literals")
	type frame struct {
		scope  *goja.Object
		words  []string
		set    bool
		latest goja.Value
	}
	rt := e.rt
	var stack []*frame
	var rootVal goja.Value
	for _, ev := range tr {
		switch ev.kind {
		case 'b':
			f := &frame{scope: rt.NewObject()}
			f.scope.Set("out", rt.NewObject())
			rules := rt.NewObject()
			f.scope.Set("rules", rules)
			ff := f
			rules.Set("latest", func() goja.Value {
				if ff.latest == nil {
					return goja.Undefined()
				}
				return ff.latest
			})
			// meta.current() and meta.NAME give the text matched so far by
			// this rule and by referenced rules (SISR 6.1.2).
			meta := rt.NewObject()
			meta.Set("current", func() *goja.Object {
				o := rt.NewObject()
				o.Set("text", strings.Join(ff.words, " "))
				o.Set("score", 1.0)
				return o
			})
			f.scope.Set("meta", meta)
			stack = append(stack, f)
		case 't':
			for _, f := range stack {
				f.words = append(f.words, ev.value)
			}
		case 'g':
			f := stack[len(stack)-1]
			if literal {
				f.scope.Set("out", strings.TrimSpace(ev.value))
				f.set = true
				continue
			}
			before := f.scope.Get("out")
			f.scope.Set("$", before)
			src := strings.TrimSpace(ev.value)
			if src == "" {
				continue
			}
			if names := declaredVars(src); len(names) > 0 {
				// VoiceXML 2.0-era grammars declare slots as tag variables
				// (<tag>var city='chicago';</tag>): they become properties of
				// the rule's value.
				if err := e.Exec(&Scope{Name: "tag", Obj: f.scope}, src); err != nil {
					return nil, fmt.Errorf("grammar tag %q: %w", src, err)
				}
				out, ok := f.scope.Get("out").(*goja.Object)
				if !ok {
					out = rt.NewObject()
					f.scope.Set("out", out)
				}
				for _, n := range names {
					out.Set(n, f.scope.Get(n))
				}
				f.set = true
				continue
			}
			rt.Set("__vxtag", f.scope)
			p, err := e.compile("(function(){with(__vxtag){return eval(" + strconv.Quote(src) + ");}})()")
			if err != nil {
				return nil, fmt.Errorf("grammar tag %q: %w", src, err)
			}
			v, err := e.run(p)
			if err != nil {
				return nil, fmt.Errorf("grammar tag %q: %w", src, err)
			}
			switch {
			case f.scope.Get("$") != before:
				f.scope.Set("out", f.scope.Get("$"))
			case f.scope.Get("out") != before:
			case bareExpression(src) && v != nil && !goja.IsUndefined(v):
				// <tag>'alpha'</tag>: the expression's value is the rule's.
				f.scope.Set("out", v)
			}
			f.set = true
		case 'e':
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var val goja.Value
			out := f.scope.Get("out")
			if o, isObj := out.(*goja.Object); f.set && (!isObj || len(o.Keys()) > 0) {
				val = out
			} else if f.set && isObj && len(o.Keys()) == 0 && !literal {
				// Tags ran but left out empty: the text is the most useful value.
				val = rt.ToValue(strings.Join(f.words, " "))
			} else {
				val = rt.ToValue(strings.Join(f.words, " "))
			}
			if len(stack) == 0 {
				rootVal = val
				continue
			}
			p := stack[len(stack)-1]
			name := ev.value
			if i := strings.LastIndexByte(name, '#'); i >= 0 {
				name = name[i+1:] // imported rules are known by their own id
			}
			p.scope.Get("rules").(*goja.Object).Set(name, val)
			m := rt.NewObject()
			m.Set("text", strings.Join(f.words, " "))
			m.Set("score", 1.0)
			p.scope.Get("meta").(*goja.Object).Set(name, m)
			p.latest = val
		}
	}
	if rootVal == nil {
		return "", nil
	}
	return rootVal.Export(), nil
}

// Phrases lists a few sentences the grammar accepts (for automatic callers and
// recogniser hints); it enumerates alternatives up to a small bound.
func (s *SRGS) Phrases(limit int) []string {
	var out []string
	var walk func(n *gnode, prefix []string, depth int, k func([]string))
	walk = func(n *gnode, prefix []string, depth int, k func([]string)) {
		if len(out) >= limit || depth > 50 {
			return
		}
		times := n.min
		if times == 0 && n.max != 0 {
			times = 1
		}
		var rep func(i int, p []string)
		rep = func(i int, p []string) {
			if i == times {
				k(p)
				return
			}
			s.walkOnce(n, p, depth, walk, func(q []string) { rep(i+1, q) })
		}
		rep(0, prefix)
	}
	walk(s.rules[s.Root], nil, 0, func(p []string) {
		if len(out) < limit {
			out = append(out, strings.Join(p, " "))
		}
	})
	return out
}

func (s *SRGS) walkOnce(n *gnode, p []string, depth int, walk func(*gnode, []string, int, func([]string)), k func([]string)) {
	switch n.kind {
	case gToken:
		k(append(append([]string{}, p...), n.token))
	case gRef:
		walk(s.rules[n.ref], p, depth+1, k)
	case gAlt:
		for _, c := range n.children {
			walk(c, p, depth+1, k)
		}
	case gSeq:
		var step func(i int, q []string)
		step = func(i int, q []string) {
			if i == len(n.children) {
				k(q)
				return
			}
			walk(n.children[i], q, depth+1, func(r []string) { step(i+1, r) })
		}
		step(0, p)
	case gVoid:
	default:
		k(p)
	}
}

// declaredVars lists the top-level var names a tag script declares.
func declaredVars(src string) []string {
	prog, err := parser.ParseFile(nil, "", src, 0)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range prog.DeclarationList {
		for _, b := range d.List {
			if id, ok := b.Target.(*ast.Identifier); ok {
				out = append(out, string(id.Name))
			}
		}
	}
	return out
}

// bareExpression reports whether a tag is a single non-assignment expression,
// as old-style tags like 'alpha' are.
func bareExpression(src string) bool {
	prog, err := parser.ParseFile(nil, "", src, 0)
	if err != nil || len(prog.Body) != 1 {
		return false
	}
	es, ok := prog.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return false
	}
	_, assign := es.Expression.(*ast.AssignExpression)
	return !assign
}
