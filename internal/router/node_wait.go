package router

import "time"

// wait: the call waits (in queue, with its treatment) for a while before
// the script goes on at next.
func init() {
	registerNode(&nodeKind{
		name: "wait",
		doc:  "wait, next",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			if n.Wait <= 0 {
				cx.problem("wait", "a wait node needs a positive wait")
			}
			op := &waitOp{wait: n.Wait.D()}
			cn.next = cx.exit("next", n.Next, true)
			return op
		},
	})
}

type waitOp struct {
	wait time.Duration
}

func (op *waitOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	c.pc = n.next
	c.gen++
	e.timers.push(timer{at: e.nowNS() + int64(op.wait), kind: timerWait, c: c, gen: c.gen})
	return Instruction{Kind: Queued, Data: c.snapshot()}, true
}
