package router

import "fmt"

// percent: ICM's Percent Allocation node; each call takes one branch at
// random, in the given shares.
func init() {
	registerNode(&nodeKind{
		name: "percent",
		doc:  "branches: [{percent, next}] summing to 100",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &percentOp{}
			sum := 0
			if len(n.Branches) == 0 {
				cx.problem("branches", "a percent node needs branches")
			}
			for j, b := range n.Branches {
				if b.Percent < 0 {
					cx.problem(fmt.Sprintf("branches[%d].percent", j), "negative percent %d", b.Percent)
				}
				sum += b.Percent
				op.branches = append(op.branches, cbranch{upTo: sum, next: cx.exit(fmt.Sprintf("branches[%d].next", j), b.Next, true)})
			}
			if len(n.Branches) > 0 && sum != 100 {
				cx.problem("branches", "percents add up to %d, not 100", sum)
			}
			return op
		},
	})
}

type percentOp struct {
	branches []cbranch
}

type cbranch struct {
	upTo int // cumulative percent
	next int
}

func (op *percentOp) run(e *Engine, c *call, _ *cnode) (Instruction, bool) {
	c.pc = op.pickBranch(e.rnd(100))
	return Instruction{}, false
}

// pickBranch returns the exit a percent node takes for r in [0,100).
func (op *percentOp) pickBranch(r int) int {
	for _, b := range op.branches {
		if r < b.upTo {
			return b.next
		}
	}
	return op.branches[len(op.branches)-1].next
}
