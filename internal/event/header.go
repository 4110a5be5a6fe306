package event

// CallIDHeader is the SIP header in which the call server gives each
// outbound leg the global CallID of its call: the VoiceXML gateway, the
// conference bridge and simulated phones log and correlate under it, and
// the call server refuses an INVITE that carries the id of a call it owns
// (a routing loop back to itself, RFC 3261 §8.2.2.2 in spirit: 482).
const CallIDHeader = "X-Tandem-Call-ID"

// TransferHeader is how the VoiceXML gateway tells the call server what
// kind of <transfer> its REFER is for, and the transfer's times in
// milliseconds: "bridge;connecttimeout=30000;maxtime=60000". A REFER
// without it is a blind transfer, as a phone's is.
const TransferHeader = "X-Tandem-Transfer"
