package router

// run_vru_script: ICM's Run External Script node; the call server plays
// the VRU script (a micro-app) and the script goes on at next with the
// result, or at error when it failed. label sends the call to a network
// VRU first (CVP's Type 10 VRU leg).
var nVRU = registerNode(&nodeKind{
	name: "run_vru_script",
	doc:  "vru_script, params, label (network VRU), next, error",
	compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
		if n.VRUScript == "" {
			cx.problem("vru_script", "a run_vru_script node needs a vru_script")
		}
		op := &vruOp{script: n.VRUScript, params: n.Params}
		if n.Label != "" {
			if l, ok := cx.labels[n.Label]; !ok || l.Kind != LabelNetworkVRU {
				cx.problem("label", "%q is not a network_vru label", n.Label)
			}
		}
		op.label = n.Label
		cn.next = cx.exit("next", n.Next, true)
		cn.error = cx.exit("error", n.Error, false)
		return op
	},
})

type vruOp struct {
	script string
	params map[string]string
	label  string
}

// run yields the RunScript instruction; the call waits at the node's exits
// (pc at next, resumeErr at error) until Continue brings the result.
func (op *vruOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	c.pc, c.resumeErr = n.next, n.error
	c.vru = op.script
	in := Instruction{Kind: RunScript, VRUScript: op.script, Params: op.params, Data: c.snapshot(), CorrelationID: string(c.id)}
	if op.label != "" {
		in.Labels = []string{e.cfg.labels[op.label].Value}
	}
	return in, true
}
