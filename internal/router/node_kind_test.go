package router

import (
	"strings"
	"testing"
)

// A node kind added as one file: "tag" is registered here, in this test
// file only, and a script runs through it. Nothing else in the package
// knows of it.
var nTag = registerNode(&nodeKind{
	name: "tag",
	doc:  "variable (pv1..pv10 or user.<ecc>), value (a literal, no expression), next",
	compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
		cn.variable = n.Variable
		cx.variable("variable", n.Variable)
		if n.Value == "" {
			cx.problem("value", "a tag node needs a value")
		}
		cn.next = cx.exit("next", n.Next, true)
		return &tagOp{value: n.Value}
	},
})

type tagOp struct{ value string }

func (op *tagOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	if err := e.setVar(c, n.variable, op.value); err != nil {
		e.scriptLog(c).Warn("router: tag failed", "node", n.id, "err", err)
	}
	c.pc = n.next
	return Instruction{}, false
}

const tagYAML = `
dialed_numbers: [{number: "1000", call_type: t}]
call_types: [{name: t, script: t}]
skill_groups: [{name: sales}]
scripts:
  - name: t
    nodes:
      - {id: s, type: start, next: t1}
      - {id: t1, type: tag, variable: pv3, value: gold, next: t2}
      - {id: t2, type: tag, variable: user.tier, value: "vip", next: rel}
      - {id: rel, type: release, code: 486, reason: Busy Here}
ecc_variables: [{name: user.tier, max_length: 8}]
`

func TestNodeKindAddedAsOneFile(t *testing.T) {
	if nodeKinds["tag"] != nTag {
		t.Fatal("the tag kind is not registered")
	}
	h := newHarness(t, tagYAML)
	in := route(t, h, "c1", "1000", "555")
	if in.Kind != Release || in.RejectCode != 486 || in.RejectReason != "Busy Here" {
		t.Fatalf("instruction %+v, want release 486 Busy Here", in)
	}
	if in.Data.PV[2] != "gold" || in.Data.ECC["user.tier"] != "vip" {
		t.Fatalf("call data %+v, want pv3=gold and user.tier=vip set by the tag nodes", in.Data)
	}

	// Its compile checks are named by node and field like any kind's.
	bad := strings.Replace(tagYAML, "{id: t2, type: tag, variable: user.tier, value: \"vip\", next: rel}",
		"{id: t2, type: tag, variable: pv11, next: gone}", 1)
	_, errs := compile(ptr(mustConfig(t, bad)))
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`router.scripts[t].nodes[t2].variable: unknown variable "pv11"`,
		`router.scripts[t].nodes[t2].value: a tag node needs a value`,
		`router.scripts[t].nodes[t2].next: unknown node "gone"`,
		`router.scripts[t].nodes[rel]: unreachable from the start node`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if !strings.Contains(NodeReference(), "tag              variable (pv1..pv10 or user.<ecc>), value (a literal") {
		t.Errorf("NodeReference has no tag row:\n%s", NodeReference())
	}
}

func ptr[T any](v T) *T { return &v }

// Every built-in kind states its row, and an unknown type is answered
// with the types there are.
func TestNodeReference(t *testing.T) {
	ref := NodeReference()
	for _, name := range []string{"start", "set", "if", "percent", "time", "run_vru_script", "queue", "wait",
		"select", "label", "release", "callback", "end"} {
		k := nodeKinds[name]
		if k == nil {
			t.Errorf("node type %s is not registered", name)
			continue
		}
		if k.doc == "" || !strings.Contains(ref, name+strings.Repeat(" ", max(1, 17-len(name)))+k.doc+"\n") {
			t.Errorf("node type %s has no row in the reference:\n%s", name, ref)
		}
	}
	bad := strings.Replace(tagYAML, "type: release, code: 486", "type: relase, code: 486", 1)
	_, errs := compile(ptr(mustConfig(t, bad)))
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), `router.scripts[t].nodes[rel].type: unknown node type "relase" (want one of callback, end, if, label`) {
		t.Errorf("problems %v, want the unknown type named with the known ones", errs)
	}
}
