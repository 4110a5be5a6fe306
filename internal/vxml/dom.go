package vxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Node is one element or text run of a parsed VoiceXML, SRGS or data document.
// The interpreter walks this tree directly: VoiceXML is small and is executed
// element by element, so a generic tree keeps unknown and mixed content (text
// between <prompt> children, SSML) without a struct per element.
type Node struct {
	Name     string // local element name; "" for a text node
	Space    string // namespace URI of the element
	Attrs    []xml.Attr
	Children []*Node
	Text     string // character data of a text node
	Parent   *Node
	Line     int // line of the start tag, for error messages
}

// IsText reports whether n is a character-data node.
func (n *Node) IsText() bool { return n.Name == "" }

// Attr returns the value of the attribute with local name name.
func (n *Node) Attr(name string) string {
	v, _ := n.LookupAttr(name)
	return v
}

// LookupAttr returns the attribute value and whether it is present.
func (n *Node) LookupAttr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// HasAttr reports whether the attribute is present, even if empty.
func (n *Node) HasAttr(name string) bool {
	_, ok := n.LookupAttr(name)
	return ok
}

// Elements returns the element children (text nodes skipped).
func (n *Node) Elements() []*Node {
	var out []*Node
	for _, c := range n.Children {
		if !c.IsText() {
			out = append(out, c)
		}
	}
	return out
}

// ChildrenNamed returns the element children called name.
func (n *Node) ChildrenNamed(name string) []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// TextContent is the concatenated character data below n.
func (n *Node) TextContent() string {
	if n.IsText() {
		return n.Text
	}
	var b strings.Builder
	var walk func(*Node)
	walk = func(x *Node) {
		for _, c := range x.Children {
			if c.IsText() {
				b.WriteString(c.Text)
			} else {
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// Where names the element and line for error messages.
func (n *Node) Where() string {
	if n == nil {
		return "?"
	}
	return fmt.Sprintf("<%s> line %d", n.Name, n.Line)
}

// maxDepth bounds element nesting so a hostile document cannot exhaust the stack
// of the recursive walkers.
const maxDepth = 200

// ParseXML parses an XML document into a Node tree rooted at its document element.
func ParseXML(data []byte) (*Node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// Documents declare ISO-8859-1 and friends; pass bytes through rather than
	// fail, since the prompts we care about are ASCII.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	dec.Entity = xml.HTMLEntity
	var root *Node
	var stack []*Node
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, maxDepth)
			}
			line := 1 + bytes.Count(data[:off], []byte{'\n'})
			n := &Node{Name: t.Name.Local, Space: t.Name.Space, Attrs: t.Attr, Line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				n.Parent = p
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
				}
				continue
			}
			p := stack[len(stack)-1]
			// Merge adjacent runs (CDATA next to text) into one node.
			if k := len(p.Children); k > 0 && p.Children[k-1].IsText() {
				p.Children[k-1].Text += string(t)
			} else {
				p.Children = append(p.Children, &Node{Text: string(t), Parent: p})
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: unclosed <%s>", ErrMalformed, stack[len(stack)-1].Name)
	}
	return root, nil
}
