package router

// AgentAt returns the logged-in agent whose phone is extension ext: a
// transfer a phone asks for in SIP names its target by number, and a
// number that is an agent's extension reserves that agent.
func (e *Engine) AgentAt(ext string) (AgentID, bool) {
	if ext == "" {
		return "", false
	}
	e.lock()
	defer e.unlock()
	for id, a := range e.agents {
		if a.ext == ext && a.state != LoggedOut {
			return id, true
		}
	}
	return "", false
}
