package router

import "errors"

// AgentAt returns the logged-in agent whose phone is extension ext: a
// transfer a phone asks for in SIP names its target by number, and a
// number that is an agent's extension reserves that agent.
func (e *Engine) AgentAt(ext string) (AgentID, bool) {
	if ext == "" {
		return "", false
	}
	e.lock()
	defer e.unlock()
	if a := e.agentAt(ext); a != nil {
		return a.id, true
	}
	return "", false
}

// agentAt is AgentAt with e.mu held.
func (e *Engine) agentAt(ext string) *agent {
	if ext == "" {
		return nil
	}
	for _, a := range e.agents {
		if a.ext == ext && a.state != LoggedOut {
			return a
		}
	}
	return nil
}

// TransferTo decides what a transfer of call id to target (a number or an
// extension, from a REFER) is in the router's terms. On a call with an
// agent it is a consult the router keeps (ConsultEnded finishes it): an
// unattended transfer to an agent's extension reserves that agent (not
// ready: ErrNoAgent) and returns the offer to ring; any other target is a
// consult to a number, dialed as given. An attended transfer joins a call
// already connected: a consult the router holds (a CTI consult to an
// agent) stays as it is, so its end hands the call to that agent; else it
// is kept as a consult to the number. A call without an agent (at the VRU)
// reserves and keeps nothing: the target is dialed as given.
func (e *Engine) TransferTo(id CallID, target string, attended bool) (Instruction, error) {
	dial := Instruction{Kind: Connect, Labels: []string{target}}
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil || c.agent == nil || c.phase != connected {
		return dial, nil
	}
	if attended && c.consult != nil {
		return dial, nil
	}
	if !attended && c.consult == nil && c.consultLabel == "" {
		if b := e.agentAt(target); b != nil {
			in, err := e.consultLocked(c, ConsultTarget{Agent: b.id})
			if err == nil || errors.Is(err, ErrNoAgent) {
				return in, err
			}
			// The agent's own extension, say: dialed as a number.
			e.log.Info("router: transfer to an agent's extension", "call", string(id), "target", target, "error", err)
		}
	}
	if c.consult == nil {
		c.consultLabel = target
	}
	return dial, nil
}
