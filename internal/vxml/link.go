package vxml

import (
	"encoding/xml"
	"strings"
)

// <link> (spec 2.5): grammars active while the caller is in the link's scope
// (item, form, document, application root) that, when matched, transition or
// throw an event. Links rank below the item's and form's own grammars.

// linkGrammars returns the grammars of the links in scope for it and, for
// each grammar, the link it belongs to.
func (s *Session) linkGrammars(fc *formCtx, it *formItem) ([]*Grammar, []*Node, error) {
	var holders []*Node
	if it != nil {
		holders = append(holders, it.node)
	}
	if fc.form != nil {
		holders = append(holders, fc.form)
	}
	holders = append(holders, fc.ec.doc.root)
	if r := fc.ec.app.root; r != nil && r != fc.ec.doc {
		holders = append(holders, r.root)
	}
	var gs []*Grammar
	var owners []*Node
	// Universal grammars (spec 6.3.6): the words help, exit and cancel throw
	// the event of the same name when the universals property enables them.
	if u := s.property(fc, it, "universals"); u != "" && u != "none" {
		for _, w := range []string{"help", "exit", "cancel"} {
			if u == "all" || strings.Contains(" "+u+" ", " "+w+" ") {
				gs = append(gs, &Grammar{Mode: "voice", choices: []choiceEntry{{phrase: w, value: w}}, Src: "universal " + w})
				owners = append(owners, &Node{Name: "link", Attrs: []xml.Attr{{Name: xml.Name{Local: "event"}, Value: w}}})
			}
		}
	}
	for _, h := range holders {
		for _, l := range h.ChildrenNamed("link") {
			if d := l.Attr("dtmf"); d != "" {
				gs = append(gs, &Grammar{Mode: "dtmf", choices: []choiceEntry{{dtmf: d, value: d}}, Src: l.Where()})
				owners = append(owners, l)
			}
			for _, g := range l.ChildrenNamed("grammar") {
				cg, err := s.compileGrammar(fc, g)
				if err != nil {
					return nil, nil, err
				}
				gs = append(gs, cg)
				owners = append(owners, l)
			}
		}
	}
	return gs, owners, nil
}

// followLink carries out a matched link: an event, or a transition.
func (s *Session) followLink(fc *formCtx, l *Node) error {
	sc := s.e.NewScope("anonymous", fc.scope)
	ev, err := s.attrOrExpr(l, sc, "event", "eventexpr")
	if err != nil {
		return err
	}
	if ev != "" {
		msg, err := s.attrOrExpr(l, sc, "message", "messageexpr")
		if err != nil {
			return err
		}
		return &ctlEvent{name: ev, msg: msg}
	}
	next, err := s.attrOrExpr(l, sc, "next", "expr")
	if err != nil {
		return err
	}
	if strings.TrimSpace(next) == "" {
		return throw("error.badfetch", "%s: link without next, expr or event", l.Where())
	}
	return s.gotoURI(fc, l, next, s.fetchRequest(fc, l))
}

// docGrammars returns the grammars other dialogs of this document make active
// document-wide (spec 3.1.3: a form or menu with scope="document", or a form
// grammar with scope="document"), with the id of the dialog each belongs to.
func (s *Session) docGrammars(fc *formCtx) ([]*Grammar, []string, error) {
	var gs []*Grammar
	var owners []string
	for _, d := range fc.ec.doc.root.Elements() {
		if d.Name != "form" || d == fc.form || d.Attr("id") == "" {
			continue
		}
		for _, g := range d.ChildrenNamed("grammar") {
			scope := g.Attr("scope")
			if scope == "" {
				scope = d.Attr("scope")
			}
			if scope != "document" {
				continue
			}
			cg, err := s.compileGrammar(&formCtx{ec: fc.ec, scope: fc.scope}, g)
			if err != nil {
				return nil, nil, err
			}
			gs = append(gs, cg)
			owners = append(owners, d.Attr("id"))
		}
	}
	return gs, owners, nil
}
