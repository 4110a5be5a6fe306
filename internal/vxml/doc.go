// Package vxml is the VoiceXML 2.1 interpreter of tandem's VoiceXML gateway:
// in CVP terms, the VoiceXML browser inside the IOS VXML gateway that runs the
// bootstrap and micro-app documents the IVR service generates, and external
// (VXML Server) applications. The media half of the gateway — RTP, prompts,
// DTMF detection, recording — lives in internal/media; this package reaches it
// only through the Platform interface, and reaches document servers only
// through the Fetcher interface, so it can run under a SIP call or in text mode
// (TextPlatform, `tandem vxml run`) with the same code.
//
// # Sessions and state ownership
//
// A Session is one call. NewSession binds the session variables (caller,
// called URI, SIP headers, UUI) and Run interprets documents until the call
// ends, returning an Outcome (exit, end, hangup, transfer or an uncaught event).
// All session state — the goja runtime, the scope chain, the prompt queue, form
// counters — is owned by the goroutine that calls Run; nothing is shared with
// other sessions except the Fetcher (and its HTTP cache), which is safe for
// concurrent use. Platform methods are called from that goroutine only.
//
// For reporting, Config.Events receives session start and end and every
// thrown event, and Config.OnStep each visit of an input item (field,
// record, transfer, subdialog) with its input and outcome (Step), both
// from that goroutine.
//
// # Documents and scopes
//
// Documents are parsed with encoding/xml into a Node tree and checked (unknown
// elements and attribute conflicts make a document invalid: error.badfetch in
// the document that asked for it). Variables live in ECMAScript objects, one
// per scope of spec 5.1.2: session → application → document → dialog →
// anonymous; expressions run inside nested `with` statements so lookups walk
// outward exactly as the spec describes, and <var>/<script> declare in their
// own scope. The application scope and root document persist while the caller
// moves between leaves of the same application root (spec 1.5.2). Every
// script runs under a watchdog (1 s, and a bound on heap growth) and fails
// with error.semantic rather than hang the gateway.
//
// # The Form Interpretation Algorithm
//
// runForm is the FIA of VoiceXML 2.0 appendix C
// (https://www.w3.org/TR/voicexml20/#dmlAFIA):
//
//   - Initialization (https://www.w3.org/TR/voicexml20/#dml2.1.6.1): form item
//     variables and <var>/<script> in document order; prompt and event counters.
//   - Select (https://www.w3.org/TR/voicexml20/#dml2.1.6.2.1): the <goto
//     nextitem> target, else the first item whose variable is undefined and
//     whose cond holds (selectItem).
//   - Collect (https://www.w3.org/TR/voicexml20/#dml2.1.6.2.2): queue prompts
//     by prompt counter (https://www.w3.org/TR/voicexml20/#dml4.1.6), activate
//     grammars, and wait for input or run the item (visit, collect).
//   - Process (https://www.w3.org/TR/voicexml20/#dml2.1.6.2.3): fill items and
//     run <filled> (https://www.w3.org/TR/voicexml20/#dml2.4), or hand events
//     to the catch selected by name prefix, count and cond, bubbling item →
//     form → document → application root → platform default
//     (https://www.w3.org/TR/voicexml20/#dml5.2.4) (process, handleEvent).
//
// Menus (https://www.w3.org/TR/voicexml20/#dml2.2) run as a one-field form
// whose grammar is their choices. Subdialogs run in a new execution context.
//
// # Plugging in a media platform
//
// The gateway's SIP side creates, per call, a Platform backed by the call's
// RTP session (internal/media) and runs a Session on its own goroutine:
//
//	s, err := vxml.NewSession(vxml.Config{Platform: mediaPlatform, Fetcher: sharedFetcher,
//		Logger: logger, Session: vxml.SessionInfo{CallID: id, RemoteURI: from, ...}})
//	out, err := s.Run(callCtx, bootstrapURI)
//
// Play renders PromptItems (TTS text, with SSML when the prompt used SSML
// markup; audio URIs fetched through the same Fetcher, with fallback items
// when they cannot be; recorded audio) and returns ErrHangup if the caller leaves. Collect
// plays the prompts, stops them at the first key or speech when Bargein is set,
// and gathers DTMF until InputRequest.DTMFState says the grammars are
// satisfied (DTMFComplete), the termchar arrives, or interdigittimeout /
// termtimeout pass; silence for Timeout is InputNoInput. A recogniser, if
// present, returns the utterance text as InputVoice and the interpreter
// matches it against the same grammars. Transfer is forwarded to the call
// server (which owns the legs); Disconnect ends the leg. Cancelling the
// context tears the session down.
//
// # Grammars
//
// Built-in types (digits, boolean, number, currency, date, time, phone, with
// parameters and builtin: URIs) and SRGS XML grammars in DTMF and voice mode.
// There is no recogniser here: voice grammars match the words of a text
// utterance (from a recogniser on the media side, or --say in text mode), and
// SISR tags (out, rules.x, rules.latest(), literal and bare-expression tags)
// run on goja.
package vxml
