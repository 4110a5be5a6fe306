package vxml

import (
	"fmt"
	"strings"
	"unicode"
)

// ParseABNF compiles an SRGS grammar in its ABNF form (SRGS 1.0 section 4,
// type application/srgs) into the same rule tree as the XML form. Supported:
// the self-identifying header, language/mode/root/tag-format declarations,
// public/private rules, alternatives (|), sequences, ( ) groups, [ ]
// optionals, <m-n> repeats, "quoted" tokens, $local and $NULL/$VOID/$GARBAGE
// rule references, {tags} and {!{ tags }!}, and /weights/ (ignored).
func ParseABNF(src, defaultMode string) (*SRGS, error) {
	p := &abnfParser{src: src}
	s := &SRGS{Mode: defaultMode, rules: map[string]*gnode{}, imported: map[string]string{}}
	p.skipSpace()
	if strings.HasPrefix(p.rest(), "#ABNF") {
		if _, err := p.statement(); err != nil {
			return nil, err
		}
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			break
		}
		st := p.rest()
		switch {
		case hasWord(st, "language"), hasWord(st, "lexicon"), hasWord(st, "meta"), hasWord(st, "http-equiv"), hasWord(st, "base"):
			if _, err := p.statement(); err != nil {
				return nil, err
			}
		case hasWord(st, "mode"):
			v, err := p.statement()
			if err != nil {
				return nil, err
			}
			s.Mode = strings.TrimSpace(strings.TrimPrefix(v, "mode"))
		case hasWord(st, "root"):
			v, err := p.statement()
			if err != nil {
				return nil, err
			}
			s.Root = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(v, "root")), "$")
		case hasWord(st, "tag-format"):
			v, err := p.statement()
			if err != nil {
				return nil, err
			}
			s.TagFormat = strings.Trim(strings.TrimSpace(strings.TrimPrefix(v, "tag-format")), "<>")
		default:
			if err := p.rule(s); err != nil {
				return nil, err
			}
		}
	}
	if s.Mode != "dtmf" && s.Mode != "voice" {
		return nil, fmt.Errorf("abnf grammar: bad mode %q", s.Mode)
	}
	if s.Root == "" {
		return nil, fmt.Errorf("abnf grammar: no root declaration")
	}
	if _, ok := s.rules[s.Root]; !ok {
		return nil, fmt.Errorf("abnf grammar: root rule $%s not defined", s.Root)
	}
	for id, body := range s.rules {
		if err := s.checkRefs(body); err != nil {
			return nil, fmt.Errorf("abnf grammar rule $%s: %w", id, err)
		}
	}
	return s, nil
}

func hasWord(s, w string) bool {
	return strings.HasPrefix(s, w) && len(s) > len(w) && unicode.IsSpace(rune(s[len(w)]))
}

type abnfParser struct {
	src   string
	pos   int
	depth int
}

func (p *abnfParser) rest() string { return p.src[p.pos:] }

func (p *abnfParser) errf(format string, args ...any) error {
	return fmt.Errorf("abnf grammar at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *abnfParser) skipSpace() {
	for p.pos < len(p.src) {
		r := p.src[p.pos]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			p.pos++
		case strings.HasPrefix(p.rest(), "//"):
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case strings.HasPrefix(p.rest(), "/*"):
			end := strings.Index(p.rest()[2:], "*/")
			if end < 0 {
				p.pos = len(p.src)
				return
			}
			p.pos += end + 4
		default:
			return
		}
	}
}

// statement reads up to the next ';' (declarations hold no tags or quotes).
func (p *abnfParser) statement() (string, error) {
	end := strings.IndexByte(p.rest(), ';')
	if end < 0 {
		return "", p.errf("missing ';'")
	}
	v := p.rest()[:end]
	p.pos += end + 1
	return strings.TrimSpace(v), nil
}

func (p *abnfParser) rule(s *SRGS) error {
	st := p.rest()
	if hasWord(st, "public") {
		p.pos += len("public")
	} else if hasWord(st, "private") {
		p.pos += len("private")
	}
	p.skipSpace()
	if !strings.HasPrefix(p.rest(), "$") {
		return p.errf("expected a rule definition")
	}
	p.pos++
	name := p.ident()
	if name == "" {
		return p.errf("rule without a name")
	}
	p.skipSpace()
	if !strings.HasPrefix(p.rest(), "=") {
		return p.errf("expected '=' after $%s", name)
	}
	p.pos++
	body, err := p.alternatives()
	if err != nil {
		return err
	}
	p.skipSpace()
	if !strings.HasPrefix(p.rest(), ";") {
		return p.errf("expected ';' after rule $%s", name)
	}
	p.pos++
	if _, dup := s.rules[name]; dup {
		return p.errf("duplicate rule $%s", name)
	}
	s.rules[name] = body
	return nil
}

