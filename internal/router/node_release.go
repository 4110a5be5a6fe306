package router

// release: the call is refused (or ended) with a SIP failure status; 480
// Temporarily Unavailable when none is given.
func init() {
	registerNode(&nodeKind{
		name: "release",
		doc:  "code (400–699; default 480), reason",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &releaseOp{code: n.Code, reason: n.Reason}
			if op.code == 0 {
				op.code, op.reason = 480, "Temporarily Unavailable"
			}
			if op.code < 400 || op.code > 699 {
				cx.problem("code", "release code %d is not a SIP failure status (400–699)", n.Code)
			}
			return op
		},
	})
}

type releaseOp struct {
	code   int
	reason string
}

func (op *releaseOp) run(e *Engine, c *call, _ *cnode) (Instruction, bool) {
	return e.release(c, op.code, op.reason), true
}
