package vxml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// This file is the Form Interpretation Algorithm of VoiceXML 2.0 appendix C
// (https://www.w3.org/TR/voicexml20/#dmlAFIA). runForm is the main loop; each
// iteration is a select phase (selectItem, spec 2.1.6.2.1), a collect phase
// (visit, 2.1.6.2.2) and a process phase (process, 2.1.6.2.3).

// formCtx is the state of one form (or menu) being interpreted.
type formCtx struct {
	ec        *execCtx
	form      *Node // nil for events thrown outside any dialog
	scope     *Scope
	items     []*formItem
	counts    map[string]int // event counters for events outside an item
	nextItem  string         // set by <goto nextitem>
	noPrompts bool           // last iteration ended in a catch without <reprompt>
	grammars  []*Grammar     // form-level (dialog scope) grammars
	enum      []enumChoice   // choices <enumerate> lists (menu or option field)
}

// formItem is one form item with its counters (spec 2.1.6.1).
type formItem struct {
	node        *Node
	name        string
	promptCount int
	counts      map[string]int
}

var formItemNames = map[string]bool{
	"field": true, "block": true, "initial": true, "record": true,
	"subdialog": true, "transfer": true, "object": true,
}

var inputItemNames = map[string]bool{
	"field": true, "record": true, "subdialog": true, "transfer": true, "object": true,
}

// runForm interprets a <form>. It returns nil when the form runs out of items,
// or the transition / uncaught event that leaves it.
func (s *Session) runForm(ec *execCtx, form *Node) error {
	fc := &formCtx{ec: ec, form: form, counts: map[string]int{}}
	fc.scope = s.e.NewScope("dialog", ec.docScope)
	s.curApp = ec.app.scope
	params := ec.params
	ec.params = nil // params apply to the first dialog of a subdialog only
	// Initialisation phase (spec 2.1.6.1): form item variables and <var>s in
	// document order.
	initErr := func() error {
		n := 0
		for _, c := range form.Elements() {
			switch {
			case formItemNames[c.Name]:
				n++
				name := c.Attr("name")
				if name == "" {
					name = fmt.Sprintf("_item%d_%s", n, c.Name)
				}
				it := &formItem{node: c, name: name, counts: map[string]int{}}
				fc.items = append(fc.items, it)
				var v goja.Value = goja.Undefined()
				if ex := c.Attr("expr"); ex != "" {
					var err error
					if v, err = s.e.Eval(fc.scope, ex); err != nil {
						return semantic(c, err)
					}
				}
				if err := s.e.Declare(fc.scope, name, v); err != nil {
					return semantic(c, err)
				}
			case c.Name == "var" && params != nil:
				if v, ok := params[c.Attr("name")]; ok {
					if err := s.e.Declare(fc.scope, c.Attr("name"), v); err != nil {
						return semantic(c, err)
					}
					continue
				}
				if err := s.execOne(fc, c, fc.scope); err != nil {
					return err
				}
			case c.Name == "var" || c.Name == "script":
				if err := s.execOne(fc, c, fc.scope); err != nil {
					return err
				}
			case c.Name == "grammar":
				g, err := s.compileGrammar(fc, c)
				if err != nil {
					return err
				}
				if g != nil {
					fc.grammars = append(fc.grammars, g)
				}
			}
		}
		return nil
	}()
	if initErr != nil {
		if err := s.process(fc, nil, initErr); err != nil {
			return err
		}
	}
	if res := ec.pending; res != nil {
		ec.pending = nil
		if err := s.process(fc, nil, s.fillForm(fc, res)); err != nil {
			return err
		}
	}
	for {
		if err := s.tick(); err != nil {
			return err
		}
		it, err := s.selectItem(fc)
		if err != nil {
			if err = s.process(fc, nil, err); err != nil {
				return err
			}
			continue
		}
		if it == nil {
			return nil
		}
		if err := s.process(fc, it, s.visitObserved(fc, it)); err != nil {
			return err
		}
	}
}

