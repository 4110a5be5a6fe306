package asr

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Op is the kind of an Expr.
type Op uint8

// The kinds of grammar expressions.
const (
	OpSeq  Op = iota // Items one after the other (none: the empty phrase)
	OpAlt            // one of Items (none: nothing can match, SRGS VOID)
	OpWord           // the word Word
	OpRef            // the rule named Rule
)

// Expr is one node of a speech grammar, repeated Min to Max times (Max < 0:
// unbounded). Min and Max both 0 mean once, so that a literal Expr{Op:
// OpWord, Word: "sales"} is one word.
type Expr struct {
	Op       Op
	Word     string
	Rule     string
	Items    []Expr
	Min, Max int
}

// Grammar is a rule set with a root: what SRGS XML, ABNF and JSGF share
// once their tags (semantic interpretation) are set aside, which is all a
// recogniser needs. The interpreter keeps the tags and interprets the words
// the recogniser returns with them.
type Grammar struct {
	Root  string
	Rules map[string]Expr
	// Name says where the grammar came from, for messages.
	Name string
}

// Word is a one-word expression.
func Word(w string) Expr { return Expr{Op: OpWord, Word: w} }

// Seq is a sequence.
func Seq(items ...Expr) Expr { return Expr{Op: OpSeq, Items: items} }

// Alt is a choice.
func Alt(items ...Expr) Expr { return Expr{Op: OpAlt, Items: items} }

// Phrase is the sequence of the words of text.
func Phrase(text string) Expr {
	var items []Expr
	for _, w := range Words(text) {
		items = append(items, Word(w))
	}
	if len(items) == 1 {
		return items[0]
	}
	return Seq(items...)
}

// Repeat is e repeated min to max times (max < 0: unbounded).
func Repeat(e Expr, min, max int) Expr {
	if e.Min != 0 || e.Max != 0 {
		e = Seq(e) // keep e's own repeat inside
	}
	if min == 0 && max == 0 {
		return Seq() // repeat="0": the empty phrase
	}
	e.Min, e.Max = min, max
	return e
}

// Words splits text into the lower-case words a recogniser outputs, as the
// interpreter tokenises an utterance: apostrophes and hyphens stay inside
// a word, other punctuation separates.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return unicode.IsSpace(r) || (unicode.IsPunct(r) && r != '\'' && r != '-')
	})
}

