package vxml

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Executable content (spec 5.3). Each element returns nil to continue with the
// next one, or a control value / event that unwinds to the FIA.

// exec runs a sequence of executable elements in scope sc. Text and
// prompt-like elements directly inside (block, filled, catch) are prompts.
func (s *Session) exec(fc *formCtx, nodes []*Node, sc *Scope) error {
	// Runs of bare prompt content (text, <value>, <audio>...) between other
	// elements form one implicit prompt, so "You said <value/>." is one
	// utterance rather than three.
	var run []*Node
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		p := &Node{Name: "prompt", Children: run, Parent: run[0].Parent, Line: run[0].Line}
		run = nil
		items, err := s.render(fc, p, sc, s.bargein(fc, nil, p))
		if err != nil {
			return err
		}
		s.prompts = append(s.prompts, items...)
		return nil
	}
	for _, n := range nodes {
		if n.IsText() || inlinePrompt[n.Name] {
			run = append(run, n)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := s.execOne(fc, n, sc); err != nil {
			return err
		}
	}
	return flush()
}

// inlinePrompt lists the elements that are prompt content when they appear
// directly in executable content (spec 4.1: bare content is an implicit prompt).
var inlinePrompt = map[string]bool{
	"audio": true, "value": true, "enumerate": true, "break": true, "mark": true, "emphasis": true,
	"say-as": true, "p": true, "s": true, "paragraph": true, "sentence": true, "prosody": true,
	"voice": true, "sub": true, "phoneme": true,
}