func (p *abnfParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) {
		r := rune(p.src[p.pos])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' || r == ':' {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

func (p *abnfParser) alternatives() (*gnode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf("nested too deep")
	}
	alt := &gnode{kind: gAlt, min: 1, max: 1}
	for {
		seq, err := p.sequence()
		if err != nil {
			return nil, err
		}
		alt.children = append(alt.children, seq)
		p.skipSpace()
		if !strings.HasPrefix(p.rest(), "|") {
			break
		}
		p.pos++
	}
	if len(alt.children) == 1 {
		return alt.children[0], nil
	}
	return alt, nil
}

func (p *abnfParser) sequence() (*gnode, error) {
	seq := &gnode{kind: gSeq, min: 1, max: 1}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return seq, nil
		}
		switch p.src[p.pos] {
		case ';', '|', ')', ']':
			return seq, nil
		}
		n, err := p.item()
		if err != nil {
			return nil, err
		}
		if n != nil {
			seq.children = append(seq.children, n)
		}
	}
}

func (p *abnfParser) item() (*gnode, error) {
	var n *gnode
	c := p.src[p.pos]
	switch {
	case c == '/': // weight: /2.5/ — a recogniser hint, ignored
		end := strings.IndexByte(p.rest()[1:], '/')
		if end < 0 {
			return nil, p.errf("unterminated weight")
		}
		p.pos += end + 2
		return nil, nil
	case c == '(' || c == '[':
		p.pos++
		inner, err := p.alternatives()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		closer := map[byte]byte{'(': ')', '[': ']'}[c]
		if p.pos >= len(p.src) || p.src[p.pos] != closer {
			return nil, p.errf("expected %q", closer)
		}
		p.pos++
		n = &gnode{kind: gSeq, children: []*gnode{inner}, min: 1, max: 1}
		if c == '[' {
			n.max, n.min = 1, 0
		}
	case c == '{':
		tag, err := p.tag()
		if err != nil {
			return nil, err
		}
		return &gnode{kind: gTag, tag: tag, min: 1, max: 1}, nil
	case c == '$':
		p.pos++
		if strings.HasPrefix(p.rest(), "<") {
			return nil, p.errf("external rule references are not supported in ABNF")
		}
		name := p.ident()
		switch name {
		case "NULL":
			n = &gnode{kind: gNull, min: 1, max: 1}
		case "VOID":
			n = &gnode{kind: gVoid, min: 1, max: 1}
		case "GARBAGE":
			n = &gnode{kind: gGarbage, min: 1, max: 1}
		case "":
			return nil, p.errf("empty rule reference")
		default:
			n = &gnode{kind: gRef, ref: name, min: 1, max: 1}
		}
	case c == '"':
		end := strings.IndexByte(p.rest()[1:], '"')
		if end < 0 {
			return nil, p.errf("unterminated quoted token")
		}
		tok := p.rest()[1 : end+1]
		p.pos += end + 2
		seq := &gnode{kind: gSeq, min: 1, max: 1}
		for _, w := range strings.Fields(strings.ToLower(tok)) {
			seq.children = append(seq.children, &gnode{kind: gToken, token: w, min: 1, max: 1})
		}
		n = seq
	default:
		start := p.pos
		for p.pos < len(p.src) {
			r := p.src[p.pos]
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || strings.IndexByte(";|()[]{}<$\"/", r) >= 0 {
				break
			}
			p.pos++
		}
		if p.pos == start {
			return nil, p.errf("unexpected %q", c)
		}
		n = &gnode{kind: gToken, token: strings.ToLower(p.src[start:p.pos]), min: 1, max: 1}
	}
	// Optional repeat operator <m>, <m->, <m-n> (with an optional /prob/).
	p.skipSpace()
	if strings.HasPrefix(p.rest(), "<") {
		end := strings.IndexByte(p.rest(), '>')
		if end < 0 {
			return nil, p.errf("unterminated repeat")
		}
		spec := p.rest()[1:end]
		if i := strings.IndexByte(spec, '/'); i >= 0 {
			spec = spec[:i]
		}
		p.pos += end + 1
		min, max, err := parseRepeat(strings.TrimSpace(spec))
		if err != nil {
			return nil, p.errf("%v", err)
		}
		if n.min != 1 || n.max != 1 {
			n = &gnode{kind: gSeq, children: []*gnode{n}}
		}
		n.min, n.max = min, max
	}
	return n, nil
}

func (p *abnfParser) tag() (string, error) {
	if strings.HasPrefix(p.rest(), "{!{") {
		end := strings.Index(p.rest(), "}!}")
		if end < 0 {
			return "", p.errf("unterminated {!{ tag")
		}
		t := p.rest()[3:end]
		p.pos += end + 3
		return t, nil
	}
	depth := 0
	for i := p.pos; i < len(p.src); i++ {
		switch p.src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				t := p.src[p.pos+1 : i]
				p.pos = i + 1
				return t, nil
			}
		case '"', '\'':
			// Skip string literals so braces inside them do not count.
			q := p.src[i]
			j := i + 1
			for j < len(p.src) && p.src[j] != q {
				if p.src[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
	return "", p.errf("unterminated tag")
}
