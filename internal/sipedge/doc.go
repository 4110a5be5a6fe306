// Package sipedge is tandem's SIP edge: the listeners (UDP, TCP, TLS), who may
// call in (trunks trusted by address, endpoints that authenticate with
// digest), the registrar for agent phones, the dial plan that turns a label
// into destinations (server groups with priority, weight and OPTIONS
// heartbeats, or registered contacts), and answers to OPTIONS pings.
//
// In CVP terms it is the SIP proxy and CUCM's registration in one. It hands
// every dialog-forming INVITE it admits, and every in-dialog request, to a
// CallHandler (the call server); it never imports the call server.
//
// Reload replaces the trunks, users, dial plan and server groups at run
// time: the new tables are built and checked, then published with one
// pointer swap that every request reads once. Destinations that survive
// (by group and address) keep their health; heartbeats run one goroutine
// per destination and follow the reloads. Listeners are not reloadable.
//
// Bad input: a datagram sipgo cannot parse is answered 400 here (or dropped
// when it is a response or has no Via to answer to, as RFC 3261 §18 and RFC
// 4475 allow); a parsed request that breaks RFC 3261 §8.2 rules is answered
// by Validate before any handler sees it; the stateless answers to one
// source are rate-limited (limit.go), and bad input is logged once per
// source a minute. On TCP and TLS a message that cannot be framed is
// answered 400 (513 past 64 KB) where it can be, then the connection closes
// (§18.3: there is no boundary to resync on); idle connections close after
// sip.tcp_idle_timeout (stream.go).
//
// Identity (RFC 3325): trunks are the trust domain. An endpoint admitted by
// digest has its P-Asserted-Identity and P-Preferred-Identity removed; the
// call server asserts the authenticated user (Origin.User) instead.
package sipedge