// selectItem is the select phase: the item named by <goto nextitem>, else the
// first item in document order whose guard lets it run (spec 2.1.6.2.1).
func (s *Session) selectItem(fc *formCtx) (*formItem, error) {
	if fc.nextItem != "" {
		name := fc.nextItem
		fc.nextItem = ""
		for _, it := range fc.items {
			if it.name == name {
				return it, nil
			}
		}
		return nil, throw("error.badfetch", "goto nextitem: no form item %q", name)
	}
	for _, it := range fc.items {
		v := s.e.Lookup(fc.scope, it.name)
		if v != nil && !goja.IsUndefined(v) {
			continue
		}
		if c := it.node.Attr("cond"); c != "" {
			ok, err := s.e.EvalBool(fc.scope, c)
			if err != nil {
				return nil, semantic(it.node, err)
			}
			if !ok {
				continue
			}
		}
		return it, nil
	}
	return nil, nil
}

// process is the process phase for a visit's outcome: events go to their
// handlers (which may throw further events), <goto nextitem> and <reprompt>
// steer the next iteration, and transitions leave the form.
func (s *Session) process(fc *formCtx, it *formItem, err error) error {
	for err != nil {
		if terr := s.tick(); terr != nil {
			return terr
		}
		var ev *ctlEvent
		var ni *ctlNextItem
		var rp *ctlReprompt
		var un *ctlUncaught
		switch {
		case errors.As(err, &un):
			return err
		case errors.As(err, &ev):
			err = s.handleEvent(fc, it, ev)
			if err == nil {
				fc.noPrompts = true
			}
		case errors.As(err, &ni):
			fc.nextItem = ni.item
			fc.noPrompts = false
			return nil
		case errors.As(err, &rp):
			fc.noPrompts = false
			return nil
		default:
			return err
		}
	}
	return nil
}

// ctlUncaught ends the session on an event no handler caught (the platform
// default handler "exits the interpreter", spec 5.2.5).
type ctlUncaught struct{ ev *ctlEvent }

func (c *ctlUncaught) Error() string { return "uncaught " + c.ev.Error() }
func (c *ctlUncaught) Unwrap() error { return c.ev }

// handleEvent finds and runs the handler for ev (spec 5.2.4): candidates are
// gathered from the form item, the form, the document and the application
// root, innermost first; names must match as prefixes; the count must be at most
// the event's counter, the highest such count wins, then document order; cond
// must hold.
func (s *Session) handleEvent(fc *formCtx, it *formItem, ev *ctlEvent) error {
	s.log.Debug("vxml event", "event", ev.name, "message", ev.msg)
	s.emit(KindThrown, ev.name+": "+ev.msg, "")
	counts := fc.counts
	if it != nil {
		counts = it.counts
	}
	counts[ev.name]++
	count := counts[ev.name]

	type cand struct {
		n      *Node
		parent *Scope
	}
	var cands []cand
	add := func(holder *Node, parent *Scope) {
		if holder == nil {
			return
		}
		for _, c := range holder.Elements() {
			if names, ok := catchEvents(c); ok && eventMatches(names, ev.name) {
				cands = append(cands, cand{c, parent})
			}
		}
	}
	if it != nil {
		add(it.node, fc.scope)
	}
	if fc.form != nil {
		add(fc.form, fc.scope)
	}
	add(fc.ec.doc.root, fc.ec.docScope)
	if r := fc.ec.app.root; r != nil && r != fc.ec.doc {
		add(r.root, fc.ec.app.scope)
	}
	best, bestCount := -1, 0
	for i, c := range cands {
		n := 1
		if cs := c.n.Attr("count"); cs != "" {
			if v, err := strconv.Atoi(cs); err == nil && v > 0 {
				n = v
			}
		}
		if n > count || n <= bestCount {
			continue
		}
		if cond := c.n.Attr("cond"); cond != "" {
			ok, err := s.e.EvalBool(c.parent, cond)
			if err != nil || !ok {
				continue
			}
		}
		best, bestCount = i, n
	}
	if best < 0 {
		return s.defaultHandler(ev)
	}
	h := cands[best]
	sc := s.e.NewScope("anonymous", h.parent)
	sc.Obj.Set("_event", ev.name)
	sc.Obj.Set("_message", ev.msg)
	return s.exec(fc, h.n.Children, sc)
}

