package router

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// set: ICM's Set Variable node; a call variable or ECC variable takes the
// value of an expression over call data.
func init() {
	registerNode(&nodeKind{
		name: "set",
		doc:  "variable (pv1..pv10 or user.<ecc>), value (expression), next",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			cn.variable = n.Variable
			cx.variable("variable", n.Variable)
			op := &setOp{value: cx.expr("value", n.Value, false)}
			cn.next = cx.exit("next", n.Next, true)
			return op
		},
	})
}

type setOp struct {
	value *vm.Program
}

// run sets the variable; a failure (an expression error at run time, an
// ECC value too long) is logged and the script goes on, as ICM does.
func (op *setOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	v, err := expr.Run(op.value, c.env())
	if err == nil {
		err = e.setVar(c, n.variable, fmt.Sprint(v))
	}
	if err != nil {
		e.scriptLog(c).Warn("router: set variable failed", "node", n.id, "err", err)
	}
	c.pc = n.next
	return Instruction{}, false
}
