// Package router is tandem's routing engine: the ICM router, the VRU PG's
// routing side and the agent PG of a Unified CCE deployment, in one
// package with plain data in and out, so it can run in the tandem process
// or apart behind a network transport.
//
// # What it holds
//
// Config (strict YAML, Validate returns every problem with its path):
// dialed numbers → call types → routing scripts; skill groups; precision
// queues (steps of attribute expressions that widen with time, each with an
// optional consider-if on call data); agents (id, name, extension,
// password, skill groups, attributes); reason codes; labels (extension,
// server group, network VRU); ECC variable declarations within UCCE's
// limits (user. names, 210 bytes a value, arrays, 2,000 bytes in all).
//
// Scripts are graphs of nodes (start, set, if, percent, time, run VRU
// script, queue, wait, select, label, release, callback, end) compiled at
// load: expressions with github.com/expr-lang/expr, exits resolved,
// unreachable nodes and exits with no target refused with the node and
// field named. Each node type is a file, node_<type>.go, holding its
// checks, its compiled data, what the engine does at it and its row of
// the node table (NodeReference), registered in a table: adding a node
// type is adding such a file.
// A call keeps the compiled version it started on; Reload only affects new
// calls.
//
// # State and its owner
//
// One mutex, Engine.mu, owns every agent, call and queue. Each public
// method takes it once, so a reservation — the call out of all its queues,
// the agent out of all its ready sets, the agent reserved for the call — is
// one atomic step: a call is offered to one agent at a time and an agent
// holds at most one reservation. Nothing calls out while mu is held;
// notices made under it are delivered afterwards, in order, through
// Deps.Notify (which must not call back into the engine synchronously).
//
// Selection runs on indexed heaps. Each target (a skill group, or one step
// of a precision queue) holds its waiting calls ordered by priority (1
// first) then first-queued time, and its ready agents ordered by ready time
// (longest available first). A call queued to several targets has an entry
// in each; an agent is in the ready heap of each target it qualifies for
// (precision-queue membership is evaluated once per load, never during
// selection). An agent becoming ready compares the heads of its targets'
// call heaps; a call arriving compares the heads of its targets' ready
// heaps; both are O(targets × log n). Abandon and offer remove a call from
// all heaps at once. Ring-no-answer makes the agent not ready with reason
// 32767 and requeues the call with its first queue time, so it comes back
// ahead of every call of its priority that arrived after it.
//
// Timers (ring-no-answer, wrap-up end, precision-queue widening, script
// waits) sit in one heap and are acted on by Tick, which Run calls every
// 100 ms; each carries a generation so that one whose reason has passed is
// ignored instead of being searched for and removed.
//
// # How the call server uses it
//
// The call server and the router meet in package contract: the same
// RouteRequest (an alias here), and the contract's Router and Tracker,
// which Calls (calls.go) implements on the engine; this package does not
// import callserver (data flows one way). Calls maps each Instruction to
// the call server's contract.Instruction:
//
//	Connect:   Labels (agent extension, or server-group values), Agent,
//	           and RingFor a second under ring_no_answer for an offer.
//	RunScript: Labels[0] (a network_vru label's value) + CorrelationID
//	           joined as CVP does ("7777" + call id) into one label; the
//	           VRUScript and Params go first to the IVR (contract.VRU).
//	Release:   RejectCode, RejectReason.
//	Queued:    no new label: the caller stays where it is (the IVR plays
//	           queue treatment) until a Notice, which Calls hands to the
//	           call server (contract.CallServer.Instruct, or Callback for
//	           a courtesy callback's offer).
//
// The router is the one owner of call↔agent state: offers, consults (to
// an agent, a queue's agent, or a dialed number, which reserves nobody but
// is kept with the call until ConsultEnded), callbacks and holds. Every
// agent call event (offered, answered, held, retrieved, ended; RONA ends
// the offer) is a NoticeAgentCall made where the engine records it, so CTI,
// which subscribes (Subscribe), and the reports never disagree.
//
// After the route request the call server reports what happens, by call id
// (Calls turns the contract's Tracker reports into these; the call server
// gives a failure as contract.Failure, not a SIP code):
// Continue (a VRU script's result, or its failure), Requery (a label was
// busy, did not answer or failed), Answered (the agent's phone answered;
// the agent is talking), NoAnswer (ring-no-answer seen by the call server;
// the router also times it), Hold and Retrieve (from the desktop or the
// agent's phone), End (either side hung up: abandon while queued, agent to
// wrap-up when connected), Released (the INVITE of an offer that ended is
// over at the agent's phone: until then, or PhoneRelease, the agent stays
// ready but is offered nothing; phone.go). Notices of kind
// NoticeCall carry decisions the router makes by itself: an offer to an
// agent who became ready (Instruction.Kind Connect with Agent set), the
// script going on after a wait, a release.
//
// # How CTI uses it
//
// Login (id, password, extension), SetState (ready, not ready with a
// reason, logout, end of wrap-up with a wrap-up reason; not ready asked
// during a call is honoured when it ends), Agent (a snapshot), Transfer
// (blind transfer of a connected call to a skill group or precision queue),
// SetCallData (call variables and ECC variables within their limits), Stats
// and Positions (calls waiting, oldest, agents by state, position and
// expected wait of each queued call; a call not in queue has none and gets
// ErrCallState saying where it is). NoticeAgent notices carry every agent state
// change for the desktop and reporting. Every transition, asked by an agent
// or made by the router, goes through one table (transitions in agent.go);
// an illegal request returns ErrIllegalState and changes nothing.
package router