// defaultHandler is the platform's default catch (spec 5.2.5, table 44).
func (s *Session) defaultHandler(ev *ctlEvent) error {
	switch {
	case ev.name == "noinput" || ev.name == "nomatch" || ev.name == "help" ||
		strings.HasPrefix(ev.name, "noinput.") || strings.HasPrefix(ev.name, "nomatch.") ||
		ev.name == "maxspeechtimeout":
		return &ctlReprompt{}
	case ev.name == "cancel":
		return nil
	case ev.name == "exit":
		_ = s.flush()
		return &ctlExit{reason: "exit"}
	case strings.HasPrefix(ev.name, "connection.disconnect"):
		_ = s.flush()
		reason := "hangup"
		if ev.name == "connection.disconnect.transfer" {
			reason = "transfer"
		}
		return &ctlExit{reason: reason}
	}
	s.log.Info("vxml uncaught event", "event", ev.name, "message", ev.msg)
	_ = s.flush()
	return &ctlUncaught{ev: ev}
}

// visit is the collect phase for one item.
func (s *Session) visit(fc *formCtx, it *formItem) error {
	switch it.node.Name {
	case "block":
		if err := s.e.Declare(fc.scope, it.name, s.e.rt.ToValue(true)); err != nil {
			return semantic(it.node, err)
		}
		fc.noPrompts = false
		sc := s.e.NewScope("anonymous", fc.scope)
		return s.exec(fc, it.node.Children, sc)
	case "field", "initial":
		return s.collect(fc, it)
	case "record":
		return s.visitRecord(fc, it)
	case "transfer":
		return s.visitTransfer(fc, it)
	case "subdialog":
		return s.visitSubdialog(fc, it)
	case "object":
		return throw("error.unsupported.objecttype", "%s: type %q is not supported", it.node.Where(), it.node.Attr("type"))
	}
	return throw("error.badfetch", "%s: not a form item", it.node.Where())
}

// queueItemPrompts selects the item's prompts for its prompt counter (spec
// 4.1.6): among prompts whose cond holds, those with the highest count not above
// the counter.
func (s *Session) queueItemPrompts(fc *formCtx, it *formItem) error {
	if fc.noPrompts {
		fc.noPrompts = false
		return nil
	}
	it.promptCount++
	sc := s.e.NewScope("anonymous", fc.scope)
	type pc struct {
		n     *Node
		count int
	}
	var eligible []pc
	best := 0
	for _, c := range it.node.Elements() {
		if c.Name != "prompt" {
			continue
		}
		n := 1
		if cs := c.Attr("count"); cs != "" {
			if v, err := strconv.Atoi(cs); err == nil && v > 0 {
				n = v
			}
		}
		if n > it.promptCount {
			continue
		}
		if cond := c.Attr("cond"); cond != "" {
			ok, err := s.e.EvalBool(sc, cond)
			if err != nil {
				return semantic(c, err)
			}
			if !ok {
				continue
			}
		}
		eligible = append(eligible, pc{c, n})
		if n > best {
			best = n
		}
	}
	for _, p := range eligible {
		if p.count == best {
			if err := s.queuePrompt(fc, p.n, sc, it); err != nil {
				return err
			}
		}
	}
	return nil
}

// grammarsFor returns the grammars active while collecting for it: its own,
// then (unless modal) the form's (spec 3.1.4).
func (s *Session) grammarsFor(fc *formCtx, it *formItem) ([]*Grammar, int, error) {
	var gs []*Grammar
	n := it.node
	if n.Name == "field" {
		if t := n.Attr("type"); t != "" {
			for _, mode := range []string{"dtmf", "voice"} {
				g, err := ParseBuiltin(t, mode)
				if err != nil {
					return nil, 0, throw("error.unsupported.builtin", "%s: %v", n.Where(), err)
				}
				gs = append(gs, g)
			}
		}
		if opts := n.ChildrenNamed("option"); len(opts) > 0 {
			gs = append(gs, optionGrammars(opts)...)
		}
	}
	for _, c := range n.ChildrenNamed("grammar") {
		g, err := s.compileGrammar(fc, c)
		if err != nil {
			return nil, 0, err
		}
		if g != nil {
			gs = append(gs, g)
		}
	}
	own := len(gs)
	if n.Attr("modal") != "true" {
		gs = append(gs, fc.grammars...)
	}
	return gs, own, nil
}

