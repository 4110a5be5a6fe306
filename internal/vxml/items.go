package vxml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Form items other than field and block, and menus.

// visitRecord is <record> (spec 2.3.6).
func (s *Session) visitRecord(fc *formCtx, it *formItem) error {
	n := it.node
	if err := s.queueItemPrompts(fc, it); err != nil {
		return err
	}
	req := RecordRequest{Beep: n.Attr("beep") == "true", DTMFTerm: n.Attr("dtmfterm") != "false", Type: n.Attr("type")}
	if req.Type == "" {
		req.Type = "audio/x-wav"
	}
	var err error
	if v := n.Attr("maxtime"); v != "" {
		if req.MaxTime, err = parseTime(v); err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
	}
	if v := n.Attr("finalsilence"); v != "" {
		if req.FinalSilence, err = parseTime(v); err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
	}
	if s.hungUp {
		return &ctlExit{reason: "hangup"}
	}
	p := s.prompts
	s.prompts = nil
	rec, err := s.cfg.Platform.Record(s.ctx, p, req)
	s.steps, s.e.spent = 0, 0
	if len(rec.Audio) > 0 {
		s.stepInput = strconv.FormatInt(rec.Duration.Milliseconds(), 10) + "ms"
	}
	if err != nil && !errors.Is(err, ErrHangup) {
		return fmt.Errorf("vxml: record: %w", err)
	}
	hangup := rec.Hangup || errors.Is(err, ErrHangup)
	if hangup {
		s.hungUp = true
	}
	if len(rec.Audio) == 0 {
		if hangup {
			s.hungUp = true
			return throw("connection.disconnect.hangup", "caller hung up")
		}
		return throw("noinput", "")
	}
	rt := s.e.rt
	if err := s.e.Declare(fc.scope, it.name, rt.ToValue(rt.NewArrayBuffer(rec.Audio))); err != nil {
		return semantic(n, err)
	}
	shadow := rt.NewObject()
	shadow.Set("duration", rec.Duration.Milliseconds())
	shadow.Set("size", len(rec.Audio))
	if rec.TermChar != "" {
		shadow.Set("termchar", rec.TermChar)
	} else {
		shadow.Set("termchar", goja.Null())
	}
	shadow.Set("maxtime", rec.MaxTime)
	s.e.Declare(fc.scope, it.name+"$", shadow)
	if err := s.runFilled(fc, map[string]bool{it.name: true}); err != nil {
		return err
	}
	if hangup {
		// The recording is kept and the hangup is reported after it (spec 2.3.6).
		return throw("connection.disconnect.hangup", "caller hung up during recording")
	}
	return nil
}

