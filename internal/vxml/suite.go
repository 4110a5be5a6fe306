package vxml

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The W3C manifests list some documents that are not tests: application
// roots, subdialogs and goto targets that a test loads, and whose verdict,
// run alone, says nothing (a root with no dialog cannot start; a subdialog
// that returns has no caller). suiteDoc is what the runner learns about each
// document of a suite from the documents themselves, so that only tests are
// counted and a test that cannot run as written says why.

// suiteDoc describes one .vxml document of a suite folder.
type suiteDoc struct {
	rel  string // path relative to the suite folder, with slashes
	root *Node  // nil when the document does not parse (then it is a test that fails)
	// refs are the suite documents it names (application, next, src, string
	// literals in expressions), relative to the suite folder.
	refs []string
	// missing are the documents it names that the folder does not have.
	missing []string
	// hasPass: some <prompt> of the document says "pass".
	hasPass bool
	// heard: its text asks a listener ("if you heard ... passed").
	heard bool
}

// Role is how the runner treats a manifest entry.
type Role struct {
	// Companion, when set, says why the document is not a test of its own.
	Companion string
	// Missing lists companion documents the test names that the suite
	// folder lacks; such a test is skipped.
	Missing []string
	// NoPassPrompt: neither the document nor the companions it loads can play
	// "pass", so it is judged by ending normally without "fail" (assertions
	// that <exit> or the end of a form stop the FIA).
	NoPassPrompt bool
	// Listener: the document asks a listener for the verdict.
	Listener bool
}

// localSuite is where the W3C documents expect their companions to be
// served (http://localhost/vxml/NAME); the runner maps it onto the folder.
const localSuite = "http://localhost/vxml/"

var (
	quotedRe = regexp.MustCompile(`'([^']*)'|"([^"]*)"`)
	heardRe  = regexp.MustCompile(`(?i)\bif you hear(d)?\b[^.]*\bpass`)
)

// uriAttrs hold a URI as their whole value.
var uriAttrs = map[string]bool{"application": true, "next": true, "src": true}

// analyzeSuite reads every .vxml under dir and decides the role of each
// manifest entry.
func analyzeSuite(dir string, m []ManifestEntry) map[string]Role {
	docs := map[string]*suiteDoc{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".vxml") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		sd := &suiteDoc{rel: filepath.ToSlash(rel)}
		if data, err := os.ReadFile(p); err == nil {
			sd.root, _ = ParseXML(data)
		}
		docs[sd.rel] = sd
		return nil
	})
	for _, sd := range docs {
		if sd.root != nil {
			sd.scan(dir, docs)
		}
	}
	refBy := map[string][]string{}
	for _, sd := range docs {
		for _, r := range sd.refs {
			if r != sd.rel {
				refBy[r] = append(refBy[r], sd.rel)
			}
		}
	}
	roles := map[string]Role{}
	for _, e := range m {
		rel := path.Clean(strings.TrimPrefix(filepath.ToSlash(e.File), "/"))
		sd := docs[rel]
		if sd == nil || sd.root == nil {
			roles[e.ID] = Role{}
			continue
		}
		reach := reachable(rel, docs)
		var r Role
		// Documents that reach this one only through its own companions
		// (a cycle) do not make it a companion.
		var by []string
		for _, b := range refBy[rel] {
			if !reach[b] {
				by = append(by, path.Base(b))
			}
		}
		sort.Strings(by)
		switch {
		case len(by) > 0:
			r.Companion = "loaded by " + strings.Join(by, ", ")
		default:
			r.Companion = sd.startRole()
		}
		seen := map[string]bool{}
		hasPass, heard := false, false
		for d := range reach {
			dd := docs[d]
			if dd == nil {
				continue
			}
			hasPass = hasPass || dd.hasPass
			heard = heard || dd.heard
			for _, miss := range dd.missing {
				if !seen[miss] {
					seen[miss] = true
					r.Missing = append(r.Missing, miss)
				}
			}
		}
		sort.Strings(r.Missing)
		// Only a test that has all its documents is judged without a pass
		// prompt: a missing companion may be where "pass" is.
		if r.Companion == "" && len(r.Missing) == 0 {
			r.NoPassPrompt = !hasPass
			r.Listener = heard && !hasPass
		}
		roles[e.ID] = r
	}
	return roles
}