// collect runs a <field> or <initial>: prompts, input, matching, filling.
func (s *Session) collect(fc *formCtx, it *formItem) error {
	fc.enum = nil
	for _, o := range it.node.ChildrenNamed("option") {
		fc.enum = append(fc.enum, enumChoice{prompt: collapse(o.TextContent()), dtmf: o.Attr("dtmf")})
	}
	if err := s.queueItemPrompts(fc, it); err != nil {
		return err
	}
	gs, own, err := s.grammarsFor(fc, it)
	if err != nil {
		return err
	}
	if it.node.Name == "initial" {
		own = 0 // <initial> has only form-level grammars
	}
	if len(gs) == 0 {
		return throw("error.semantic", "%s: no active grammar", it.node.Where())
	}
	// Links and other forms' document grammars rank below the item's and
	// form's own; a modal item hears only its own grammars (spec 2.3.1).
	base := len(gs)
	var links []*Node
	var dialogs []string
	if it.node.Attr("modal") != "true" {
		lgs, l, err := s.linkGrammars(fc, it)
		if err != nil {
			return err
		}
		gs, links = append(gs, lgs...), l
	}
	docBase := len(gs)
	if it.node.Attr("modal") != "true" {
		dgs, d, err := s.docGrammars(fc)
		if err != nil {
			return err
		}
		gs, dialogs = append(gs, dgs...), d
	}
	req, err := s.inputRequest(fc, it, gs)
	if err != nil {
		return err
	}
	in, err := s.getInput(req)
	if err != nil {
		return err
	}
	res, gi, err := s.matchInput(gs, in)
	if err != nil {
		return err
	}
	s.setLastResult(res)
	if gi >= docBase {
		// A document-scoped grammar of another form: go there and let
		// that form's FIA take the result (spec 3.1.3).
		fc.ec.pending = res
		return &ctlGoto{dialog: dialogs[gi-docBase]}
	}
	if gi >= base {
		return s.followLink(fc, links[gi-base])
	}
	if gi < own {
		if err := s.fillItem(fc, it, res, true); err != nil {
			return err
		}
		return s.runFilled(fc, map[string]bool{it.name: true})
	}
	return s.fillForm(fc, res)
}

// getInput plays the queue and waits for input, mapping hang-up and silence to
// their events.
func (s *Session) getInput(req InputRequest) (*Input, error) {
	if s.hungUp {
		return nil, &ctlExit{reason: "hangup"}
	}
	p := s.prompts
	s.prompts = nil
	in, err := s.cfg.Platform.Collect(s.ctx, p, req)
	s.steps, s.e.spent = 0, 0 // the caller was waited for: the document is not spinning
	if err != nil {
		if errors.Is(err, ErrHangup) {
			in.Kind = InputHangup
		} else {
			return nil, fmt.Errorf("vxml: collect: %w", err)
		}
	}
	s.lastMark = in.Mark
	s.stepInput = in.Value
	switch in.Kind {
	case InputHangup:
		s.hungUp = true
		return nil, throw("connection.disconnect.hangup", "caller hung up")
	case InputNoInput:
		return nil, throw("noinput", "")
	}
	return &in, nil
}

// matchInput returns the first grammar (in priority order) matching in, or
// matching the first of a recogniser's alternatives that any grammar
// matches; the other alternatives that match go to lastresult$ after it
// (maxnbest, spec 5.1.5).
func (s *Session) matchInput(gs []*Grammar, in *Input) (*Result, int, error) {
	mode := "dtmf"
	if in.Kind == InputVoice {
		mode = "voice"
	}
	var best *Result
	bestAt := 0
	for _, cand := range append([]Input{*in}, in.Alternatives...) {
		for i, g := range gs {
			r, err := g.Match(s.e, mode, cand.Value)
			if errors.Is(err, errNoMatch) {
				continue
			}
			if err != nil {
				return nil, 0, throw("error.semantic", "grammar %s: %v", g.Src, err)
			}
			r.Mode, r.Confidence = mode, cand.Confidence
			if mode == "dtmf" || r.Confidence == 0 && cand.Kind != InputVoice {
				r.Confidence = 1 // keys are what they are (spec 5.1.5)
			}
			if best == nil {
				best, bestAt = r, i
			} else {
				best.NBest = append(best.NBest, r)
			}
			break
		}
	}
	if best != nil {
		return best, bestAt, nil
	}
	s.setLastResult(&Result{Utterance: in.Value, Mode: mode, Confidence: in.Confidence})
	return nil, 0, throw("nomatch", "")
}

