// Package callserver is tandem's call server: a signalling-only B2BUA. In CVP
// terms it is the SIP service of the Call Server.
//
// Every dialog-forming INVITE the SIP edge admits becomes a Call with a
// global id (event.CallID, in every log line and event) and an inbound leg.
// The call server asks a Router where the call goes (one small interface; the
// router role replaces the static table behind it), and sends an outbound
// leg to each label in turn until one answers. SDP is relayed untouched so
// RTP flows end to end; the call server never touches media.
//
// Ownership: a Call's mutable state (its legs, the pending-INVITE flag) is
// guarded by Call.mu. The goroutine that runs an INVITE transaction never
// holds mu while it waits on the network: it marks the call busy
// (Call.pending) so a second offer meets 491 Request Pending (RFC 3261
// §14.2) instead of a lock.
//
// The move primitive (Server.Move) is third-party call control as RFC 3725
// §4.1 (flow I) writes it: a late-offer INVITE to the new leg, its offer sent
// to the caller in a re-INVITE, the caller's answer given to the new leg in
// the ACK, then the old leg released with BYE.
package callserver
