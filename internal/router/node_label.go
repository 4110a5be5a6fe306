package router

import "fmt"

// label: ICM's Label node; the call is connected to the labels in order
// (an extension, a server group, a network VRU). When the call server
// cannot connect it, Requery takes no_answer, busy or error.
var nLabel = registerNode(&nodeKind{
	name: "label",
	doc:  "labels, no_answer, busy, error (requery exits)",
	compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
		if len(n.Labels) == 0 {
			cx.problem("labels", "a label node needs labels")
		}
		for j, l := range n.Labels {
			if _, ok := cx.labels[l]; !ok {
				cx.problem(fmt.Sprintf("labels[%d]", j), "unknown label %q", l)
			}
		}
		op := &labelOp{labels: n.Labels}
		cn.noAnswer = cx.exit("no_answer", n.NoAnswer, false)
		cn.busy = cx.exit("busy", n.Busy, false)
		cn.error = cx.exit("error", n.Error, false)
		return op
	},
})

type labelOp struct {
	labels []string
}

// run leaves pc at the node: a requery finds its exits there.
func (op *labelOp) run(e *Engine, c *call, _ *cnode) (Instruction, bool) {
	e.dequeueFor(c, "routed")
	labels := make([]string, len(op.labels))
	for i, l := range op.labels {
		labels[i] = e.cfg.labels[l].Value
	}
	return Instruction{Kind: Connect, Labels: labels, Data: c.snapshot()}, true
}
