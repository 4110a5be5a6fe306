package router

import "time"

// RouteRequest is a new-call route request. It mirrors callserver.RouteRequest
// field for field, so the adapter in cmd/tandem is a copy.
type RouteRequest struct {
	Call CallID
	// DNIS is the dialed number, ANI the caller.
	DNIS, ANI string
	// SIPCallID is the inbound dialog's Call-ID.
	SIPCallID string
	// Headers holds the INVITE headers a script may look at (first value each).
	Headers map[string]string
	// Trunk or User says where the call came from.
	Trunk, User string
}

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
type CallData struct {
	ANI, DNIS, CallType string
	PV                  [NumCallVars]string
	ECC                 map[string]string
}

// RequeryReason says why a label the router gave failed.
type RequeryReason uint8

// Requery reasons (UCCE's requery exits of a label node).
const (
	RequeryNoAnswer RequeryReason = iota + 1
	RequeryBusy
	RequeryError
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
	Time        time.Time
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
