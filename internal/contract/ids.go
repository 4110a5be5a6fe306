package contract

// CallID is the global id of a call, kept from arrival to the last record
// (UCCE's RouterCallKey / CVP's GUID in one). It is not the SIP Call-ID:
// one call has several SIP dialogs. The call server makes it; every other
// role names the call by it.
type CallID string

// LegID names one SIP dialog of a call (the inbound leg, an outbound leg).
type LegID string

// AgentID is an agent's configured id (UCCE's peripheral number / login id).
type AgentID string

// QueueID names a skill group or a precision queue.
type QueueID string
