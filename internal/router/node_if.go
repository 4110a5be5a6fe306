package router

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// if: ICM's If node; a boolean expression over call data picks the exit.
func init() {
	registerNode(&nodeKind{
		name: "if",
		doc:  "expr (boolean, on call data), true, false",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &ifOp{cond: cx.expr("expr", n.Expr, true)}
			op.yes = cx.exit("true", n.True, true)
			op.no = cx.exit("false", n.False, true)
			return op
		},
	})
}

type ifOp struct {
	cond    *vm.Program
	yes, no int
}

// run takes false when the expression fails at run time: the script goes
// on, and the log says why.
func (op *ifOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	v, err := expr.Run(op.cond, c.env())
	if err != nil {
		e.scriptLog(c).Warn("router: if failed; taking false", "node", n.id, "err", err)
	}
	if v == true {
		c.pc = op.yes
	} else {
		c.pc = op.no
	}
	return Instruction{}, false
}
