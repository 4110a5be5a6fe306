package field

import (
	"fmt"
	"strings"
)

// Pattern is a compiled dial-plan pattern. The syntax is the one contact
// center people know from CVP and CUCM dial plans:
//
//	2000     exactly 2000
//	1XXX     1 followed by three digits
//	[2-4]1X  2, 3 or 4, then 1, then a digit
//	9!       9 followed by one or more characters
//	*        anything, including nothing (a default route)
//
// Letters other than X match themselves, so labels such as "agent" work too.
type Pattern struct {
	src   string
	elems []patElem
	// tail is 0, '!' (one or more more) or '*' (zero or more).
	tail byte
}

type patElem struct {
	any bool      // X
	set [256]bool // class or literal
}

// CompilePattern parses a dial-plan pattern.
func CompilePattern(s string) (*Pattern, error) {
	if s == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	p := &Pattern{src: s}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == '!' || c == '*') && i == len(s)-1:
			p.tail = c
		case c == '!' || c == '*':
			return nil, fmt.Errorf("pattern %q: %c is only allowed at the end", s, c)
		case c == 'X' || c == 'x':
			p.elems = append(p.elems, patElem{any: true})
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("pattern %q: [ without ]", s)
			}
			var e patElem
			body := s[i+1 : i+end]
			if body == "" {
				return nil, fmt.Errorf("pattern %q: empty []", s)
			}
			for j := 0; j < len(body); j++ {
				if j+2 < len(body) && body[j+1] == '-' {
					// A range runs over digits or over letters of one
					// case, so it cannot take in a character refused
					// elsewhere (space, @, <, quotes...).
					lo, hi := body[j], body[j+2]
					if lo > hi || !sameClass(lo, hi) {
						return nil, fmt.Errorf("pattern %q: bad range %q-%q (want e.g. 0-9 or a-f)", s, lo, hi)
					}
					for ch := int(lo); ch <= int(hi); ch++ {
						e.set[ch] = true
					}
					j += 2
					continue
				}
				if !dialable(body[j]) {
					return nil, fmt.Errorf("pattern %q: character %q not allowed", s, body[j])
				}
				e.set[body[j]] = true
			}
			p.elems = append(p.elems, e)
			i += end
		case c == ']':
			return nil, fmt.Errorf("pattern %q: ] without [", s)
		case !dialable(c):
			return nil, fmt.Errorf("pattern %q: character %q not allowed", s, c)
		default:
			var e patElem
			e.set[c] = true
			p.elems = append(p.elems, e)
		}
	}
	return p, nil
}

// dialable says whether c may be in a dialed string a pattern names: not
// a space, control or non-ASCII byte, nor a character of a SIP URI's
// syntax around its user part.
func dialable(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte("@:;<>\"", c) < 0
}

// sameClass says whether lo and hi are both digits, both lower-case or
// both upper-case letters.
func sameClass(lo, hi byte) bool {
	in := func(a, b byte) bool { return lo >= a && lo <= b && hi >= a && hi <= b }
	return in('0', '9') || in('a', 'z') || in('A', 'Z')
}

// Match reports whether the dialed string s matches.
func (p *Pattern) Match(s string) bool {
	if len(s) < len(p.elems) {
		return false
	}
	for i, e := range p.elems {
		c := s[i]
		if e.any {
			if c < '0' || c > '9' {
				return false
			}
			continue
		}
		if !e.set[c] {
			return false
		}
	}
	rest := len(s) - len(p.elems)
	switch p.tail {
	case '!':
		return rest >= 1
	case '*':
		return true
	default:
		return rest == 0
	}
}

// Specificity orders patterns when several match: more fixed characters
// first, then fewer wildcards, so 2000 beats 2XXX beats 2! beats *.
func (p *Pattern) Specificity() int {
	n := 0
	for _, e := range p.elems {
		if e.any {
			n += 10
		} else {
			n += 100
		}
	}
	switch p.tail {
	case '!':
		n += 1
	case 0:
		n += 5
	}
	return n
}

func (p *Pattern) String() string { return p.src }