// Vocabulary lists the distinct words of gs, sorted.
func Vocabulary(gs []Grammar) []string {
	seen := map[string]bool{}
	var walk func(e Expr)
	walk = func(e Expr) {
		if e.Op == OpWord {
			seen[e.Word] = true
		}
		for _, it := range e.Items {
			walk(it)
		}
	}
	for _, g := range gs {
		for _, r := range g.Rules {
			walk(r)
		}
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// maxExpand bounds a counted repeat spelled out in JSGF (x x [x [x]]):
// above it the repeat is unbounded, which a recogniser handles as well and
// the interpreter still checks the count.
const maxExpand = 32

// JSGF compiles gs into one JSGF 1.0 grammar whose public rule <root>
// accepts what any of them accepts. Words for which known returns false
// (no pronunciation) become <VOID>, so the paths through them cannot be
// taken and the rest of the grammar still works; they are returned so the
// caller can say so.
func JSGF(gs []Grammar, known func(word string) bool) (string, []string, error) {
	if len(gs) == 0 {
		return "", nil, ErrNoGrammar
	}
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar tandem;\n")
	var roots []string
	missing := map[string]bool{}
	for gi, g := range gs {
		names := map[string]string{}
		ids := make([]string, 0, len(g.Rules))
		for id := range g.Rules {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for i, id := range ids {
			names[id] = fmt.Sprintf("g%dr%d", gi, i)
		}
		root, ok := names[g.Root]
		if !ok {
			return "", nil, fmt.Errorf("asr: grammar %s: root rule %q not defined", g.Name, g.Root)
		}
		roots = append(roots, "<"+root+">")
		for _, id := range ids {
			var body strings.Builder
			if err := writeExpr(&body, g.Rules[id], names, known, missing, 0); err != nil {
				return "", nil, fmt.Errorf("asr: grammar %s rule %q: %w", g.Name, id, err)
			}
			fmt.Fprintf(&b, "<%s> = %s;\n", names[id], body.String())
		}
	}
	fmt.Fprintf(&b, "public <root> = %s;\n", strings.Join(roots, " | "))
	var miss []string
	for w := range missing {
		miss = append(miss, w)
	}
	sort.Strings(miss)
	return b.String(), miss, nil
}

func writeExpr(b *strings.Builder, e Expr, names map[string]string, known func(string) bool, missing map[string]bool, depth int) error {
	if depth > 200 {
		return fmt.Errorf("expression nested too deep")
	}
	min, max := e.Min, e.Max
	if min == 0 && max == 0 {
		min, max = 1, 1
	}
	if max > maxExpand {
		max = -1
	}
	if min > maxExpand {
		min = maxExpand
	}
	var one strings.Builder
	if err := writeOnce(&one, e, names, known, missing, depth); err != nil {
		return err
	}
	atom := "(" + one.String() + ")"
	var parts []string
	for range min {
		parts = append(parts, atom)
	}
	switch {
	case max < 0 && min == 0:
		parts = append(parts, atom+"*")
	case max < 0:
		parts[len(parts)-1] = atom + "+"
	default:
		// x x [x [x]]: each optional copy nested in the one before.
		opt := ""
		for range max - min {
			if opt == "" {
				opt = "[" + atom + "]"
			} else {
				opt = "[" + atom + " " + opt + "]"
			}
		}
		if opt != "" {
			parts = append(parts, opt)
		}
	}
	if len(parts) == 0 {
		b.WriteString("<NULL>")
		return nil
	}
	b.WriteString(strings.Join(parts, " "))
	return nil
}

func writeOnce(b *strings.Builder, e Expr, names map[string]string, known func(string) bool, missing map[string]bool, depth int) error {
	switch e.Op {
	case OpWord:
		w := strings.ToLower(e.Word)
		if w == "" || !jsgfToken(w) {
			return fmt.Errorf("word %q cannot be spoken", e.Word)
		}
		if known != nil && !known(w) {
			missing[w] = true
			b.WriteString("<VOID>")
			return nil
		}
		b.WriteString(w)
	case OpRef:
		n, ok := names[e.Rule]
		if !ok {
			return fmt.Errorf("reference to undefined rule %q", e.Rule)
		}
		b.WriteString("<" + n + ">")
	case OpSeq:
		if len(e.Items) == 0 {
			b.WriteString("<NULL>")
			return nil
		}
		for i, it := range e.Items {
			if i > 0 {
				b.WriteByte(' ')
			}
			if err := writeExpr(b, it, names, known, missing, depth+1); err != nil {
				return err
			}
		}
	case OpAlt:
		// Alternatives that cannot be spoken are left out rather than
		// written as <VOID>, which the engine's JSGF compiler does not
		// prune from a choice.
		n := 0
		for _, it := range e.Items {
			if void(it, known, missing) {
				continue
			}
			if n > 0 {
				b.WriteString(" | ")
			}
			n++
			if err := writeExpr(b, it, names, known, missing, depth+1); err != nil {
				return err
			}
		}
		if n == 0 {
			b.WriteString("<VOID>")
		}
	default:
		return fmt.Errorf("unknown expression kind %d", e.Op)
	}
	return nil
}

// void reports whether e can match nothing because of words without a
// pronunciation (noting them in missing). Rule references are taken as
// speakable.
func void(e Expr, known func(string) bool, missing map[string]bool) bool {
	if e.Min == 0 && e.Max != 0 {
		return false // optional: the empty phrase remains
	}
	switch e.Op {
	case OpWord:
		w := strings.ToLower(e.Word)
		if known != nil && jsgfToken(w) && w != "" && !known(w) {
			missing[w] = true
			return true
		}
	case OpSeq:
		for _, it := range e.Items {
			if void(it, known, missing) {
				return true
			}
		}
	case OpAlt:
		for _, it := range e.Items {
			if !void(it, known, missing) {
				return false
			}
		}
		return true
	}
	return false
}

// jsgfToken reports whether w can be written as a bare JSGF token: the
// words a dictionary can hold (letters, digits, apostrophe, hyphen, dot).
func jsgfToken(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-' && r != '.' && r != '_' {
			return false
		}
	}
	return true
}
