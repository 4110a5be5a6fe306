package field

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// NodeLine resolves a field path relative to n (scripts[sales].nodes[q1].target)
// in a parsed YAML document and returns the line of the deepest part found:
// the field's key when it is there, else the item or section that should
// hold it; 0 for a nil node. A bracket holds a sequence index or the
// item's name, id or number, as the router's validation paths use them.
func NodeLine(n *yaml.Node, path string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range splitPath(path) {
		var next *yaml.Node
		keyLine := 0
		switch {
		case strings.HasPrefix(seg, "["):
			next = seqItem(n, strings.TrimSuffix(strings.TrimPrefix(seg, "["), "]"))
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

// ItemName is how a path names a sequence item: its name, id or number
// when it has one, else its index.
func ItemName(item *yaml.Node, index int) string {
	if item.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(item.Content); i += 2 {
			switch item.Content[i].Value {
			case "name", "id", "number":
				if v := item.Content[i+1]; v.Kind == yaml.ScalarNode && v.Value != "" {
					return v.Value
				}
			}
		}
	}
	return strconv.Itoa(index)
}

func seqItem(seq *yaml.Node, key string) *yaml.Node {
	if seq.Kind != yaml.SequenceNode {
		return nil
	}
	// A name first: an item may be named by a number (a dialed number,
	// an agent id), which its path uses instead of the index.
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
	if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(seq.Content) {
		return seq.Content[i]
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
