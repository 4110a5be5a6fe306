package asr

import (
	"fmt"
	"strconv"
	"strings"
)

// The spoken forms of the VoiceXML builtin types (VoiceXML 2.0 appendix P),
// as grammars for a recogniser and as an interpreter of what it returns.
// US English, as the local engine's model is.

var (
	digitWords = map[string]int{"zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4,
		"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
	teenWords = map[string]int{"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
		"fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
	tensWords = map[string]int{"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
		"seventy": 70, "eighty": 80, "ninety": 90}
	months = []string{"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december"}
	ordinals = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
		"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
		"thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
		"eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30}
)

// BooleanYes and BooleanNo are the words the boolean builtin accepts, the
// same the interpreter maps to true and false.
var (
	BooleanYes = []string{"yes", "yeah", "correct", "affirmative", "true"}
	BooleanNo  = []string{"no", "nope", "negative", "false"}
)

func words(ws ...string) Expr {
	items := make([]Expr, len(ws))
	for i, w := range ws {
		items[i] = Word(w)
	}
	return Alt(items...)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func ref(r string) Expr { return Expr{Op: OpRef, Rule: r} }

func opt(e Expr) Expr { return Repeat(e, 0, 1) }

// numberRules are the cardinal numbers below a million, shared by number,
// currency and date.
func numberRules() map[string]Expr {
	return map[string]Expr{
		"digit": words(keys(digitWords)...),
		"unit":  words("one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
		"teen":  words(keys(teenWords)...),
		"tens":  words(keys(tensWords)...),
		// 0..99
		"under100": Alt(Word("zero"), ref("unit"), ref("teen"), Seq(ref("tens"), opt(ref("unit")))),
		// 1..999
		"under1000": Alt(
			Seq(ref("unit"), Word("hundred"), opt(Seq(opt(Word("and")), ref("under100")))),
			ref("under100")),
		"cardinal": Alt(
			Seq(ref("under1000"), Word("thousand"), opt(Seq(opt(Word("and")), ref("under1000")))),
			ref("under1000")),
	}
}

// Builtin is the speech grammar of a VoiceXML builtin type with its
// digits-length bounds (0: none). time and phone have no spoken form here.
func Builtin(typ string, minLen, maxLen int) (Grammar, error) {
	g := Grammar{Root: "root", Name: "builtin:" + typ}
	switch typ {
	case "boolean":
		g.Rules = map[string]Expr{"root": words(append(append([]string{}, BooleanYes...), BooleanNo...)...)}
	case "digits":
		if minLen <= 0 {
			minLen = 1
		}
		max := maxLen
		if max <= 0 {
			max = -1
		}
		g.Rules = map[string]Expr{"root": Repeat(words(keys(digitWords)...), minLen, max)}
	case "number":
		g.Rules = numberRules()
		g.Rules["root"] = Seq(ref("cardinal"), opt(Seq(Word("point"), Repeat(ref("digit"), 1, -1))))
	case "currency":
		g.Rules = numberRules()
		cents := Seq(ref("under100"), words("cents", "cent"))
		g.Rules["root"] = Alt(
			Seq(ref("cardinal"), words("dollars", "dollar"), opt(Seq(opt(Word("and")), cents))),
			cents)
	case "date":
		g.Rules = numberRules()
		day := make([]string, 0, len(ordinals)+2)
		day = append(day, keys(ordinals)...)
		g.Rules["day"] = Alt(words(day...), Seq(words("twenty"), words("first", "second", "third", "fourth",
			"fifth", "sixth", "seventh", "eighth", "ninth")), Seq(Word("thirty"), Word("first")))
		// "twenty twenty six", "nineteen ninety", "two thousand (and) five"
		g.Rules["year"] = Alt(
			Seq(Alt(ref("teen"), ref("tens")), Alt(ref("tens"), Seq(ref("tens"), ref("unit")), ref("teen"), Seq(Word("oh"), ref("unit")))),
			Seq(Word("two"), Word("thousand"), opt(Seq(opt(Word("and")), ref("under100")))))
		g.Rules["root"] = Seq(words(months...), opt(Word("the")), ref("day"), ref("year"))
	default:
		return Grammar{}, fmt.Errorf("asr: builtin %q has no spoken form", typ)
	}
	return g, nil
}

// Interpret turns the words of a builtin type into the value VoiceXML
// gives it (appendix P): digits "1234", number "123.5", currency "12.50",
// date "20260304", boolean unchanged. ok is false when the words are not
// of that type.
func Interpret(typ, text string) (string, bool) {
	ws := Words(text)
	if len(ws) == 0 {
		return "", false
	}
	switch typ {
	case "digits":
		var b strings.Builder
		for _, w := range ws {
			d, ok := digitWords[w]
			if !ok {
				return "", false
			}
			b.WriteByte(byte('0' + d))
		}
		return b.String(), true
	case "number":
		whole, rest, ok := cardinal(ws)
		if !ok {
			return "", false
		}
		s := strconv.Itoa(whole)
		if len(rest) > 0 {
			if rest[0] != "point" || len(rest) == 1 {
				return "", false
			}
			frac, ok := Interpret("digits", strings.Join(rest[1:], " "))
			if !ok {
				return "", false
			}
			s += "." + frac
		}
		return s, true
	case "currency":
		dollars, cents := 0, 0
		rest := ws
		if n, r, ok := cardinal(ws); ok && len(r) > 0 && (r[0] == "dollars" || r[0] == "dollar") {
			dollars, rest = n, r[1:]
			if len(rest) > 0 && rest[0] == "and" {
				rest = rest[1:]
			}
		}
		if len(rest) > 0 {
			n, r, ok := cardinal(rest)
			if !ok || n > 99 || len(r) != 1 || (r[0] != "cents" && r[0] != "cent") {
				return "", false
			}
			cents = n
		} else if len(rest) == len(ws) {
			return "", false
		}
		return fmt.Sprintf("%d.%02d", dollars, cents), true
	case "date":
		m := 0
		for i, name := range months {
			if ws[0] == name {
				m = i + 1
			}
		}
		if m == 0 || len(ws) < 3 {
			return "", false
		}
		rest := ws[1:]
		if rest[0] == "the" {
			rest = rest[1:]
		}
		d, rest := 0, rest
		if v, ok := ordinals[rest[0]]; ok {
			d, rest = v, rest[1:]
		} else if t, ok := tensWords[rest[0]]; ok && len(rest) > 1 {
			if v, ok := ordinals[rest[1]]; ok && v < 10 {
				d, rest = t+v, rest[2:]
			}
		}
		y, ok := year(rest)
		if d == 0 || d > 31 || !ok {
			return "", false
		}
		return fmt.Sprintf("%04d%02d%02d", y, m, d), true
	case "boolean":
		return strings.Join(ws, " "), true
	}
	return "", false
}

// cardinal reads a number below a million from the front of ws and returns
// it with the words after it.
func cardinal(ws []string) (int, []string, bool) {
	total, cur, i, any := 0, 0, 0, false
	for ; i < len(ws); i++ {
		w := ws[i]
		switch {
		case w == "and" && any:
			continue
		case w == "zero" && !any:
			any = true
		case digitWords[w] > 0 && w != "oh":
			cur += digitWords[w]
			any = true
		case teenWords[w] > 0:
			cur += teenWords[w]
			any = true
		case tensWords[w] > 0:
			cur += tensWords[w]
			any = true
		case w == "hundred" && any:
			cur *= 100
		case w == "thousand" && any:
			total += cur * 1000
			cur = 0
		default:
			return total + cur, ws[i:], any
		}
	}
	return total + cur, nil, any
}

// year reads "twenty twenty six", "nineteen ninety", "two thousand five".
func year(ws []string) (int, bool) {
	if len(ws) >= 2 && ws[0] == "two" && ws[1] == "thousand" {
		n, rest, ok := cardinal(ws)
		return n, ok && len(rest) == 0
	}
	if len(ws) < 2 {
		return 0, false
	}
	hi, rest, ok := cardinal(ws[:1])
	if !ok || len(rest) > 0 || hi < 10 {
		return 0, false
	}
	lw := ws[1:]
	if lw[0] == "oh" && len(lw) == 2 {
		if d := digitWords[lw[1]]; d > 0 {
			return hi*100 + d, true
		}
		return 0, false
	}
	lo, rest, ok := cardinal(lw)
	if !ok || len(rest) > 0 || lo > 99 {
		return 0, false
	}
	return hi*100 + lo, true
}