// visitTransfer is <transfer> (spec 2.3.7).
func (s *Session) visitTransfer(fc *formCtx, it *formItem) error {
	n := it.node
	if err := s.queueItemPrompts(fc, it); err != nil {
		return err
	}
	sc := s.e.NewScope("anonymous", fc.scope)
	dest, err := s.attrOrExpr(n, sc, "dest", "destexpr")
	if err != nil {
		return err
	}
	aai, err := s.attrOrExpr(n, sc, "aai", "aaiexpr")
	if err != nil {
		return err
	}
	req := TransferRequest{Dest: dest, AAI: aai, Bridge: n.Attr("bridge") == "true", Type: n.Attr("type")}
	if req.Type == "" {
		req.Type = "blind"
		if req.Bridge {
			req.Type = "bridge"
		}
	}
	req.Bridge = req.Type != "blind"
	if req.Type != "blind" && req.Type != "bridge" && req.Type != "consultation" {
		return throw("error.badfetch", "%s: transfer type %q", n.Where(), req.Type)
	}
	if dest == "" {
		return throw("error.connection.baddestination", "%s: no destination", n.Where())
	}
	if v := n.Attr("connecttimeout"); v != "" {
		if req.ConnectTimeout, err = parseTime(v); err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
	}
	if v := n.Attr("maxtime"); v != "" {
		if req.MaxTime, err = parseTime(v); err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
	}
	audio, err := s.attrOrExpr(n, sc, "transferaudio", "transferaudioexpr")
	if err != nil {
		return err
	}
	if audio != "" && req.Type != "blind" {
		if req.TransferAudio, err = s.resolve(fc, audio); err != nil {
			return throw("error.badfetch", "%s: transferaudio %q: %v", n.Where(), audio, err)
		}
	}
	gs, _, err := s.grammarsFor(fc, it)
	if err != nil {
		return err
	}
	if s.hungUp {
		return &ctlExit{reason: "hangup"}
	}
	p := s.prompts
	s.prompts = nil
	res, err := s.cfg.Platform.Transfer(s.ctx, p, req)
	s.steps, s.e.spent = 0, 0
	if err != nil && !errors.Is(err, ErrHangup) {
		// A platform that knows which error.connection.* it is (spec
		// 2.3.7.3: baddestination, noauthorization, noroute, noresource,
		// protocol.nnn) says so with an error that names its event.
		var te interface{ TransferEvent() string }
		if errors.As(err, &te) && strings.HasPrefix(te.TransferEvent(), "error.connection") {
			return throw(te.TransferEvent(), "%s: %v", n.Where(), err)
		}
		return throw("error.connection", "%s: %v", n.Where(), err)
	}
	if res.Hangup || errors.Is(err, ErrHangup) {
		s.hungUp = true
		return throw("connection.disconnect.hangup", "caller hung up during transfer")
	}
	status := res.Status
	s.stepInput = status
	var matched *Result
	if res.Input != nil && len(gs) > 0 {
		if r, _, merr := s.matchInput(gs, res.Input); merr == nil {
			matched, status = r, "near_end_disconnect"
		}
	}
	if req.Type != "bridge" && status == "" {
		// A blind or consultation transfer that went through ends the
		// session for us (spec 2.3.7.1; VoiceXML 2.1 §6: a consultation
		// is a bridge until the far end answers, then a blind transfer).
		return throw("connection.disconnect.transfer", "%s", dest)
	}
	if status == "" {
		status = "unknown"
	}
	rt := s.e.rt
	if err := s.e.Declare(fc.scope, it.name, rt.ToValue(status)); err != nil {
		return semantic(n, err)
	}
	shadow := rt.NewObject()
	shadow.Set("duration", res.Duration.Seconds())
	if matched != nil {
		shadow.Set("inputmode", matched.Mode)
		shadow.Set("utterance", matched.Utterance)
		s.setLastResult(matched)
	}
	s.e.Declare(fc.scope, it.name+"$", shadow)
	return s.runFilled(fc, map[string]bool{it.name: true})
}

// maxSubdialogDepth bounds subdialog nesting: each level holds an execution
// context and Go stack, and runaway recursion is a document bug.
const maxSubdialogDepth = 32

// visitSubdialog is <subdialog> (spec 2.3.4): the target runs in a new
// execution context; its <return> fills the item.
func (s *Session) visitSubdialog(fc *formCtx, it *formItem) error {
	n := it.node
	sc := s.e.NewScope("anonymous", fc.scope)
	src, err := s.attrOrExpr(n, sc, "src", "srcexpr")
	if err != nil {
		return err
	}
	if src == "" {
		return throw("error.badfetch", "%s: no src", n.Where())
	}
	params := map[string]goja.Value{}
	for _, p := range n.ChildrenNamed("param") {
		name := p.Attr("name")
		var v goja.Value
		if ex, ok := p.LookupAttr("expr"); ok {
			if v, err = s.e.Eval(sc, ex); err != nil {
				return semantic(p, err)
			}
		} else {
			v = s.e.rt.ToValue(p.Attr("value"))
		}
		params[name] = v
	}
	vals, files, err := s.encodeValues(sc, n.Attr("namelist"))
	if err != nil {
		return semantic(n, err)
	}
	var doc *document
	frag := ""
	if isSameDocRef(src) {
		doc, frag = fc.ec.doc, strings.TrimPrefix(strings.TrimSpace(src), "#")
	} else {
		uri, err := s.resolve(fc, src)
		if err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		method := strings.ToUpper(n.Attr("method"))
		req := s.fetchRequest(fc, n)
		req.Method, req.Values, req.Files, req.EncType = method, vals, files, n.Attr("enctype")
		doc, err = s.loadDocument(uri, req)
		if err != nil {
			return err
		}
		frag = fragment(uri)
	}
	if findDialog(doc.root, frag) == nil {
		return throw("error.badfetch", "%s: no dialog %q", n.Where(), frag)
	}
	if s.depth >= maxSubdialogDepth {
		return throw("error.noresource", "%s: subdialogs nested deeper than %d", n.Where(), maxSubdialogDepth)
	}
	sub, err := s.enterDocument(nil, doc, params, false)
	if err != nil {
		return err
	}
	s.depth++
	ret, err := s.runContext(sub, frag)
	s.depth--
	s.curApp = fc.ec.app.scope
	if err != nil {
		return err
	}
	if ret == nil {
		return &ctlExit{reason: "end"}
	}
	if ret.event != "" {
		return &ctlEvent{name: ret.event, msg: ret.msg}
	}
	obj := s.e.rt.NewObject()
	for _, k := range ret.order {
		obj.Set(k, ret.values[k])
	}
	if err := s.e.Declare(fc.scope, it.name, obj); err != nil {
		return semantic(n, err)
	}
	return s.runFilled(fc, map[string]bool{it.name: true})
}

