// Package mediaua is a SIP user agent server whose dialogs each own a
// media.Session: the part the VoiceXML gateway (internal/gateway) and the
// conference bridge (internal/conference) share. Each is a SIP endpoint of
// its own on its own UDP port that answers INVITEs with G.711; what a
// dialog is for (a VoiceXML session, a seat in a room) is the role's, given
// as callbacks in Config.
//
// # A dialog's life
//
//   - INVITE: from a source Config.Sources does not admit, 403 (the
//     node admits the call server and the trunks only); Config.Route
//     takes it or it is refused with 404; past
//     Config.MaxDialogs, or while stopping, 503. The media session answers
//     the offer, or offers when the INVITE has none (late offer, RFC 3725
//     flow I); without G.711 the answer is 488 with a Warning. Config.Admit
//     may still refuse it (503, Retry-After: 30). Then 100, 200 with our
//     SDP, and the dialog is confirmed by the ACK, which carries the answer
//     after a late offer (at most 64*T1 is waited for it).
//   - Config.OnSession then runs on its own goroutine with the dialog; its
//     Context ends when the remote hangs up (BYE), the role calls Hangup,
//     or the UA stops. When OnSession returns, the UA sends BYE unless the
//     remote already hung up, and ends the dialog: Config.OnEnd runs, then
//     the media session closes.
//   - re-INVITE with SDP: answered by the media session (new remote
//     address, codec or direction: hold); without SDP: our offer in the
//     200 and the answer in the ACK. Config.OnHold hears each change of
//     hold state. 488 when the offer has no G.711.
//   - INFO with a DTMF body (application/dtmf-relay or application/dtmf):
//     the key goes into the media session as an RFC 4733 one would.
//   - CANCEL: 481 (INVITEs are answered at once). OPTIONS: 200, or 503 at
//     the dialog limit or while stopping.
//
// Reanswer is the re-INVITE answer on its own, for user agents that keep
// their own dialogs (internal/sim's phones and callers).
//
// # Ownership
//
// A dialog is served by its INVITE's handler goroutine until it has its
// 200 and ACK, then by the goroutine that runs OnSession and ends it.
// Requests inside the dialog (ACK, BYE, re-INVITE, INFO) find it through
// the UA's dialog table and act on the media session, which is safe for
// concurrent use, or cancel the dialog's context. The UA counts dialogs
// from their INVITE to their end (Active), and Stop waits for them.
package mediaua
