// Package contract is what tandem's roles say to each other: the typed ids
// every role names calls, legs, agents and queues by, the plain-data
// messages they exchange (a route request and its instruction, what became
// of an instruction, an agent's call events, a VRU script and its result)
// and the interfaces each boundary is made of.
//
// It is livekit's `types` idea: a small package below every role, so the
// call server, the router, the IVR service and CTI meet here rather than in
// each other's packages, and none imports another to talk to it. Every
// message is a value with no pointer to anyone's mutable state (a slice or
// map in a message is the receiver's once sent), so a network transport
// (issue #13) can sit behind any interface here without either side
// changing.
//
// The boundaries, in the direction a call travels:
//
//	call server → router   Router (route request), Tracker (what became of
//	                       each instruction: requery, answered, ended, the
//	                       agent's phone released or holding, a consult, a
//	                       callback, a transfer)
//	router → call server   CallServer (an instruction the router made by
//	                       itself; a courtesy callback to originate)
//	router → IVR           VRU (a run-script request)
//	IVR → router           ScriptRouter (a ScriptResult in, a ScriptNext
//	                       out: another script, leave, or release)
//	router → CTI           AgentCall notices (offered, answered, held,
//	                       retrieved, ended), the one source of an agent's
//	                       call events
//
// Optional capabilities are explicit: a call server given no Tracker routes
// through a router that does not follow calls (the static table), and never
// asks its Router what it can do.
package contract
