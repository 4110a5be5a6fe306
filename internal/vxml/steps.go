package vxml

import (
	"errors"
	"strings"

	"github.com/dop251/goja"
)

// Step is one visit of a form item that collects input (field, record,
// transfer, subdialog), as reporting wants it: CVP's VXML gateway log of
// each element a caller passed, with what the caller gave and how it
// ended.
type Step struct {
	Document string // the document's URI
	Form     string // the form's id ("" if it has none)
	Item     string // the item's name (an anonymous item gets _itemN_<element>)
	Element  string // field, record, transfer or subdialog
	// Input is what VoiceXML got: the DTMF keys or the utterance of a
	// field (the text heard even when it matched nothing), the length of
	// a recording ("1500ms"), a transfer's status. Stored as given:
	// sensitive fields are not masked here.
	Input string
	// Outcome is filled, noinput, nomatch, hangup, or the event that
	// ended the visit (error.badfetch, connection.disconnect.transfer...).
	// A visit that left by a link or a document grammar of another dialog
	// is "transition".
	Outcome string
}

var stepElements = map[string]bool{"field": true, "record": true, "transfer": true, "subdialog": true}

// visitObserved runs visit and tells Config.OnStep about it.
func (s *Session) visitObserved(fc *formCtx, it *formItem) error {
	if s.cfg.OnStep == nil || !stepElements[it.node.Name] {
		return s.visit(fc, it)
	}
	s.stepInput = ""
	err := s.visit(fc, it)
	st := Step{Document: fc.ec.doc.uri, Item: it.name, Element: it.node.Name, Input: s.stepInput}
	if fc.form != nil {
		st.Form = fc.form.Attr("id")
	}
	// Filled first: a <filled> that then throws or leaves does not undo
	// the caller's input.
	v := s.e.Lookup(fc.scope, it.name)
	var ev *ctlEvent
	var ex *ctlExit
	switch {
	case v != nil && !goja.IsUndefined(v):
		st.Outcome = "filled"
	case errors.As(err, &ev):
		st.Outcome = ev.name
		if strings.HasPrefix(ev.name, "connection.disconnect.hangup") {
			st.Outcome = "hangup"
		}
	case errors.As(err, &ex):
		st.Outcome = ex.reason
	case err == nil:
		st.Outcome = "none"
	default:
		var g *ctlGoto
		if errors.As(err, &g) {
			st.Outcome = "transition"
		} else {
			st.Outcome = "error"
		}
	}
	s.cfg.OnStep(st)
	return err
}
