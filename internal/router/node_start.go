package router

// start: where every call of the script begins; a script has exactly one.
func init() {
	registerNode(&nodeKind{
		name: "start",
		doc:  "next",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			if cx.cs.start != none {
				cx.problem("type", "a second start node (the first is %q)", cx.cs.nodes[cx.cs.start].id)
			}
			cx.cs.start = cx.i
			cn.next = cx.exit("next", n.Next, true)
			return startOp{}
		},
	})
}

type startOp struct{}

func (startOp) run(_ *Engine, c *call, n *cnode) (Instruction, bool) {
	c.pc = n.next
	return Instruction{}, false
}
