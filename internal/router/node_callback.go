package router

// callback: CVP's courtesy callback; the caller hangs up and keeps its
// place in queue, and is called back when an agent is selected (see
// callback.go for the rest of the call's life).
func init() {
	registerNode(&nodeKind{
		name: "callback",
		doc:  "variable (where the number is; default the ANI), next (no number)",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			// The number is the ANI or the call data named by variable.
			cn.variable = n.Variable
			if n.Variable != "" {
				cx.variable("variable", n.Variable)
			}
			// next: where the script goes when there is no number to call.
			cn.next = cx.exit("next", n.Next, false)
			return callbackOp{}
		},
	})
}

type callbackOp struct{}

func (callbackOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	return e.callbackNode(c, n), true
}