// runMenu interprets a <menu> (spec 2.2) as a one-field form whose grammar is
// its choices.
func (s *Session) runMenu(ec *execCtx, menu *Node) error {
	fc := &formCtx{ec: ec, form: menu, counts: map[string]int{}}
	fc.scope = s.e.NewScope("dialog", ec.docScope)
	s.curApp = ec.app.scope
	ec.params = nil
	it := &formItem{node: menu, name: "_menu", counts: map[string]int{}}
	var choices []*Node
	var entries []choiceEntry
	var extra []*Grammar
	var extraChoice []int // choice index of each extra grammar
	auto := menu.Attr("dtmf") == "true"
	for i, c := range menu.ChildrenNamed("choice") {
		choices = append(choices, c)
		key := c.Attr("dtmf")
		if key == "" && auto && i < 9 {
			key = strconv.Itoa(i + 1)
		}
		phrase := collapse(c.TextContent())
		approx := c.Attr("accept") == "approximate" || (c.Attr("accept") == "" && menu.Attr("accept") == "approximate")
		entries = append(entries, choiceEntry{dtmf: key, phrase: strings.ToLower(phrase), approximate: approx, value: i})
		fc.enum = append(fc.enum, enumChoice{prompt: phrase, dtmf: key})
		for _, g := range c.ChildrenNamed("grammar") {
			cg, err := s.compileGrammar(fc, g)
			if err != nil {
				return err
			}
			extra = append(extra, cg)
			extraChoice = append(extraChoice, i)
		}
	}
	gs := append([]*Grammar{{Mode: "dtmf", choices: entries, Src: "menu"}, {Mode: "voice", choices: entries, Src: "menu"}}, extra...)
	base := len(gs)
	lgs, links, err := s.linkGrammars(fc, nil)
	if err != nil {
		return err
	}
	gs = append(gs, lgs...)
	for {
		if err := s.tick(); err != nil {
			return err
		}
		err := func() error {
			if err := s.queueItemPrompts(fc, it); err != nil {
				return err
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
			if gi >= base {
				return s.followLink(fc, links[gi-base])
			}
			idx := 0
			if gi < 2 {
				idx, _ = res.Interp.(int)
			} else {
				idx = extraChoice[gi-2]
			}
			return s.choose(fc, choices[idx])
		}()
		if err := s.process(fc, it, err); err != nil {
			return err
		}
	}
}

// choose carries out a selected <choice>: a transition or an event.
func (s *Session) choose(fc *formCtx, c *Node) error {
	sc := s.e.NewScope("anonymous", fc.scope)
	ev, err := s.attrOrExpr(c, sc, "event", "eventexpr")
	if err != nil {
		return err
	}
	if ev != "" {
		msg, err := s.attrOrExpr(c, sc, "message", "messageexpr")
		if err != nil {
			return err
		}
		return &ctlEvent{name: ev, msg: msg}
	}
	next, err := s.attrOrExpr(c, sc, "next", "expr")
	if err != nil {
		return err
	}
	if next == "" {
		return throw("error.badfetch", "%s: choice without next, expr or event", c.Where())
	}
	return s.gotoURI(fc, c, next, s.fetchRequest(fc, c))
}
