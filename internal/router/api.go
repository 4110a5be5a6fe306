package router

import (
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

// RouteRequest is a new-call route request: the contract's, the same value
// the call server sends.
type RouteRequest = contract.RouteRequest

// InstructionKind says what the call server should do with a call.
type InstructionKind uint8

// Instruction kinds.
const (
	// Connect: send the call to Labels in order (an agent's extension when
	// Agent is set; a server group; a network VRU with CorrelationID).
	Connect InstructionKind = iota + 1
	// RunScript: play the VRU script (micro-app) named VRUScript with Params
	// at the VRU and report back with Continue.
	RunScript
	// Queued: nothing new; the call waits in queue with the treatment it
	// already has until an offer or a new instruction arrives.
	Queued
	// Release: refuse or end the call with RejectCode.
	Release
)

func (k InstructionKind) String() string {
	switch k {
	case Connect:
		return "connect"
	case RunScript:
		return "run_script"
	case Queued:
		return "queued"
	case Release:
		return "release"
	}
	return "none"
}

// Instruction is the router's answer for one call.
type Instruction struct {
	Kind   InstructionKind
	Labels []string
	// Agent is set when the call is offered to an agent: it is reserved
	// for this call until Answered, NoAnswer or End.
	Agent AgentID
	// CorrelationID identifies the call to a network VRU (appended to a
	// network_vru label by the call server, as CVP does).
	CorrelationID string
	VRUScript     string
	Params        map[string]string
	RejectCode    int
	RejectReason  string
	// Data is the call's data at this point, for the agent desktop pop.
	Data CallData
	// Callback is set on an offer of a courtesy-callback call whose caller
	// hung up: the number to call back once the agent has answered (the
	// call server calls the agent, then the caller; see Engine.Callback).
	Callback string
}

// CallData is what travels with a call: call variables 1–10 and ECC
// variables (an array element is named "user.x[2]").
type CallData = contract.CallData

// RequeryReason says why a label the router gave failed: the contract's
// Failure, which the call server reports in place of a SIP status.
type RequeryReason = contract.Failure

// Requery reasons (UCCE's requery exits of a label node).
const (
	RequeryNoAnswer = contract.NoAnswer
	RequeryBusy     = contract.Busy
	RequeryError    = contract.Error
)

// NoticeKind says what a Notice is about.
type NoticeKind uint8

// Notice kinds.
const (
	// NoticeCall carries a new instruction for a call the router decided on
	// by itself: an offer to an agent who became ready, the script going on
	// after a wait, a release after a queue was removed.
	NoticeCall NoticeKind = iota + 1
	// NoticeAgent says an agent's state changed (for CTI and reporting).
	NoticeAgent
	// NoticeAgentCall says what happened to an agent's part in a call
	// (CallEvent: offered, answered, held, retrieved, ended). The router is
	// the one source of these: CTI turns them into the desktop's call
	// events. An Offered notice carries the call data in Instruction.Data.
	NoticeAgentCall
)

// Notice is something the router tells the call server or CTI without being
// asked in the same call.
type Notice struct {
	Kind        NoticeKind
	Call        CallID
	Instruction Instruction
	Agent       AgentID
	State       State
	Reason      int
	// CallEvent is set on NoticeAgentCall; an Offered one carries the
	// call data in Instruction.Data (no field of its own: notices are
	// copied on every delivery, on the router's hot path).
	CallEvent contract.AgentCallEvent
	Time      time.Time
}

// QueueStats are one queue's live figures.
type QueueStats struct {
	Name    QueueName
	Waiting int
	// Oldest is when the call waiting longest was queued (zero when none).
	Oldest time.Time
	// ExpectedWait is the estimate for a call joining at the back.
	ExpectedWait time.Duration
	// Agents counts the queue's agents by state (logged-out ones excluded).
	Agents [numStates]int
}

// Position is where a call stands in one of its queues.
type Position struct {
	Queue QueueName
	// Position is 1 for the next call served.
	Position     int
	ExpectedWait time.Duration
}