// reachable is rel and every suite document it loads, transitively.
func reachable(rel string, docs map[string]*suiteDoc) map[string]bool {
	seen := map[string]bool{rel: true}
	stack := []string{rel}
	for len(stack) > 0 {
		d := docs[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if d == nil {
			continue
		}
		for _, r := range d.refs {
			if !seen[r] {
				seen[r] = true
				stack = append(stack, r)
			}
		}
	}
	return seen
}

// scan collects the document's references and verdict prompts.
func (sd *suiteDoc) scan(dir string, docs map[string]*suiteDoc) {
	dirOf := path.Dir(sd.rel)
	add := func(ref string) {
		ref = strings.TrimSpace(ref)
		if i := strings.IndexAny(ref, "#?"); i >= 0 {
			ref = ref[:i]
		}
		if !strings.HasSuffix(ref, ".vxml") {
			return
		}
		var rel string
		switch {
		case strings.HasPrefix(ref, localSuite):
			rel = path.Clean(strings.TrimPrefix(ref, localSuite))
		case strings.Contains(ref, ":"):
			return // another server or scheme: not part of the folder
		default:
			rel = path.Clean(path.Join(dirOf, ref))
		}
		if strings.HasPrefix(rel, "../") {
			return
		}
		for _, have := range sd.refs {
			if have == rel {
				return
			}
		}
		sd.refs = append(sd.refs, rel)
		if docs[rel] == nil {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				sd.missing = append(sd.missing, rel)
			}
		}
	}
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, a := range n.Attrs {
			if uriAttrs[a.Name.Local] {
				add(a.Value)
				continue
			}
			for _, q := range quotedRe.FindAllStringSubmatch(a.Value, -1) {
				add(q[1] + q[2])
			}
		}
		switch n.Name {
		case "script":
			for _, q := range quotedRe.FindAllStringSubmatch(n.TextContent(), -1) {
				add(q[1] + q[2])
			}
		case "prompt":
			if verdict(n.TextContent()) == "pass" {
				sd.hasPass = true
			}
		case "log":
			if heardRe.MatchString(n.TextContent()) {
				sd.heard = true
			}
		}
		for _, c := range n.Elements() {
			walk(c)
		}
	}
	walk(sd.root)
}

// verdict normalises a prompt's text the way Judge compares it.
func verdict(p string) string {
	return strings.Trim(strings.ToLower(strings.TrimSpace(p)), ".!")
}

// startRole says why a document that no other document loads still cannot
// be a test's first document, from the document's own structure; "" when it
// can.
func (sd *suiteDoc) startRole() string {
	d := findDialog(sd.root, "")
	if d == nil {
		// Interpreted alone, a document without a dialog throws
		// error.badfetch: it can only be an application root (spec 1.5.2).
		return "application root document: it has no dialog to start"
	}
	if liveReturn(d) {
		// <return> outside a subdialog is error.semantic (spec 2.3.10).
		return "subdialog: its first dialog returns to a caller"
	}
	if d.Name == "form" {
		// A block with cond or expr may never run; one without always does.
		if it := firstFormItem(d); it != nil && it.Name == "block" && !it.HasAttr("cond") && !it.HasAttr("expr") {
			if ex := it.Elements(); len(ex) > 0 && ex[0].Name == "prompt" && verdict(ex[0].TextContent()) == "fail" {
				// Entered at the first dialog it fails at once: it is a goto
				// target entered at a later dialog, or a root whose dialogs
				// must not run when a leaf loads it.
				return "entered at another dialog: its first dialog plays fail on entry"
			}
		}
		if v := paramVar(d); v != "" {
			// A form-level variable that only a <param> can set (spec 2.3.4).
			return "subdialog: its first form navigates by variable " + v + ", which only a caller's <param> sets"
		}
	}
	return ""
}

// liveReturn reports whether n holds a <return> that can run: one not
// placed after an element that always leaves (exit, goto, submit, throw,
// disconnect, return) in the same content.
func liveReturn(n *Node) bool {
	for _, c := range n.Elements() {
		switch c.Name {
		case "return":
			return true
		case "exit", "goto", "submit", "throw", "disconnect":
			if n.Name == "block" || n.Name == "filled" || isHandler(n.Name) {
				return false // the rest of this content never runs
			}
		}
		if liveReturn(c) {
			return true
		}
	}
	return false
}

func isHandler(name string) bool {
	switch name {
	case "catch", "error", "help", "noinput", "nomatch":
		return true
	}
	return false
}

func firstFormItem(form *Node) *Node {
	for _, c := range form.Elements() {
		if formItemNames[c.Name] {
			return c
		}
	}
	return nil
}

// paramVar names a form-level <var> without expr that the form uses as the
// target of a <goto>, <submit> or <subdialog> and never assigns.
func paramVar(form *Node) string {
	declared := map[string]bool{}
	for _, c := range form.Elements() {
		if c.Name == "var" && !c.HasAttr("expr") {
			declared[c.Attr("name")] = true
		}
	}
	if len(declared) == 0 {
		return ""
	}
	var target string
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, c := range n.Elements() {
			switch c.Name {
			case "assign":
				delete(declared, c.Attr("name"))
			case "goto", "submit":
				if declared[strings.TrimSpace(c.Attr("expr"))] && target == "" {
					target = strings.TrimSpace(c.Attr("expr"))
				}
			case "subdialog":
				if declared[strings.TrimSpace(c.Attr("srcexpr"))] && target == "" {
					target = strings.TrimSpace(c.Attr("srcexpr"))
				}
			}
			walk(c)
		}
	}
	walk(form)
	if !declared[target] {
		return ""
	}
	return target
}
