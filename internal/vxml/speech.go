package vxml

import (
	"github.com/tandem-cc/tandem/internal/asr"
)

// Speech returns the grammar as a recogniser takes it (words and structure,
// tags set aside: the interpreter interprets what the recogniser heard
// with the grammar itself), and false for a DTMF grammar or a builtin type
// without a spoken form. SRGS XML and ABNF grammars share one compiled
// form, so both come here.
func (g *Grammar) Speech() (asr.Grammar, bool) {
	if g.Mode != "voice" {
		return asr.Grammar{}, false
	}
	switch {
	case g.builtin != nil:
		sg, err := asr.Builtin(g.builtin.typ, g.builtin.minLen, g.builtin.maxLen)
		return sg, err == nil
	case g.srgs != nil:
		out := asr.Grammar{Root: g.srgs.Root, Name: g.Src, Rules: make(map[string]asr.Expr, len(g.srgs.rules))}
		for id, n := range g.srgs.rules {
			out.Rules[id] = speechExpr(n)
		}
		return out, true
	}
	var alts []asr.Expr
	for _, c := range g.choices {
		if c.phrase == "" {
			continue
		}
		p := asr.Phrase(c.phrase)
		if c.approximate {
			// accept="approximate": any of the words, in order.
			var opt []asr.Expr
			for _, w := range asr.Words(c.phrase) {
				opt = append(opt, asr.Repeat(asr.Word(w), 0, 1))
			}
			p = asr.Seq(opt...)
		}
		alts = append(alts, p)
	}
	if len(alts) == 0 {
		return asr.Grammar{}, false
	}
	return asr.Grammar{Root: "choices", Name: g.Src, Rules: map[string]asr.Expr{"choices": asr.Alt(alts...)}}, true
}

func speechExpr(n *gnode) asr.Expr {
	var e asr.Expr
	switch n.kind {
	case gToken:
		e = asr.Phrase(n.token)
	case gRef:
		e = asr.Expr{Op: asr.OpRef, Rule: n.ref}
	case gAlt:
		e = asr.Alt()
		for _, c := range n.children {
			e.Items = append(e.Items, speechExpr(c))
		}
	case gSeq:
		e = asr.Seq()
		for _, c := range n.children {
			if c.kind == gTag {
				continue
			}
			e.Items = append(e.Items, speechExpr(c))
		}
	case gVoid:
		return asr.Alt() // matches nothing
	default:
		// NULL, tags, and GARBAGE (which a grammar-constrained decoder
		// cannot model: it becomes the empty phrase).
		return asr.Seq()
	}
	if n.min == 1 && n.max == 1 {
		return e
	}
	return asr.Repeat(e, n.min, n.max)
}
