package router

import (
	"fmt"

	"github.com/tandem-cc/tandem/internal/contract"
)

// AgentID is an agent's configured id (UCCE's peripheral number / login id):
// the contract's, under the name the router's API has always used.
type AgentID = contract.AgentID

// CallID is the router's handle of a call: the call server's global id.
type CallID = contract.CallID

// QueueName names a skill group or a precision queue (contract.QueueID).
type QueueName = contract.QueueID

// State is an agent state as UCCE names them.
type State uint8

// Agent states.
const (
	LoggedOut    State = iota
	NotReady           // with a reason code
	Ready              // available: may be offered calls
	Reserved           // a call is offered (ringing); no other call may be
	Talking            // on a call
	Hold               // on a call, caller on hold
	WorkReady          // wrap-up; ready again when it ends
	WorkNotReady       // wrap-up; not ready when it ends
	numStates
)

var stateNames = [numStates]string{"logged_out", "not_ready", "ready", "reserved", "talking", "hold", "work_ready", "work_not_ready"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", s)
}

// ParseState reads a state name as String writes it.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("router: unknown agent state %q", s)
}

// cause says who asks for a transition: the agent through CTI, or the router
// itself reacting to a call (offer, answer, hang-up, ring-no-answer, timers).
type cause uint8

const (
	byAgent  cause = 1 << iota // CTI request: log in/out, ready, not ready, end wrap-up
	bySystem                   // call events and timers
)

// transitions is the agent state machine: transitions[from][to] says who may
// make that move; a zero entry is illegal. Every change of an agent's state
// goes through (*Engine).transition, which consults this table and nothing
// else, so the table is the whole of the rules.
var transitions = [numStates][numStates]cause{
	LoggedOut: {
		NotReady: byAgent, // UCCE logs agents in not ready
	},
	NotReady: {
		NotReady:  byAgent | bySystem, // a new reason code
		Ready:     byAgent,
		LoggedOut: byAgent | bySystem, // system: agent removed from config
	},
	Ready: {
		NotReady: byAgent,
		Reserved: bySystem, // the router offers a call
	},
	Reserved: {
		Talking:  bySystem, // answered
		NotReady: bySystem, // ring-no-answer (reason 32767)
		Ready:    bySystem, // caller abandoned while ringing
		// LoggedOut when the agent was removed from the config while a
		// call rang: the call is requeued first.
		LoggedOut: bySystem,
	},
	Talking: {
		Hold:         bySystem,
		WorkReady:    bySystem, // call ended, wrap-up with timer
		WorkNotReady: bySystem, // call ended, agent asked not ready during it
		Ready:        bySystem, // call ended, no wrap-up configured
		NotReady:     bySystem, // call ended, agent asked not ready, no wrap-up
		LoggedOut:    bySystem, // call ended, agent removed from config
	},
	Hold: {
		Talking:      bySystem,
		WorkReady:    bySystem, // call ended on hold
		WorkNotReady: bySystem,
		Ready:        bySystem,
		NotReady:     bySystem,
		LoggedOut:    bySystem,
	},
	WorkReady: {
		Ready:        byAgent | bySystem, // end wrap-up, or its timer
		NotReady:     byAgent,
		WorkNotReady: byAgent,
		LoggedOut:    bySystem,
	},
	WorkNotReady: {
		NotReady:  byAgent | bySystem,
		Ready:     byAgent,
		WorkReady: byAgent,
		LoggedOut: bySystem,
	},
}

// legal reports whether who may move an agent from one state to another.
func legal(from, to State, who cause) bool {
	if from >= numStates || to >= numStates {
		return false
	}
	return transitions[from][to]&who != 0
}

// AgentStatus is a snapshot of one agent for CTI and supervisors.
type AgentStatus struct {
	ID         AgentID
	Name       string
	Extension  string
	State      State
	Reason     int // not ready / wrap-up reason code, 0 when none
	Since      int64
	Call       CallID // the call reserved to or connected with the agent
	Queues     []QueueName
	ReadySince int64 // unix nanoseconds; meaningful when Ready
	// Consult is the agent this agent's call is consulting (reserved or
	// talking), and ConsultOf the agent whose consult this agent is on: a
	// desktop opened during a consult learns it here. A consult to a
	// dialed number reserves nobody and shows in neither.
	Consult, ConsultOf AgentID
}