func (s *Session) resultObject(r *Result) *goja.Object {
	rt := s.e.rt
	o := rt.NewObject()
	o.Set("utterance", r.Utterance)
	o.Set("inputmode", r.Mode)
	o.Set("interpretation", rt.ToValue(r.Interp))
	o.Set("confidence", r.Confidence)
	if s.lastMark != "" {
		o.Set("markname", s.lastMark)
	}
	return o
}

// setLastResult sets application.lastresult$ (spec 5.1.5).
func (s *Session) setLastResult(r *Result) {
	rt := s.e.rt
	arr := rt.NewArray()
	if r != nil {
		o := s.resultObject(r)
		arr.Set("0", o)
		for _, k := range []string{"utterance", "inputmode", "interpretation", "confidence"} {
			arr.Set(k, o.Get(k))
		}
		for i, alt := range r.NBest {
			arr.Set(strconv.Itoa(i+1), s.resultObject(alt))
		}
	}
	// lastresult$ belongs to the application scope of the current context.
	if s.curApp != nil {
		s.curApp.Obj.Set("lastresult$", arr)
	}
}

// slotValue picks the part of an interpretation for a slot (spec 3.1.6.3).
func slotValue(interp any, slot string) (any, bool) {
	if m, ok := interp.(map[string]any); ok {
		v, ok := m[slot]
		return v, ok
	}
	return nil, false
}

// fillItem assigns a result to one input item and its shadow variables.
func (s *Session) fillItem(fc *formCtx, it *formItem, r *Result, whole bool) error {
	slot := it.node.Attr("slot")
	if slot == "" {
		slot = it.name
	}
	v, ok := slotValue(r.Interp, slot)
	if !ok {
		if !whole {
			return nil
		}
		v = r.Interp
	}
	if err := s.e.Declare(fc.scope, it.name, s.e.rt.ToValue(v)); err != nil {
		return semantic(it.node, err)
	}
	return s.e.Declare(fc.scope, it.name+"$", s.resultObject(r))
}

// fillForm fills items from a form-level grammar match (mixed initiative).
func (s *Session) fillForm(fc *formCtx, r *Result) error {
	just := map[string]bool{}
	for _, it := range fc.items {
		if !inputItemNames[it.node.Name] {
			continue
		}
		before := s.e.Lookup(fc.scope, it.name)
		if err := s.fillItem(fc, it, r, false); err != nil {
			return err
		}
		if after := s.e.Lookup(fc.scope, it.name); after != before {
			just[it.name] = true
		}
	}
	if len(just) == 0 {
		return throw("nomatch", "form grammar matched but filled no item")
	}
	// Once the form grammar has filled something, <initial> items are done.
	for _, it := range fc.items {
		if it.node.Name == "initial" {
			s.e.Declare(fc.scope, it.name, s.e.rt.ToValue(true))
		}
	}
	return s.runFilled(fc, just)
}

// runFilled executes the <filled> elements triggered by the items just filled,
// in document order (spec 2.4).
func (s *Session) runFilled(fc *formCtx, just map[string]bool) error {
	filled := func(name string) bool {
		v := s.e.Lookup(fc.scope, name)
		return v != nil && !goja.IsUndefined(v)
	}
	names := map[*Node]string{} // items without a name attribute have generated names
	for _, it := range fc.items {
		names[it.node] = it.name
	}
	for _, c := range fc.form.Elements() {
		var run []*Node
		if c.Name == "filled" {
			list := strings.Fields(c.Attr("namelist"))
			if len(list) == 0 {
				for _, it := range fc.items {
					if inputItemNames[it.node.Name] {
						list = append(list, it.name)
					}
				}
			}
			any, all := false, true
			for _, n := range list {
				any = any || just[n]
				all = all && filled(n)
			}
			if any && (all || c.Attr("mode") == "any") {
				run = append(run, c)
			}
		} else if formItemNames[c.Name] && just[names[c]] {
			run = append(run, c.ChildrenNamed("filled")...)
		}
		for _, f := range run {
			sc := s.e.NewScope("anonymous", fc.scope)
			if err := s.exec(fc, f.Children, sc); err != nil {
				return err
			}
		}
	}
	return nil
}

