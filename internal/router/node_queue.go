package router

import "fmt"

// queue: ICM's Queue to Skill Group / Queue to Precision Queue node. The
// call waits in every queue it was given (earlier queue nodes' too) at the
// best of their priorities; the script goes on at next (music, wait
// nodes...) while it waits, and at no_answer when an offer rings out.
func init() {
	registerNode(&nodeKind{
		name: "queue",
		doc:  "skill_groups or precision_queue, priority (1 first), next, no_answer",
		compile: func(cx *compileCtx, n *Node, cn *cnode) nodeOp {
			op := &queueOp{}
			op.queues, op.priority = queueTargets(cx, n, true)
			cn.next = cx.exit("next", n.Next, true)
			cn.noAnswer = cx.exit("no_answer", n.NoAnswer, false)
			if n.Rule != "" {
				cx.problem("rule", "rule applies to select nodes only")
			}
			return op
		},
	})
}

type queueOp struct {
	queues   []QueueName
	priority int
}

func (op *queueOp) run(e *Engine, c *call, n *cnode) (Instruction, bool) {
	qs := make([]*queueState, 0, len(op.queues)+len(c.queues))
	prio := op.priority
	if c.phase == queued {
		// Queued again to more targets: UCCE keeps the call in the
		// earlier ones too, at the better of the two priorities.
		qs = append(qs, c.queues...)
		prio = min(prio, c.priority)
	}
	for _, name := range op.queues {
		if q := e.queues[name]; q != nil && !containsQueue(qs, q) {
			qs = append(qs, q)
		}
	}
	c.queueNode = c.pc
	c.pc = n.next
	if len(qs) == 0 {
		return e.release(c, 480, "queue removed"), true
	}
	return e.enqueue(c, qs, prio)
}

// queueTargets checks and resolves the skill groups (or, when pqAllowed,
// the precision queue) and the priority of a queue or select node.
func queueTargets(cx *compileCtx, n *Node, pqAllowed bool) ([]QueueName, int) {
	var queues []QueueName
	if n.PrecisionQueue != "" && pqAllowed {
		if pq, ok := cx.queueExists(n.PrecisionQueue); !ok || !pq {
			cx.problem("precision_queue", "unknown precision queue %q", n.PrecisionQueue)
		}
		queues = append(queues, QueueName(n.PrecisionQueue))
	}
	for j, sg := range n.SkillGroups {
		if pq, ok := cx.queueExists(sg); !ok || pq {
			cx.problem(fmt.Sprintf("skill_groups[%d]", j), "unknown skill group %q", sg)
		}
		queues = append(queues, QueueName(sg))
	}
	if len(queues) == 0 {
		cx.problem("skill_groups", "nothing to queue to (give skill_groups or precision_queue)")
	}
	if pqAllowed && len(n.SkillGroups) > 0 && n.PrecisionQueue != "" {
		cx.problem("precision_queue", "give skill_groups or precision_queue, not both")
	}
	priority := n.Priority
	if priority == 0 {
		priority = defaultPrio
	}
	if priority < minPriority || priority > maxPriority {
		cx.problem("priority", "priority %d out of range (1 first … 10 last)", n.Priority)
	}
	return queues, priority
}
