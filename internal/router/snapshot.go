package router

import (
	"slices"
	"time"
)

// Where says where a call is, as the console's live view draws it.
type Where string

// Places a call can be.
const (
	// AtScript: the router is running the call's script (or is connecting
	// it to a label the script chose).
	AtScript Where = "script"
	// AtIVR: a run_vru_script instruction is out; the router waits for
	// the VRU's result.
	AtIVR Where = "ivr"
	// AtQueue: the call waits in one or more queues.
	AtQueue Where = "queue"
	// AtOffered: an agent is reserved and its phone rings.
	AtOffered Where = "offered"
	// AtAgent: an agent answered.
	AtAgent Where = "agent"
)

// CallSnapshot is one call's place in the router, a copy made under the
// engine's lock.
type CallSnapshot struct {
	ID       CallID
	ANI      string
	DNIS     string
	CallType string
	// Script is the script the call runs (the version it started on) and
	// Node the id of the node it is at: the VRU node while at the IVR, the
	// last queue node while queued, offered or connected after a queue.
	Script string
	Node   string
	Where  Where
	Queues []QueueName
	Agent  AgentID
	// Started is when the router first saw the call; Queued when it last
	// joined its queues (zero when it never did).
	Started time.Time
	Queued  time.Time
}

// Calls returns every call the router holds, oldest first. It is for
// monitoring (the console's live view): it copies, so its cost grows with
// the calls in progress, and it should be polled, not called per call.
func (e *Engine) Calls() []CallSnapshot {
	e.lock()
	defer e.unlock()
	out := make([]CallSnapshot, 0, len(e.calls))
	for _, c := range e.calls {
		s := CallSnapshot{ID: c.id, ANI: c.data.ANI, DNIS: c.data.DNIS, CallType: c.data.CallType,
			Script: c.script.name, Started: time.Unix(0, c.started)}
		if c.queuedAt != 0 {
			s.Queued = time.Unix(0, c.queuedAt)
		}
		for _, q := range c.queues {
			s.Queues = append(s.Queues, q.def.name)
		}
		if c.agent != nil {
			s.Agent = c.agent.id
		}
		node := c.queueNode
		switch c.phase {
		case queued:
			s.Where = AtQueue
		case offered:
			s.Where = AtOffered
		case connected:
			s.Where = AtAgent
		default:
			s.Where, node = c.scriptPlace()
		}
		if node != none && node < len(c.script.nodes) {
			s.Node = c.script.nodes[node].id
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b CallSnapshot) int { return a.Started.Compare(b.Started) })
	return out
}

// scriptPlace tells, for a call in its script, whether it waits at the
// VRU: run_vru_script moves pc to the node's exit before the result comes
// back, so the VRU node is the one whose next (or error exit, when a
// failure moved the call there) is pc. A call whose pc is a label node is
// being connected.
func (c *call) scriptPlace() (Where, int) {
	if c.pc == none {
		return AtScript, none
	}
	if c.script.nodes[c.pc].kind == nLabel {
		return AtScript, c.pc
	}
	for i := range c.script.nodes {
		n := &c.script.nodes[i]
		if n.kind == nVRU && n.next == c.pc && c.resumeErr == n.error {
			return AtIVR, i
		}
	}
	return AtScript, c.pc
}

// LoggedIn returns the status of every logged-in agent, in id order.
func (e *Engine) LoggedIn() []AgentStatus {
	e.lock()
	ids := make([]AgentID, 0, len(e.agents))
	for id := range e.agents {
		ids = append(ids, id)
	}
	e.unlock()
	slices.Sort(ids)
	out := make([]AgentStatus, 0, len(ids))
	for _, id := range ids {
		// One lock per agent: an agent that logged out in between is
		// simply left out.
		if st, err := e.Agent(id); err == nil && st.State != LoggedOut {
			out = append(out, st)
		}
	}
	return out
}