func (s *Session) execOne(fc *formCtx, n *Node, sc *Scope) error {
	if n.IsText() {
		if strings.TrimSpace(n.Text) == "" {
			return nil
		}
		s.prompts = append(s.prompts, PromptItem{Text: collapse(n.Text), Bargein: true})
		return nil
	}
	switch n.Name {
	case "var":
		name := n.Attr("name")
		var v goja.Value = goja.Undefined()
		if ex := n.Attr("expr"); ex != "" {
			var err error
			if v, err = s.e.Eval(sc, ex); err != nil {
				return semantic(n, err)
			}
		}
		if err := s.e.Declare(sc, name, v); err != nil {
			return semantic(n, err)
		}
	case "assign":
		v, err := s.e.Eval(sc, n.Attr("expr"))
		if err != nil {
			return semantic(n, err)
		}
		if err := s.e.Assign(sc, n.Attr("name"), v); err != nil {
			return semantic(n, err)
		}
	case "script":
		return s.execScript(fc, n, sc)
	case "clear":
		return s.execClear(fc, n, sc)
	case "if":
		return s.execIf(fc, n, sc)
	case "goto":
		return s.execGoto(fc, n, sc)
	case "submit":
		return s.execSubmit(fc, n, sc)
	case "return":
		return s.execReturn(n, sc)
	case "throw":
		name, err := s.attrOrExpr(n, sc, "event", "eventexpr")
		if err != nil {
			return err
		}
		if name == "" {
			return throw("error.badfetch", "%s: no event", n.Where())
		}
		msg, err := s.attrOrExpr(n, sc, "message", "messageexpr")
		if err != nil {
			return err
		}
		return &ctlEvent{name: name, msg: msg}
	case "reprompt":
		return &ctlReprompt{}
	case "exit":
		var v goja.Value
		if ex := n.Attr("expr"); ex != "" {
			var err error
			if v, err = s.e.Eval(sc, ex); err != nil {
				return semantic(n, err)
			}
		} else if nl := n.Attr("namelist"); nl != "" {
			o := s.e.rt.NewObject()
			for _, name := range strings.Fields(nl) {
				val, err := s.e.Eval(sc, name)
				if err != nil {
					return semantic(n, err)
				}
				o.Set(name, val)
			}
			v = o
		}
		if err := s.flush(); err != nil {
			return err
		}
		return &ctlExit{value: v, reason: "exit"}
	case "disconnect":
		if err := s.flush(); err != nil {
			return err
		}
		if !s.hungUp {
			if err := s.cfg.Platform.Disconnect(s.ctx, "disconnect element"); err != nil && !errors.Is(err, ErrHangup) {
				return fmt.Errorf("vxml: disconnect: %w", err)
			}
		}
		s.hungUp = true
		return throw("connection.disconnect.hangup", "<disconnect>")
	case "log":
		text, err := s.renderText(fc, n, sc)
		if err != nil {
			return err
		}
		label := n.Attr("label")
		if ex := n.Attr("expr"); ex != "" {
			v, err := s.e.EvalString(sc, ex)
			if err != nil {
				return semantic(n, err)
			}
			text += v
		}
		s.cfg.Platform.Log(label, strings.TrimSpace(text))
		s.log.Debug("vxml log", "label", label, "text", strings.TrimSpace(text))
	case "prompt":
		if c := n.Attr("cond"); c != "" {
			ok, err := s.e.EvalBool(sc, c)
			if err != nil {
				return semantic(n, err)
			}
			if !ok {
				return nil
			}
		}
		return s.queuePrompt(fc, n, sc, nil)
	case "audio", "value", "enumerate", "break", "mark", "emphasis", "say-as", "p", "s",
		"paragraph", "sentence", "prosody", "voice", "sub", "phoneme":
		// Prompt content outside <prompt> is an implicit prompt (spec 4.1).
		items, err := s.render(fc, &Node{Name: "prompt", Children: []*Node{n}, Parent: n.Parent, Line: n.Line}, sc, s.bargein(fc, nil, n))
		if err != nil {
			return err
		}
		s.prompts = append(s.prompts, items...)
	case "foreach":
		return s.execForeach(fc, n, sc)
	case "data":
		return s.execData(fc, n, sc)
	case "cancel", "meta", "metadata", "property", "grammar", "catch", "error", "noinput",
		"nomatch", "help", "filled", "param":
		// Not executable, or handled by their parent.
	default:
		if n.Space != "" && n.Space != vxmlNS {
			return nil // foreign-namespace extensions are ignored, as in validate
		}
		return throw("error.badfetch", "%s is not executable content", n.Where())
	}
	return nil
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// attrOrExpr reads an attribute pair like event/eventexpr; having both is an
// error.badfetch (spec 5.3.x "exactly one of").
func (s *Session) attrOrExpr(n *Node, sc *Scope, attr, expr string) (string, error) {
	a, hasA := n.LookupAttr(attr)
	e, hasE := n.LookupAttr(expr)
	if hasA && hasE {
		return "", throw("error.badfetch", "%s: both %s and %s", n.Where(), attr, expr)
	}
	if hasE {
		v, err := s.e.EvalString(sc, e)
		if err != nil {
			return "", semantic(n, err)
		}
		return v, nil
	}
	return a, nil
}

func (s *Session) execIf(fc *formCtx, n *Node, sc *Scope) error {
	ok, err := s.e.EvalBool(sc, n.Attr("cond"))
	if err != nil {
		return semantic(n, err)
	}
	var branch []*Node
	taken := ok
	for _, c := range n.Children {
		switch c.Name {
		case "elseif":
			if taken {
				return s.exec(fc, branch, sc)
			}
			ok, err := s.e.EvalBool(sc, c.Attr("cond"))
			if err != nil {
				return semantic(c, err)
			}
			taken = ok
			continue
		case "else":
			if taken {
				return s.exec(fc, branch, sc)
			}
			taken = true
			continue
		}
		if taken {
			branch = append(branch, c)
		}
	}
	if taken {
		return s.exec(fc, branch, sc)
	}
	return nil
}

func (s *Session) execScript(fc *formCtx, n *Node, sc *Scope) error {
	src, err := s.attrOrExpr(n, sc, "src", "srcexpr")
	if err != nil {
		return err
	}
	code := n.TextContent()
	if src != "" {
		if strings.TrimSpace(code) != "" {
			return throw("error.badfetch", "%s: both src and inline content", n.Where())
		}
		uri, err := s.resolve(fc, src)
		if err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		req := s.fetchRequest(fc, n)
		req.URI = uri
		res, err := s.cfg.Fetcher.Fetch(s.ctx, req)
		if err != nil {
			return fetchEvent(err)
		}
		code = string(res.Body)
	}
	if err := s.e.Exec(sc, code); err != nil {
		return semantic(n, err)
	}
	return nil
}

// resolve resolves a reference against the current document's base.
func (s *Session) resolve(fc *formCtx, ref string) (string, error) {
	if fc == nil || fc.ec == nil {
		return ref, nil
	}
	return fc.ec.resolve(ref)
}

// fetchRequest builds the fetch attributes for element n: fetchtimeout,
// maxage and maxstale from its attributes or the matching properties
// (documentmaxage, scriptmaxage, grammarmaxage, datamaxage; spec 6.1.1, 6.3.5).
func (s *Session) fetchRequest(fc *formCtx, n *Node) FetchRequest {
	req := FetchRequest{Timeout: s.fetchTimeout(fc, n), MaxAge: -1, MaxStale: -1}
	kind := "document"
	switch n.Name {
	case "script", "grammar", "data", "audio":
		kind = n.Name
	}
	get := func(attr string) time.Duration {
		v := n.Attr(attr)
		if v == "" && fc != nil {
			v = s.property(fc, nil, kind+attr)
		}
		if v == "" {
			return -1
		}
		// maxage/maxstale are integer seconds (HTTP/1.1 semantics).
		sec, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || sec < 0 {
			return -1
		}
		return time.Duration(sec) * time.Second
	}
	req.MaxAge, req.MaxStale = get("maxage"), get("maxstale")
	return req
}

func (s *Session) fetchTimeout(fc *formCtx, n *Node) time.Duration {
	v := n.Attr("fetchtimeout")
	if v == "" {
		v = s.property(fc, nil, "fetchtimeout")
	}
	d, err := parseTime(v)
	if err != nil || d <= 0 {
		return 30 * time.Second
	}
	return d
}

func (s *Session) execClear(fc *formCtx, n *Node, sc *Scope) error {
	names := strings.Fields(n.Attr("namelist"))
	if len(names) == 0 && fc != nil {
		for _, it := range fc.items {
			names = append(names, it.name)
		}
	}
	for _, name := range names {
		if err := s.e.Assign(sc, name, goja.Undefined()); err != nil {
			return semantic(n, err)
		}
		if fc == nil {
			continue
		}
		for _, it := range fc.items {
			if it.name == name { // clearing an item resets its counters (spec 5.3.3)
				it.promptCount = 0
				it.counts = map[string]int{}
			}
		}
	}
	return nil
}

func (s *Session) execGoto(fc *formCtx, n *Node, sc *Scope) error {
	item, err := s.attrOrExpr(n, sc, "nextitem", "expritem")
	if err != nil {
		return err
	}
	next, err := s.attrOrExpr(n, sc, "next", "expr")
	if err != nil {
		return err
	}
	if item != "" {
		if next != "" {
			return throw("error.badfetch", "%s: both a dialog/document and an item", n.Where())
		}
		if fc == nil || fc.form == nil {
			return throw("error.badfetch", "%s: nextitem outside a form", n.Where())
		}
		for _, it := range fc.items {
			if it.name == item {
				return &ctlNextItem{item: item}
			}
		}
		return throw("error.badfetch", "%s: no form item %q", n.Where(), item)
	}
	if next == "" {
		return throw("error.badfetch", "%s: no target", n.Where())
	}
	return s.gotoURI(fc, n, next, s.fetchRequest(fc, n))
}

// gotoURI transitions to a dialog (#id) or fetches another document. A fetch
// failure is error.badfetch thrown here, in the document that asked.
func (s *Session) gotoURI(fc *formCtx, n *Node, ref string, req FetchRequest) error {
	if isSameDocRef(ref) && len(req.Values) == 0 {
		id := strings.TrimPrefix(strings.TrimSpace(ref), "#")
		if findDialog(fc.ec.doc.root, id) == nil {
			return throw("error.badfetch", "%s: no dialog %q in this document", n.Where(), id)
		}
		return &ctlGoto{dialog: id}
	}
	uri, err := s.resolve(fc, ref)
	if err != nil {
		return throw("error.badfetch", "%s: %v", n.Where(), err)
	}
	if err := s.flush(); err != nil {
		return err
	}
	doc, err := s.loadDocument(uri, req)
	if err != nil {
		return err
	}
	frag := fragment(uri)
	if frag != "" && findDialog(doc.root, frag) == nil {
		return throw("error.badfetch", "%s: no dialog %q in %s", n.Where(), frag, doc.uri)
	}
	// A new application root is fetched here too, so that its failure is
	// thrown in the document that asked for the transition (spec 5.2.6).
	if doc.appURI != "" && doc.appURI != fc.ec.app.uri && doc.appURI != fc.ec.doc.uri {
		root, err := s.loadDocument(doc.appURI, s.fetchRequest(fc, n))
		if err != nil {
			return err
		}
		if root.appURI != "" {
			return throw("error.badfetch", "%s: application root %s names its own root", n.Where(), root.uri)
		}
		doc.root0 = root
	}
	return &ctlGoto{doc: doc, dialog: frag}
}

func (s *Session) execSubmit(fc *formCtx, n *Node, sc *Scope) error {
	next, err := s.attrOrExpr(n, sc, "next", "expr")
	if err != nil {
		return err
	}
	if next == "" {
		return throw("error.badfetch", "%s: no target", n.Where())
	}
	names := n.Attr("namelist")
	if names == "" && fc != nil && fc.form != nil {
		// Default namelist: every input item variable of the form (spec 5.3.8).
		var all []string
		for _, it := range fc.items {
			if inputItemNames[it.node.Name] {
				all = append(all, it.name)
			}
		}
		names = strings.Join(all, " ")
	}
	vals, files, err := s.encodeValues(sc, names)
	if err != nil {
		return semantic(n, err)
	}
	method := strings.ToUpper(n.Attr("method"))
	if method == "" {
		method = "GET"
	}
	if method != "GET" && method != "POST" {
		return throw("error.badfetch", "%s: method %q", n.Where(), method)
	}
	req := s.fetchRequest(fc, n)
	req.Method, req.Values, req.Files, req.EncType = method, vals, files, n.Attr("enctype")
	if len(files) > 0 && req.EncType == "" {
		// A recording can only travel as a file part (spec 5.3.8).
		req.EncType, req.Method = "multipart/form-data", "POST"
	}
	if isSameDocRef(next) {
		// A fragment-only submit stays in this document: the values have no
		// server to go to (file and same-document submits are navigation).
		return s.gotoURI(fc, n, next, FetchRequest{})
	}
	err = s.gotoURI(fc, n, next, req)
	var g *ctlGoto
	if errors.As(err, &g) {
		g.submit = true
	}
	return err
}

func (s *Session) execReturn(n *Node, sc *Scope) error {
	r := &ctlReturn{values: map[string]goja.Value{}}
	var err error
	if r.event, err = s.attrOrExpr(n, sc, "event", "eventexpr"); err != nil {
		return err
	}
	if r.msg, err = s.attrOrExpr(n, sc, "message", "messageexpr"); err != nil {
		return err
	}
	for _, name := range strings.Fields(n.Attr("namelist")) {
		v, err := s.e.Eval(sc, name)
		if err != nil {
			return semantic(n, err)
		}
		r.values[name] = v
		r.order = append(r.order, name)
	}
	return r
}

func (s *Session) execForeach(fc *formCtx, n *Node, sc *Scope) error {
	vals, item, err := s.foreachValues(n, sc)
	if err != nil {
		return err
	}
	for _, v := range vals {
		if err := s.tick(); err != nil {
			return err
		}
		if err := s.e.Declare(sc, item, v); err != nil {
			return semantic(n, err)
		}
		if err := s.exec(fc, n.Children, sc); err != nil {
			return err
		}
	}
	return nil
}

// foreachValues evaluates a <foreach>'s array and item. The array is copied
// first: the spec forbids the body from changing it and a snapshot makes
// that harmless.
func (s *Session) foreachValues(n *Node, sc *Scope) ([]goja.Value, string, error) {
	arr, err := s.e.Eval(sc, n.Attr("array"))
	if err != nil {
		return nil, "", semantic(n, err)
	}
	obj, ok := arr.(*goja.Object)
	if !ok {
		return nil, "", throw("error.semantic", "%s: array is not an array", n.Where())
	}
	length := obj.Get("length")
	if length == nil {
		return nil, "", throw("error.semantic", "%s: array has no length", n.Where())
	}
	item := n.Attr("item")
	if !validIdent(item) {
		return nil, "", throw("error.semantic", "%s: bad item name %q", n.Where(), item)
	}
	num := length.ToInteger()
	if num < 0 || num > 100000 {
		return nil, "", throw("error.semantic", "%s: array length %d out of range", n.Where(), num)
	}
	vals := make([]goja.Value, num)
	for i := range vals {
		vals[i] = obj.Get(strconv.Itoa(i))
	}
	return vals, item, nil
}

// bargein returns the bargein setting for a prompt.
func (s *Session) bargein(fc *formCtx, it *formItem, n *Node) bool {
	if b := n.Attr("bargein"); b != "" {
		return b == "true"
	}
	return s.property(fc, it, "bargein") != "false"
}

func (s *Session) queuePrompt(fc *formCtx, n *Node, sc *Scope, it *formItem) error {
	items, err := s.render(fc, n, sc, s.bargein(fc, it, n))
	if err != nil {
		return err
	}
	if t := n.Attr("timeout"); t != "" {
		d, err := parseTime(t)
		if err != nil {
			return throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		if len(items) == 0 {
			items = append(items, PromptItem{})
		}
		items[len(items)-1].Timeout = d
	}
	s.prompts = append(s.prompts, items...)
	return nil
}

// renderText renders the content of a <log> (text and <value>) as a string.
func (s *Session) renderText(fc *formCtx, n *Node, sc *Scope) (string, error) {
	var b strings.Builder
	for _, c := range n.Children {
		switch {
		case c.IsText():
			b.WriteString(c.Text)
		case c.Name == "value":
			v, err := s.e.EvalString(sc, c.Attr("expr"))
			if err != nil {
				return "", semantic(c, err)
			}
			b.WriteString(v)
		}
	}
	return collapse(b.String()), nil
}

// render turns a prompt's content into prompt items: text runs (with <value>
// results spliced in) and audio with fallbacks.
func (s *Session) render(fc *formCtx, n *Node, sc *Scope, bargein bool) ([]PromptItem, error) {
	var items []PromptItem
	var text, ssml strings.Builder
	marked := false // ssml holds markup worth handing to a TTS engine
	type open struct{ start, name string }
	var stack []open // SSML elements open at this point of the walk
	mark := ""
	flushText := func() {
		t := collapse(text.String())
		text.Reset()
		if t != "" || mark != "" {
			it := PromptItem{Text: t, Bargein: bargein, Mark: mark}
			if marked && t != "" {
				// Close what is open so each item's SSML stands alone.
				var b strings.Builder
				b.WriteString(ssml.String())
				for i := len(stack) - 1; i >= 0; i-- {
					b.WriteString("</" + stack[i].name + ">")
				}
				it.SSML = `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis">` + b.String() + "</speak>"
			}
			items = append(items, it)
			mark = ""
		}
		ssml.Reset()
		marked = false
		for _, o := range stack {
			ssml.WriteString(o.start)
		}
	}
	both := func(v string) {
		text.WriteString(v)
		ssml.WriteString(xmlEscape(v))
	}
	var walk func(n *Node) error
	walk = func(n *Node) error {
		for _, c := range n.Children {
			if c.IsText() {
				both(c.Text)
				continue
			}
			switch c.Name {
			case "value":
				v, err := s.e.EvalString(sc, c.Attr("expr"))
				if err != nil {
					return semantic(c, err)
				}
				both(v)
			case "audio":
				if ex, ok := c.LookupAttr("expr"); ok && !c.HasAttr("src") {
					// A recording (ArrayBuffer) plays back as audio (spec 2.3.6).
					if v, err := s.e.Eval(sc, ex); err == nil {
						if ab, ok := v.Export().(goja.ArrayBuffer); ok {
							flushText()
							items = append(items, PromptItem{Audio: ab.Bytes(), Bargein: bargein})
							continue
						}
					}
				}
				src, err := s.attrOrExpr(c, sc, "src", "expr")
				if err != nil {
					return err
				}
				_, hasSrc := c.LookupAttr("src")
				_, hasExpr := c.LookupAttr("expr")
				if !hasSrc && !hasExpr {
					return throw("error.badfetch", "%s: neither src nor expr", c.Where())
				}
				if hasExpr && (src == "undefined" || src == "null") {
					continue // an undefined expr skips the audio (spec 4.1.3)
				}
				fb, err := s.render(fc, c, sc, bargein)
				if err != nil {
					return err
				}
				uri, err := s.resolve(fc, src)
				if err != nil {
					// A malformed URI cannot be fetched: play the fallback.
					flushText()
					items = append(items, fb...)
					continue
				}
				flushText()
				items = append(items, PromptItem{AudioURI: uri, Fallback: fb, Bargein: bargein})
			case "enumerate":
				var b strings.Builder
				if err := s.renderEnumerate(fc, c, sc, &b); err != nil {
					return err
				}
				both(b.String())
			case "mark":
				name, err := s.attrOrExpr(c, sc, "name", "nameexpr")
				if err != nil {
					return err
				}
				flushText()
				mark = name
			case "foreach":
				// <foreach> inside a prompt (2.1 section 6) repeats its content.
				vals, item, err := s.foreachValues(c, sc)
				if err != nil {
					return err
				}
				outer := sc
				for _, v := range vals {
					sc = s.e.NewScope("anonymous", outer)
					if err := s.e.Declare(sc, item, v); err != nil {
						sc = outer
						return semantic(c, err)
					}
					if err := walk(c); err != nil {
						sc = outer
						return err
					}
				}
				sc = outer
			case "break":
				text.WriteString(" ")
				ssml.WriteString("<break" + ssmlAttrs(c, "time", "strength") + "/>")
				marked = true
			case "desc", "lexicon", "meta", "metadata":
				text.WriteString(" ")
			case "sub":
				text.WriteString(" " + c.Attr("alias") + " ")
				ssml.WriteString("<sub" + ssmlAttrs(c, "alias") + ">" + xmlEscape(c.TextContent()) + "</sub>")
				marked = true
			default: // SSML containers: speak their content, keep the markup
				var attrs []string
				switch c.Name {
				case "say-as":
					attrs = []string{"interpret-as", "format", "detail"}
				case "emphasis":
					attrs = []string{"level"}
				case "prosody":
					attrs = []string{"pitch", "contour", "range", "rate", "duration", "volume"}
				case "voice":
					attrs = []string{"gender", "age", "variant", "name"}
				case "phoneme":
					attrs = []string{"ph", "alphabet"}
				}
				name := c.Name
				switch name {
				case "paragraph":
					name = "p"
				case "sentence":
					name = "s"
				}
				o := open{start: "<" + name + ssmlAttrs(c, attrs...) + ">", name: name}
				ssml.WriteString(o.start)
				stack = append(stack, o)
				marked = true
				err := walk(c)
				stack = stack[:len(stack)-1]
				ssml.WriteString("</" + name + ">")
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(n); err != nil {
		return nil, err
	}
	flushText()
	return items, nil
}

// ssmlAttrs renders the named attributes of n that are present.
func ssmlAttrs(n *Node, names ...string) string {
	var b strings.Builder
	for _, a := range names {
		if v, ok := n.LookupAttr(a); ok {
			b.WriteString(" " + a + `="` + xmlEscape(v) + `"`)
		}
	}
	return b.String()
}

var (
	xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	spaceRun   = regexp.MustCompile(`\s+`)
)

// xmlEscape escapes text for SSML, folding whitespace runs into one space.
func xmlEscape(s string) string {
	return xmlEscaper.Replace(spaceRun.ReplaceAllString(s, " "))
}

// enumChoice is one menu choice or field option, for <enumerate>.
type enumChoice struct {
	prompt string
	dtmf   string
}

// renderEnumerate expands <enumerate> (spec 2.2.4): its content is a template
// run once per choice with _prompt and _dtmf; without content, the choices'
// prompts are listed.
func (s *Session) renderEnumerate(fc *formCtx, n *Node, sc *Scope, text *strings.Builder) error {
	if fc == nil || len(fc.enum) == 0 {
		return throw("error.semantic", "%s: enumerate outside a menu or option field", n.Where())
	}
	for _, ch := range fc.enum {
		if len(n.Elements()) == 0 && strings.TrimSpace(n.TextContent()) == "" {
			text.WriteString(" " + ch.prompt + ";")
			continue
		}
		esc := s.e.NewScope("anonymous", sc)
		esc.Obj.Set("_prompt", ch.prompt)
		esc.Obj.Set("_dtmf", ch.dtmf)
		items, err := s.render(fc, n, esc, true)
		if err != nil {
			return err
		}
		for _, it := range items {
			text.WriteString(" " + it.Text)
		}
	}
	return nil
}

// compileGrammar compiles a <grammar> element (inline SRGS, src or srcexpr).
// Compiled inline grammars are cached per element.
func (s *Session) compileGrammar(fc *formCtx, n *Node) (*Grammar, error) {
	if g, ok := s.grammars[n]; ok {
		return g, nil
	}
	mode := n.Attr("mode")
	if mode == "" {
		mode = "voice"
	}
	scope := n.Attr("scope")
	var sc *Scope
	if fc != nil {
		sc = fc.scope
	}
	src := n.Attr("src")
	cacheable := true
	if ex := n.Attr("srcexpr"); ex != "" && sc != nil {
		if src != "" {
			return nil, throw("error.badfetch", "%s: both src and srcexpr", n.Where())
		}
		v, err := s.e.EvalString(sc, ex)
		if err != nil {
			return nil, semantic(n, err)
		}
		src, cacheable = v, false
	}
	var g *Grammar
	switch {
	case strings.HasPrefix(src, "builtin:"):
		var err error
		g, err = ParseBuiltin(src, mode)
		if err != nil {
			return nil, throw("error.unsupported.builtin", "%s: %v", n.Where(), err)
		}
	case src != "":
		uri, err := s.resolve(fc, src)
		if err != nil {
			return nil, throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		req := s.fetchRequest(fc, n)
		req.URI = stripFragment(uri)
		res, err := s.cfg.Fetcher.Fetch(s.ctx, req)
		if err != nil {
			return nil, fetchEvent(err)
		}
		if strings.HasPrefix(strings.TrimSpace(string(res.Body)), "#ABNF") {
			sg, err := ParseABNF(string(res.Body), mode)
			if err != nil {
				return nil, throw("error.badfetch", "%s: %s: %v", n.Where(), uri, err)
			}
			g = &Grammar{Mode: sg.Mode, srgs: sg, Src: uri}
			break
		}
		root, err := ParseXML(res.Body)
		if err != nil || root.Name != "grammar" {
			return nil, throw("error.badfetch", "%s: %s is not an SRGS grammar", n.Where(), uri)
		}
		sg, err := ParseSRGSWith(root, mode, stripFragment(uri), s.grammarLoader(fc, n))
		if err != nil {
			return nil, throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		if f := fragment(uri); f != "" {
			if _, ok := sg.rules[f]; !ok {
				return nil, throw("error.badfetch", "%s: no rule %q", n.Where(), f)
			}
			sg.Root = f
		}
		g = &Grammar{Mode: sg.Mode, srgs: sg, Src: uri}
	default:
		t := n.Attr("type")
		if t == "application/srgs" {
			sg, err := ParseABNF(n.TextContent(), mode)
			if err != nil {
				return nil, throw("error.badfetch", "%s: %v", n.Where(), err)
			}
			g = &Grammar{Mode: sg.Mode, srgs: sg, Src: n.Where()}
			break
		}
		if t != "" && t != "application/srgs+xml" {
			return nil, throw("error.unsupported.format", "%s: grammar type %q", n.Where(), t)
		}
		base := ""
		if fc != nil && fc.ec != nil {
			base = fc.ec.doc.base
		}
		sg, err := ParseSRGSWith(n, mode, base, s.grammarLoader(fc, n))
		if err != nil {
			return nil, throw("error.badfetch", "%s: %v", n.Where(), err)
		}
		g = &Grammar{Mode: sg.Mode, srgs: sg, Src: n.Where()}
	}
	g.Scope = scope
	if cacheable {
		s.grammars[n] = g
	}
	return g, nil
}

// grammarLoader fetches external grammars for rulerefs with the fetch
// settings of the <grammar> element that needs them.
func (s *Session) grammarLoader(fc *formCtx, n *Node) GrammarLoader {
	return func(uri string) (*Node, error) {
		req := s.fetchRequest(fc, n)
		req.URI = uri
		res, err := s.cfg.Fetcher.Fetch(s.ctx, req)
		if err != nil {
			return nil, err
		}
		root, err := ParseXML(res.Body)
		if err != nil {
			return nil, err
		}
		if root.Name != "grammar" {
			return nil, fmt.Errorf("%s is not an SRGS XML grammar", uri)
		}
		return root, nil
	}
}

// optionGrammars builds the grammars of a field's <option>s (spec 2.3.1.3).
func optionGrammars(opts []*Node) []*Grammar {
	var ch []choiceEntry
	for _, o := range opts {
		text := collapse(o.TextContent())
		v := o.Attr("value")
		if v == "" {
			v = text
		}
		ch = append(ch, choiceEntry{dtmf: o.Attr("dtmf"), phrase: strings.ToLower(text), value: v})
	}
	return []*Grammar{{Mode: "dtmf", choices: ch, Src: "option"}, {Mode: "voice", choices: ch, Src: "option"}}
}
