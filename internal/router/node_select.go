package router

// select: ICM's Select node; the call goes to a ready agent of its skill
// groups now, or takes none when there is no one. rule decides between
// the groups' longest-available agents.
func init() {
	registerNode(&nodeKind{
		name: "select",
		doc:  "skill_groups, rule (longest_available, homing, rotary), none (no agent available), no_answer",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &selectOp{}
			op.queues, _ = queueTargets(cx, n, false)
			op.none = cx.exit("none", n.None, true)
			cn.noAnswer = cx.exit("no_answer", n.NoAnswer, false)
			switch n.Rule {
			case "", "longest_available":
				op.rule = ruleLongestAvailable
			case "homing":
				op.rule = ruleHoming
			case "rotary":
				op.rule = ruleRotary
			default:
				cx.problem("rule", "unknown select rule %q (want longest_available, homing or rotary)", n.Rule)
			}
			return op
		},
	})
}

type selectOp struct {
	queues []QueueName
	rule   selectRule
	none   int
}

// selectRule is a select node's way of choosing among its skill groups
// (Node.Rule).
type selectRule uint8

const (
	ruleLongestAvailable selectRule = iota
	ruleHoming
	ruleRotary
)

func (op *selectOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	// Each group's candidate is its longest-available agent; the rule
	// decides between groups.
	order := op.queues
	if op.rule == ruleRotary && len(order) > 1 {
		// The rotor lives in the engine, keyed by the compiled node, so a
		// reload (a new script version) starts it afresh.
		if e.rotors == nil {
			e.rotors = map[*cnode]int{}
		}
		k := e.rotors[n] % len(order)
		e.rotors[n] = k + 1
		order = append(append([]QueueName(nil), order[k:]...), order[:k]...)
	}
	var best *agent
	for _, name := range order {
		q := e.queues[name]
		if q == nil {
			continue
		}
		var cand *agent
		for _, t := range q.steps {
			if len(t.ready) > 0 && (cand == nil || agentBefore(t.ready[0].a, cand)) {
				cand = t.ready[0].a
			}
		}
		if cand == nil {
			continue
		}
		if op.rule != ruleLongestAvailable {
			best = cand // homing and rotary: the first group in order that can
			break
		}
		if best == nil || agentBefore(cand, best) {
			best = cand
		}
	}
	if best == nil {
		c.pc = op.none
		return Instruction{}, false
	}
	e.dequeueFor(c, "routed")
	return e.offer(c, best), true
}
