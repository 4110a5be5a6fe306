// Package conference is tandem's conference bridge: in CVP/UCCE terms the
// conference resource (a CUCM conference bridge or an IOS DSP farm) that a
// call server sends the parties of a conference to. Like the VoiceXML
// gateway it is a SIP endpoint of its own (a UAS on its own port), so the
// call server, which never touches RTP, moves each party's media to it with
// 3PCC re-INVITEs (RFC 3725) exactly as it moves a caller from the VRU to
// an agent.
//
// # The room URI
//
// An INVITE to sip:conf-<room>@<bridge> joins room <room>, creating it on
// the first INVITE; the room ends when its last party leaves. <room> is 1
// to 64 of A-Z a-z 0-9 . _ - (RoomURI builds the URI). Each INVITE is one
// party; a call server conferencing a caller and two agents sends three,
// to the same room, usually without SDP (RFC 3725 flow I): the bridge then
// offers in its 200 and takes the answer in the ACK. With an offer in the
// INVITE it answers in the 200.
//
// What each party hears is every other party's voice, summed (never its
// own), in the G.711 law it negotiated (media.Mixer); PCMU and PCMA parties
// share a room.
//
// # Inside the dialog
//
//   - re-INVITE with SDP: the party's media moves to the new address (the
//     latch restarts), its codec may change, and its direction is applied at
//     the next 20 ms: a party whose peer is sendonly, inactive or c=0.0.0.0
//     is on hold (not mixed in, sent nothing), recvonly is a listener (it
//     hears the room and is not mixed in), sendrecv is a full party. A
//     re-INVITE without SDP gets an offer in the 200 and the answer in the
//     ACK.
//   - BYE: the party leaves the room.
//   - INFO with a key: taken, and ignored as a key by RTP is.
//   - OPTIONS: 200, or 503 while the bridge stops.
//
// Answers: 404 for a Request-URI that is not conf-<room>, 488 without
// G.711, 503 past conference.max_rooms or a room's max_parties, or while
// stopping. An RTP timeout (no audio from a party that should send) hangs
// the party up with a BYE.
//
// # Events
//
// Each party is a leg of the call named by the INVITE's X-Tandem-Call-ID
// (the call server's global id), or by its SIP Call-ID: LegAnswered when it
// joins, LegHeld and LegResumed on re-INVITEs, LegEnded when it leaves,
// with Side "conference", Leg the SIP Call-ID and Reason naming the room.
//
// # Ownership
//
// A party is served by its INVITE's handler goroutine until it has its 200
// and ACK, then by one goroutine that watches its media events until the
// party ends. Its media session runs as any session does, and its room
// (media.Mixer: one goroutine per room) mixes what it receives and gives it
// what to send. The bridge's room table is guarded by Bridge.mu;
// requests inside a dialog find the party through the UA's dialog table
// and act on the media session, which is safe for concurrent use. The SIP
// side of a party (answering, re-INVITE and hold, BYE) is internal/mediaua's,
// shared with the VoiceXML gateway; the bridge adds the room URI, the room
// join before the 200 and the leg events.
package conference