// property looks a property up from the item outward (spec 6.3).
func (s *Session) property(fc *formCtx, it *formItem, name string) string {
	find := func(n *Node) (string, bool) {
		if n == nil {
			return "", false
		}
		v, ok := "", false
		for _, c := range n.ChildrenNamed("property") {
			if c.Attr("name") == name {
				v, ok = c.Attr("value"), true
			}
		}
		return v, ok
	}
	if it != nil {
		if v, ok := find(it.node); ok {
			return v
		}
	}
	if fc != nil && fc.form != nil {
		if v, ok := find(fc.form); ok {
			return v
		}
	}
	if fc != nil {
		if v, ok := find(fc.ec.doc.root); ok {
			return v
		}
		if r := fc.ec.app.root; r != nil {
			if v, ok := find(r.root); ok {
				return v
			}
		}
	}
	return defaultProps[name]
}

// defaultProps are the platform defaults (spec 6.3); the timeouts follow
// common gateway practice.
var defaultProps = map[string]string{
	"timeout":           "5s",
	"interdigittimeout": "3s",
	"termtimeout":       "0s",
	"termchar":          "#",
	"inputmodes":        "dtmf voice",
	"bargein":           "true",
	"bargeintype":       "speech",
	"fetchtimeout":      "30s",
	"completetimeout":   "1s",
	"incompletetimeout": "2s",
	"maxspeechtimeout":  "60s",
}

// platformProps are the properties a recogniser or DTMF collector may use
// beyond the timing fields of InputRequest (spec 6.3.2, 6.3.3).
var platformProps = []string{"confidencelevel", "sensitivity", "speedvsaccuracy", "completetimeout",
	"incompletetimeout", "maxspeechtimeout", "bargeintype", "universals", "maxnbest"}

// parseTime parses a CSS2 time designation ("5s", "300ms").
func parseTime(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if ms, ok := strings.CutSuffix(v, "ms"); ok {
		f, err := strconv.ParseFloat(ms, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("bad time %q", v)
		}
		return time.Duration(f * float64(time.Millisecond)), nil
	}
	if sec, ok := strings.CutSuffix(v, "s"); ok {
		f, err := strconv.ParseFloat(sec, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("bad time %q", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("bad time %q", v)
}

func (s *Session) inputRequest(fc *formCtx, it *formItem, gs []*Grammar) (InputRequest, error) {
	var req InputRequest
	modes := s.property(fc, it, "inputmodes")
	req.DTMF = strings.Contains(modes, "dtmf")
	req.Voice = strings.Contains(modes, "voice")
	var err error
	tm := func(name string) time.Duration {
		d, e := parseTime(s.property(fc, it, name))
		if e != nil && err == nil {
			err = throw("error.semantic", "property %s: %v", name, e)
		}
		return d
	}
	req.Timeout = tm("timeout")
	req.InterDigitTimeout = tm("interdigittimeout")
	req.TermTimeout = tm("termtimeout")
	// The last queued prompt's timeout attribute overrides the property.
	for i := len(s.prompts) - 1; i >= 0; i-- {
		if s.prompts[i].Timeout > 0 {
			req.Timeout = s.prompts[i].Timeout
			break
		}
	}
	req.TermChar = s.property(fc, it, "termchar")
	req.Properties = map[string]string{}
	for _, name := range platformProps {
		if v := s.property(fc, it, name); v != "" {
			req.Properties[name] = v
		}
	}
	req.DTMFState = func(keys string) DTMFState { return DTMFStateOf(gs, keys) }
	for _, g := range gs {
		if g.Mode == "dtmf" {
			if m := g.MaxDigits(); m > req.MaxDigits {
				req.MaxDigits = m
			}
		}
		if g.Mode == "voice" && g.srgs != nil {
			req.Phrases = append(req.Phrases, g.srgs.Phrases(8)...)
		}
		if sg, ok := g.Speech(); ok {
			req.Grammars = append(req.Grammars, sg)
		}
	}
	return req, err
}
