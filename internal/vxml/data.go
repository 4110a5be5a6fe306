package vxml

import (
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// <data> (VoiceXML 2.1 section 5): fetch XML and expose it to ECMAScript as a
// read-only subset of the W3C DOM Level 2 Core: documentElement, nodeName,
// nodeType, nodeValue, tagName, data, childNodes (with length and item),
// firstChild, lastChild, nextSibling, previousSibling, parentNode, attributes,
// getAttribute, hasAttribute, getElementsByTagName, hasChildNodes, textContent.

// maxDataNodes bounds the DOM built for one <data> fetch.
const maxDataNodes = 100000

func (s *Session) execData(fc *formCtx, n *Node, sc *Scope) error {
	src, err := s.attrOrExpr(n, sc, "src", "srcexpr")
	if err != nil {
		return err
	}
	if src == "" {
		return throw("error.badfetch", "%s: no src", n.Where())
	}
	uri, err := s.resolve(fc, src)
	if err != nil {
		return throw("error.badfetch", "%s: %v", n.Where(), err)
	}
	vals, _, err := s.encodeValues(sc, n.Attr("namelist"))
	if err != nil {
		return semantic(n, err)
	}
	req := s.fetchRequest(fc, n)
	req.URI, req.Method, req.Values, req.EncType = uri, strings.ToUpper(n.Attr("method")), vals, n.Attr("enctype")
	res, err := s.cfg.Fetcher.Fetch(s.ctx, req)
	if err != nil {
		return fetchEvent(err)
	}
	root, err := ParseXML(res.Body)
	if err != nil {
		return throw("error.badfetch", "%s: %s: %v", n.Where(), uri, err)
	}
	name := n.Attr("name")
	if name == "" {
		return nil
	}
	count := 0
	doc := s.domDocument(root, &count)
	if count > maxDataNodes {
		return throw("error.badfetch", "%s: %s has more than %d nodes", n.Where(), uri, maxDataNodes)
	}
	if err := s.e.Declare(sc, name, doc); err != nil {
		return semantic(n, err)
	}
	return nil
}

// domDocument builds the JS document object. The tree is built eagerly: data
// documents are small and eager objects keep identity (firstChild ===
// childNodes[0]) without caches.
func (s *Session) domDocument(root *Node, count *int) *goja.Object {
	rt := s.e.rt
	doc := rt.NewObject()
	doc.Set("nodeType", 9)
	doc.Set("nodeName", "#document")
	doc.Set("nodeValue", goja.Null())
	el := s.domNode(root, doc, count)
	doc.Set("documentElement", el)
	kids := rt.NewArray(el)
	kids.Set("item", func(i int) goja.Value { return kids.Get(strconv.Itoa(i)) })
	doc.Set("childNodes", kids)
	doc.Set("firstChild", el)
	doc.Set("lastChild", el)
	doc.Set("hasChildNodes", func() bool { return true })
	doc.Set("getElementsByTagName", func(tag string) *goja.Object {
		return s.byTag(el, tag, true)
	})
	return doc
}

func (s *Session) domNode(n *Node, parent *goja.Object, count *int) *goja.Object {
	rt := s.e.rt
	*count++
	o := rt.NewObject()
	o.Set("parentNode", parent)
	if n.IsText() {
		o.Set("nodeType", 3)
		o.Set("nodeName", "#text")
		o.Set("nodeValue", n.Text)
		o.Set("data", n.Text)
		o.Set("textContent", n.Text)
		o.Set("childNodes", rt.NewArray())
		o.Set("firstChild", goja.Null())
		o.Set("lastChild", goja.Null())
		o.Set("hasChildNodes", func() bool { return false })
		return o
	}
	o.Set("nodeType", 1)
	o.Set("nodeName", n.Name)
	o.Set("tagName", n.Name)
	o.Set("localName", n.Name)
	o.Set("nodeValue", goja.Null())
	o.Set("textContent", n.TextContent())
	attrs := rt.NewArray()
	for i, a := range n.Attrs {
		ao := rt.NewObject()
		ao.Set("nodeType", 2)
		ao.Set("name", a.Name.Local)
		ao.Set("nodeName", a.Name.Local)
		ao.Set("value", a.Value)
		ao.Set("nodeValue", a.Value)
		attrs.Set(strconv.Itoa(i), ao)
	}
	o.Set("attributes", attrs)
	o.Set("getAttribute", func(name string) string { return n.Attr(name) })
	o.Set("hasAttribute", func(name string) bool { return n.HasAttr(name) })
	var kids []any
	var prev *goja.Object
	for _, c := range n.Children {
		if *count > maxDataNodes {
			break
		}
		k := s.domNode(c, o, count)
		if prev != nil {
			prev.Set("nextSibling", k)
			k.Set("previousSibling", prev)
		} else {
			k.Set("previousSibling", goja.Null())
		}
		k.Set("nextSibling", goja.Null())
		prev = k
		kids = append(kids, k)
	}
	arr := rt.NewArray(kids...)
	arr.Set("item", func(i int) goja.Value {
		if i < 0 || i >= len(kids) {
			return goja.Null()
		}
		return arr.Get(strconv.Itoa(i))
	})
	o.Set("childNodes", arr)
	if len(kids) > 0 {
		o.Set("firstChild", kids[0])
		o.Set("lastChild", kids[len(kids)-1])
	} else {
		o.Set("firstChild", goja.Null())
		o.Set("lastChild", goja.Null())
	}
	o.Set("hasChildNodes", func() bool { return len(kids) > 0 })
	o.Set("getElementsByTagName", func(tag string) *goja.Object { return s.byTag(o, tag, false) })
	return o
}

// byTag walks the built JS tree so the returned nodes are the same objects
// the rest of the DOM hands out.
func (s *Session) byTag(start *goja.Object, tag string, includeSelf bool) *goja.Object {
	var out []any
	var walk func(o *goja.Object, self bool)
	walk = func(o *goja.Object, self bool) {
		if self && o.Get("nodeType").ToInteger() == 1 && (tag == "*" || o.Get("nodeName").String() == tag) {
			out = append(out, o)
		}
		kids, _ := o.Get("childNodes").(*goja.Object)
		if kids == nil {
			return
		}
		l := int(kids.Get("length").ToInteger())
		for i := 0; i < l; i++ {
			if k, ok := kids.Get(strconv.Itoa(i)).(*goja.Object); ok {
				walk(k, true)
			}
		}
	}
	walk(start, includeSelf)
	arr := s.e.rt.NewArray(out...)
	arr.Set("item", func(i int) goja.Value {
		if i < 0 || i >= len(out) {
			return goja.Null()
		}
		return arr.Get(strconv.Itoa(i))
	})
	return arr
}
