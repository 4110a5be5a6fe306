package vxml

// DTMFState tells a media platform, key by key, whether the DTMF collected so
// far can still match the active grammars, so it can end collection as soon as
// the input is complete (spec 6.3.3: termtimeout, interdigittimeout) without
// knowing anything about grammars itself.
type DTMFState int

// The states of a partial DTMF input.
const (
	DTMFNoMatch   DTMFState = iota // no grammar can match, whatever follows
	DTMFPrefix                     // not a match yet, but more keys may make one
	DTMFMatchMore                  // a match; more keys may make a longer match
	DTMFComplete                   // a match that no further key can extend
)

var dtmfKeys = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"}

// viable reports whether keys is a prefix of some input g accepts.
func (g *Grammar) viable(keys string) bool {
	switch {
	case g.Mode != "dtmf":
		return false
	case g.srgs == nil && g.builtin == nil:
		for _, c := range g.choices {
			k := c.dtmf
			if len(keys) <= len(k) && k[:len(keys)] == keys {
				return true
			}
		}
		return false
	case g.builtin != nil:
		b := g.builtin
		if b.maxLen > 0 && len(keys) > b.maxLen {
			return false
		}
		for _, r := range keys {
			if (r < '0' || r > '9') && !(r == '*' && b.typ != "digits" && b.typ != "boolean" && b.typ != "date" && b.typ != "time") {
				return false
			}
		}
		return true
	}
	return prefixConsumed(&matcher{s: g.srgs, toks: tokenize("dtmf", keys)})
}

// prefixConsumed matches with the token test succeeding at the end of input:
// a parse that runs out of keys anywhere inside the grammar shows the keys
// are a viable prefix.
func prefixConsumed(m *matcher) bool {
	m.partial = true
	return m.rule(m.s.Root, 0, nil, func(pos int, _ *trace) bool { return pos == len(m.toks) })
}

// DTMFStateOf combines the active DTMF grammars' view of keys.
func DTMFStateOf(gs []*Grammar, keys string) DTMFState {
	match, more := false, false
	for _, g := range gs {
		if g.Mode != "dtmf" {
			continue
		}
		if g.accepts(keys) {
			match = true
		}
		if !more {
			for _, k := range dtmfKeys {
				if g.viable(keys + k) {
					more = true
					break
				}
			}
		}
	}
	switch {
	case match && more:
		return DTMFMatchMore
	case match:
		return DTMFComplete
	case more:
		return DTMFPrefix
	}
	return DTMFNoMatch
}

// accepts reports whether g matches keys in full, without running tags (the
// media side asks this once per key; interpretation waits for the final input).
func (g *Grammar) accepts(keys string) bool {
	if g.srgs == nil || g.Mode != "dtmf" {
		_, err := g.Match(nil, "dtmf", keys)
		return err == nil
	}
	m := &matcher{s: g.srgs, toks: tokenize("dtmf", keys)}
	return m.rule(g.srgs.Root, 0, nil, func(pos int, _ *trace) bool { return pos == len(m.toks) })
}
