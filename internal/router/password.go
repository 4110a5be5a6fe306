package router

import (
	"crypto/subtle"
	"fmt"
)

// CheckPassword verifies an agent's password without logging it in, so
// that a login's other checks (its extension, at CTI) come after the
// password and tell nothing to whoever does not know it. It fails as Login
// does: ErrUnknownAgent or ErrBadPassword.
func (e *Engine) CheckPassword(id AgentID, password string) error {
	e.lock()
	defer e.unlock()
	_, err := e.checkPasswordLocked(id, password)
	return err
}

// checkPasswordLocked returns the agent's definition if password is its
// password. e's lock is held.
func (e *Engine) checkPasswordLocked(id AgentID, password string) (*agentDef, error) {
	d := e.cfg.agents[id]
	if d == nil {
		return nil, fmt.Errorf("router: login %s: %w", id, ErrUnknownAgent)
	}
	// Constant time, so a wrong password does not tell how much of it was right.
	if subtle.ConstantTimeCompare([]byte(d.cfg.Password), []byte(password)) != 1 {
		return nil, fmt.Errorf("router: login %s: %w", id, ErrBadPassword)
	}
	return d, nil
}
