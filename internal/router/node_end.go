package router

// end: the script is over. A queued call goes on waiting in its queues
// (with the treatment it has); any other is released with 480.
func init() {
	registerNode(&nodeKind{
		name: "end",
		doc:  "(no fields)",
		compile: func(*compileCtx, *Node, *cnode) nodeOp {
			return endOp{}
		},
	})
}

type endOp struct{}

func (endOp) run(e *Engine, c *call, _ *cnode) (Instruction, bool) {
	if c.phase == queued {
		return Instruction{Kind: Queued, Data: c.snapshot()}, true
	}
	return e.release(c, 480, "script ended"), true
}
