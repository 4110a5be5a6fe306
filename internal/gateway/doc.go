// Package gateway is tandem's VoiceXML gateway: in CVP terms the IOS VXML
// gateway. It is a SIP endpoint of its own (a UAS on its own port) that the
// call server reaches like any destination. For each call it answers with
// G.711 (internal/media), runs the VoiceXML application the dialed number
// maps to (internal/vxml) on a Platform backed by the call's RTP session,
// and hangs up when the document ends.
//
// The SIP side (answering, re-INVITE and hold, INFO keys, BYE, OPTIONS, the
// max_sessions bound: 503) is internal/mediaua's, shared with the
// conference bridge; the gateway adds the routing (dialed number to
// application: 404 when none matches) and the VoiceXML session.
//
// Ownership: each call is served by the INVITE's handler goroutine until the
// caller has its 200 and ACK, then by one goroutine that runs the VoiceXML
// session; the media session has its own goroutines (see internal/media).
// Requests inside the dialog (BYE, re-INVITE, INFO) reach the call through
// the UA's dialog table and act on the media session, which is safe for
// concurrent use, or cancel the call's context.
//
// Events: besides the dialog's leg events and the interpreter's session
// events, each <log> is a vxml.log event and each input item the caller
// visits an ivr.step event (event.IVRStep, from vxml.Config.OnStep), under
// the call's global id, for the call's journey and IVR-step records.
package gateway
