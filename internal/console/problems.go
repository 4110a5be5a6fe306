package console

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/router"
)

// Problem is one thing wrong with a router document, at its line (1-based;
// 0 when it cannot be placed).
type Problem struct {
	Line int    `json:"line"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"msg"`
}

// yamlLine finds the line yaml.v3 names in its errors ("yaml: line 12:",
// "line 12: field foo not found").
var yamlLine = regexp.MustCompile(`line (\d+)`)

// checkDocument parses and validates a router document and returns its
// problems, each placed at a line of text, with the parsed configuration
// (zero when it does not parse).
func checkDocument(text []byte) ([]Problem, router.Config) {
	cfg, err := router.ParseConfig(text)
	if err != nil {
		return syntaxProblems(err), router.Config{}
	}
	errs := cfg.Validate()
	if len(errs) == 0 {
		return nil, cfg
	}
	var root yaml.Node
	_ = yaml.Unmarshal(text, &root) // it parsed above
	out := make([]Problem, len(errs))
	for i, fe := range errs {
		out[i] = Problem{Line: lineOf(&root, fe.Path), Path: fe.Path, Msg: fe.Msg}
	}
	return out, cfg
}

// syntaxProblems splits a YAML decoding error (which may list several
// lines) into problems.
func syntaxProblems(err error) []Problem {
	msg := strings.TrimPrefix(err.Error(), "router: config: ")
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Problem, 0, len(te.Errors))
		for _, e := range te.Errors {
			out = append(out, Problem{Line: lineIn(e), Msg: e})
		}
		return out
	}
	return []Problem{{Line: lineIn(msg), Msg: msg}}
}

func lineIn(s string) int {
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// lineOf resolves a validation path (router.scripts[sales].nodes[q1].target)
// in the document and returns the line of the deepest part found: the
// field's key when it is there, else the item or section that should hold
// it. A bracket holds an index or the item's name, id or number.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range splitPath(strings.TrimPrefix(path, "router.")) {
		var next *yaml.Node
		keyLine := 0
		switch {
		case strings.HasPrefix(seg, "["):
			next = item(n, strings.TrimSuffix(strings.TrimPrefix(seg, "["), "]"))
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					keyLine, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		}
		if next == nil {
			break
		}
		n, line = next, next.Line
		if keyLine != 0 {
			line = keyLine
		}
	}
	return line
}

func item(seq *yaml.Node, key string) *yaml.Node {
	if seq.Kind != yaml.SequenceNode {
		return nil
	}
	if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(seq.Content) {
		// An index, unless an item is named by that number (a dialed
		// number, an agent id), which a path would use instead.
		if named := itemNamed(seq, key); named != nil {
			return named
		}
		return seq.Content[i]
	}
	return itemNamed(seq, key)
}

func itemNamed(seq *yaml.Node, key string) *yaml.Node {
	for _, it := range seq.Content {
		if it.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(it.Content); i += 2 {
			switch it.Content[i].Value {
			case "name", "id", "number":
				if it.Content[i+1].Value == key {
					return it
				}
			}
		}
	}
	return nil
}

// splitPath cuts a.b[c.d].e into a, b, [c.d], e: brackets may hold dots.
func splitPath(p string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; ch {
		case '.':
			flush()
		case '[':
			flush()
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				out = append(out, p[i:]+"]")
				return out
			}
			out = append(out, p[i:i+j+1])
			i += j
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	return out
}
