package router

import "time"

// PhoneRelease bounds how long an agent's phone is held busy after an offer
// to it ended on tandem's side (the caller abandoned while it rang, or the
// router took the call back) without the call server saying that the phone
// has let go of the INVITE. A phone answers our CANCEL within a round trip;
// one that says nothing for 2 s is not going to, and the agent should not be
// kept out of selection for the 32 s an INVITE transaction may live.
const PhoneRelease = 2 * time.Second

// An agent's phone is a device the router does not see directly: when the
// caller of an offered call hangs up, the router learns it at once, but the
// phone still rings with the INVITE until the call server's CANCEL reaches
// it and it answers 487. Offering the agent the next call in that window
// sends a second INVITE to a phone that is still busy with the first: it
// answers 486, and that failure used to count as ring-no-answer (the agent
// made not ready for a call it never had a chance to answer).
//
// So the router owns a second, smaller state beside the agent state: the
// phone is held (agent.phoneHeld names the offer) from the moment an offer
// ends on our side until the call server reports the INVITE finished
// (Released) or PhoneRelease passes. A held phone keeps the agent out of
// every ready set, whatever its agent state (CTI still shows it ready: it
// is, and its place in line is kept); selection, queue offers and consults
// skip it. The phone is held only for offers whose INVITE was not already
// reported finished (call.phoneDone).

// holdPhone marks a's phone busy with the offer of c, which has just ended
// on the router's side, unless the call server already said the INVITE is
// over. Call with e.mu held, before the agent's new state is applied.
func (e *Engine) holdPhone(a *agent, c *call) {
	if c.phoneDone {
		return
	}
	a.phoneHeld = c.id
	a.phoneGen++
	e.leaveReady(a)
	e.timers.push(timer{at: e.nowNS() + int64(PhoneRelease), kind: timerPhone, a: a, gen: a.phoneGen})
}

// freePhone lets a's phone take calls again and, if the agent is ready,
// gives it the best waiting call or puts it back in its ready sets, in its
// old place.
func (e *Engine) freePhone(a *agent) {
	a.phoneHeld = ""
	a.phoneGen++
	if a.state == Ready && e.agents[a.id] == a {
		e.agentReady(a, false)
	}
}

// Released says the INVITE that offered call to agent's phone is over: the
// phone answered our CANCEL (487) or gave any other final response, or the
// call server gave up on it. Until then a phone whose offer ended is held
// busy (see PhoneRelease). A report about an offer still ringing (the call
// server saw the final response before it reported the abandon) is kept
// with the call, so the phone is not held when the offer ends. Reports
// about anything else change nothing: they may arrive late.
func (e *Engine) Released(call CallID, agent AgentID) {
	e.lock()
	defer e.unlock()
	a := e.agents[agent]
	if a == nil {
		return
	}
	if c := a.call; c != nil && c.id == call && c.agent == a && c.phase == offered {
		c.phoneDone = true
		return
	}
	if a.phoneHeld == call {
		e.log.Debug("router: agent's phone released", "agent", string(a.id), "call", string(call))
		e.freePhone(a)
	}
}

// PhoneBusy reports whether agent's phone is held busy by an offer that
// ended on tandem's side and has not been released yet.
func (e *Engine) PhoneBusy(agent AgentID) bool {
	e.lock()
	defer e.unlock()
	a := e.agents[agent]
	return a != nil && a.phoneHeld != ""
}
