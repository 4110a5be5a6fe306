package vxml

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/tandem-cc/tandem/internal/asr"
)

// Grammar matches one collected input. Grammars are compiled once per element;
// Match is pure except for semantic interpretation, which runs on the
// session's ECMAScript engine.
type Grammar struct {
	Mode    string // "dtmf" or "voice"
	builtin *builtinGrammar
	srgs    *SRGS
	choices []choiceEntry // <option>s and <choice>s
	Scope   string        // "dialog" or "document" (spec 3.1.3)
	Src     string        // where it came from, for messages
}

// Result is a grammar match: what the caller said or keyed and what it means.
type Result struct {
	Utterance string
	Interp    any // string, float64, bool or map[string]any
	Mode      string
	// Confidence is the input's (1 for DTMF); NBest the further results
	// of a recogniser's alternatives that matched, best first.
	Confidence float64
	NBest      []*Result
}

// Match tries input (DTMF keys or a text utterance) against g.
func (g *Grammar) Match(e *engine, mode, input string) (*Result, error) {
	if g.Mode != mode {
		return nil, errNoMatch
	}
	if g.srgs == nil && g.builtin == nil {
		return g.matchChoices(mode, input) // <option>s, <choice>s (possibly none)
	}
	if g.builtin != nil {
		v, ok := g.builtin.match(mode, input)
		if !ok {
			return nil, errNoMatch
		}
		return &Result{Utterance: input, Interp: v, Mode: mode}, nil
	}
	return g.srgs.Match(e, tokenize(mode, input))
}

// MaxDigits is the longest DTMF input g accepts, 0 when unbounded.
func (g *Grammar) MaxDigits() int {
	if g.builtin != nil && g.Mode == "dtmf" {
		return g.builtin.maxLen
	}
	return 0
}

func tokenize(mode, input string) []string {
	if mode == "dtmf" {
		var out []string
		for _, r := range input {
			if !unicode.IsSpace(r) {
				out = append(out, string(r))
			}
		}
		return out
	}
	f := strings.FieldsFunc(strings.ToLower(input), func(r rune) bool {
		return unicode.IsSpace(r) || (unicode.IsPunct(r) && r != '\'' && r != '-')
	})
	return f
}

// builtinGrammar is one of the spec's built-in types (appendix P) for DTMF, with
// a text rendering for voice so a scripted utterance can drive it.
type builtinGrammar struct {
	typ            string
	minLen, maxLen int
	yes, no        string // boolean keys
}

// ParseBuiltin parses a field type or builtin: URI ("digits?minlength=2;maxlength=4",
// "builtin:dtmf/boolean?y=7;n=9") for the given mode.
func ParseBuiltin(spec, mode string) (*Grammar, error) {
	s := strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(s, "builtin:"); ok {
		s = rest
		switch {
		case strings.HasPrefix(s, "dtmf/"):
			mode, s = "dtmf", s[5:]
		case strings.HasPrefix(s, "voice/"):
			mode, s = "voice", s[6:]
		case strings.HasPrefix(s, "grammar/"):
			s = s[8:]
		default:
			return nil, fmt.Errorf("unknown builtin grammar URI %q", spec)
		}
	}
	typ, params, _ := strings.Cut(s, "?")
	b := &builtinGrammar{typ: typ, yes: "1", no: "2"}
	switch typ {
	case "digits", "boolean", "number", "currency", "date", "time", "phone":
	default:
		return nil, fmt.Errorf("unknown builtin type %q", typ)
	}
	if params != "" {
		for _, p := range strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == '&' }) {
			k, v, _ := strings.Cut(p, "=")
			n, err := strconv.Atoi(v)
			switch k {
			case "y":
				b.yes = v
				continue
			case "n":
				b.no = v
				continue
			}
			if err != nil || n < 0 {
				return nil, fmt.Errorf("builtin %q: bad parameter %q", spec, p)
			}
			switch k {
			case "length":
				b.minLen, b.maxLen = n, n
			case "minlength":
				b.minLen = n
			case "maxlength":
				b.maxLen = n
			default:
				return nil, fmt.Errorf("builtin %q: unknown parameter %q", spec, k)
			}
		}
		if b.maxLen > 0 && b.minLen > b.maxLen {
			return nil, fmt.Errorf("builtin %q: minlength above maxlength", spec)
		}
	}
	switch typ {
	case "boolean":
		b.maxLen = 1
	case "date":
		b.minLen, b.maxLen = 8, 8
	case "time":
		b.minLen, b.maxLen = 4, 4
	}
	return &Grammar{Mode: mode, builtin: b, Src: "builtin:" + spec}, nil
}

var spokenDigits = map[string]string{
	"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
	"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
	"point": ".", "dot": ".",
}

func (b *builtinGrammar) match(mode, input string) (any, bool) {
	in := strings.TrimSpace(input)
	if mode == "voice" {
		low := strings.ToLower(in)
		if b.typ == "boolean" {
			switch low {
			case "yes", "true", "yeah", "affirmative", "correct":
				return true, true
			case "no", "false", "nope", "negative":
				return false, true
			}
			return nil, false
		}
		// A recogniser's words for a number, an amount or a date ("one
		// hundred twenty", "march fourth twenty twenty six") become the
		// digits the checks below take.
		if v, ok := asr.Interpret(b.typ, low); ok && b.typ != "digits" {
			low = v
		}
		// Spoken digits ("one two three") become keys; digits as text pass through.
		var sb strings.Builder
		for _, w := range strings.Fields(low) {
			if d, ok := spokenDigits[w]; ok {
				sb.WriteString(d)
			} else {
				sb.WriteString(w)
			}
		}
		in = strings.ReplaceAll(sb.String(), ".", "*")
	}
	digitsOnly := func(s string) bool {
		if s == "" {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	lenOK := func(s string) bool {
		return len(s) >= b.minLen && (b.maxLen == 0 || len(s) <= b.maxLen)
	}
	switch b.typ {
	case "digits":
		if digitsOnly(in) && lenOK(in) {
			return in, true
		}
	case "boolean":
		switch in {
		case b.yes:
			return true, true
		case b.no:
			return false, true
		}
	case "number":
		// DTMF: * is the decimal point (appendix P).
		s := strings.Replace(in, "*", ".", 1)
		if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eE+-") && s != "" {
			if strings.HasSuffix(s, ".") {
				return nil, false
			}
			return s, true
		}
	case "currency":
		s := strings.Replace(in, "*", ".", 1)
		if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eE+-") {
			if !strings.Contains(s, ".") {
				s += ".00"
			}
			return s, true
		}
	case "date":
		if digitsOnly(in) && len(in) == 8 {
			m, _ := strconv.Atoi(in[4:6])
			d, _ := strconv.Atoi(in[6:8])
			if m >= 1 && m <= 12 && d >= 1 && d <= 31 {
				return in, true
			}
		}
	case "time":
		if digitsOnly(in) && len(in) == 4 {
			h, _ := strconv.Atoi(in[:2])
			m, _ := strconv.Atoi(in[2:])
			if h < 24 && m < 60 {
				return in + "h", true // 24-hour clock from DTMF
			}
		}
	case "phone":
		main, ext, hasExt := strings.Cut(in, "*")
		if digitsOnly(main) && (!hasExt || digitsOnly(ext)) {
			if hasExt {
				return main + "x" + ext, true
			}
			return main, true
		}
	}
	return nil, false
}

// choiceEntry is one <option> or menu <choice>: a DTMF key and/or a phrase.
type choiceEntry struct {
	dtmf, phrase string
	approximate  bool // accept="approximate": any of the words will do
	value        any
}

func (g *Grammar) matchChoices(mode, input string) (*Result, error) {
	in := strings.Join(tokenize(mode, input), " ")
	for _, c := range g.choices {
		if mode == "dtmf" {
			if c.dtmf != "" && strings.Join(tokenize(mode, c.dtmf), " ") == in {
				return &Result{Utterance: input, Interp: c.value, Mode: mode}, nil
			}
			continue
		}
		p := strings.Join(tokenize(mode, c.phrase), " ")
		if p == "" {
			continue
		}
		if p == in || (c.approximate && containsWords(p, in)) {
			return &Result{Utterance: input, Interp: c.value, Mode: mode}, nil
		}
	}
	return nil, errNoMatch
}

// containsWords reports whether every word of said occurs in phrase, in order.
func containsWords(phrase, said string) bool {
	pw := strings.Fields(phrase)
	i := 0
	for _, w := range strings.Fields(said) {
		for i < len(pw) && pw[i] != w {
			i++
		}
		if i == len(pw) {
			return false
		}
		i++
	}
	return said != ""
}
