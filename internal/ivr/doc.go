// Package ivr is tandem's IVR service: in CVP terms the IVR service (and the
// VXML Server in comprehensive mode) that turns the router's run-script
// instructions into VoiceXML for the VoiceXML gateway, and sends what the
// caller did back to the router as call data.
//
// # Flow
//
//  1. The router's script sends the call to the VRU and asks for a VRU
//     script (router.Instruction{Kind: RunScript, VRUScript: "M,main,12"}).
//     The process calls Server.Expect(call, script, params): the run-script
//     string is parsed (ParseScript) and kept as the call's pending
//     micro-app. A bad script fails here, with ErrBadScript.
//  2. The call server opens the VRU leg; the VoiceXML gateway's bootstrap
//     fetches GET /ivr/start?call=<id> and gets the pending micro-app's
//     document. An unknown (or idle-expired) call gets a document that logs
//     "unknown call" and exits: HTTP 200, because a 4xx is error.badfetch
//     to the interpreter and the session would end in error, not cleanly.
//  3. The document ends by posting caller_input and error (none, noinput,
//     nomatch = too many invalid entries, error) to
//     POST /ivr/result?call=<id>&seq=<n>. The service calls
//     Router.Continue(call, {"caller_input", "error"}, error != "none") and
//     answers, on the same VXML session as CVP does, with:
//     RunScript → the next micro-app's document; Leave → a hold round
//     (HoldAudio, or HoldPause of silence) that fetches GET /ivr/hold, which
//     serves a micro-app Expected meanwhile (the router took the call back:
//     requeue, new treatment) or another round, and exits after HoldRounds
//     so a lost BYE cannot hold a gateway port forever; Release → a
//     document that disconnects. A Router error ends the session (exit) and
//     drops the call: the call server sees the VRU leg end and asks the
//     router.
//
// seq numbers each micro-app of a call: a repeated or late result (a retry,
// an Expect that replaced the app) is not reported to the router twice; it
// gets the call's current document instead.
//
// # Micro-apps
//
// The run-script string is the app name then comma-separated positional
// fields; Params (CVP's user.microapp.* ECC variables) override them by name.
// Media names are relative to Config.MediaBase (".wav" added when there is
// no extension) or absolute http(s) URLs; "-" means no audio (TTS only).
//
//	PM,<media>[,<bargein Y|N>]               params: media tts bargein
//	PD,<type>,<value>                        params: data_type value
//	    type: number ordinal digits char currency (USD12.50) date (YYYYMMDD) time (HHMM[SS]), spoken with say-as
//	GD,<media>[,<min>[,<max>[,<term>]]]      params: media tts min_length max_length term (0-9*# or none)
//	M,<media>,<choices>                      params: media tts choices ("123*": one key each)
//	GS,<media>[,<grammar>]                   params: media tts grammar (builtin:... or relative to MediaBase)
//	CAP[,<tag>]                              returns at once with error=none; the router records the snapshot
//	collecting apps (GD, M, GS) also: timeout interdigit_timeout (seconds or 500ms) retries (0-9, default 2)
//
// Noinputs and nomatches are counted apart as CVP does: each is reprompted
// Retries times (NoInputText / NoMatchText, then the prompt again) and the
// next one ends the app with error=noinput or error=nomatch. GS takes DTMF
// digits always and speech when a grammar is given. Every value from a
// script is XML-escaped; none is placed in an ECMAScript expression.
//
// # State
//
// One table of calls (call id → pending micro-app, phase, seq, last touch),
// guarded by Server.mu, which is never held across Router.Continue (the
// router takes its own lock and its adapter may call Expect). A call idle
// for IdleTimeout (no Expect, no fetch) is forgotten: unknown when looked
// up, swept by Run and by Expect when the table is full; MaxCalls caps it
// and Expect then fails with ErrTableFull.
//
// # Wiring in the process
//
//	ivrSrv, err := ivr.New(cfg.IVR, ivr.Deps{Router: routerAdapter{engine}, Logger: log.With("role", "ivr")})
//	mux.Handle("/ivr/", ivrSrv.Handler())
//	go ivrSrv.Run(ctx)
//
// The gateway's application URL for the VRU label is
// http://<ivr host:port>/ivr/start?call={call} (the gateway fills {call}
// with the global call id). The router adapter calls
// ivrSrv.Expect(string(call), in.VRUScript, in.Params) for every RunScript
// instruction (from RouteRequest, Requery or a NoticeCall) before the call
// server sends the call to the VRU, and implements Router by calling
// router.Engine.Continue(router.CallID(call), result, failed) and mapping the
// Instruction: RunScript → Next{RunScript, VRUScript, Params}; Connect and
// Queued → Leave (the call server is moving the caller to an agent, or the
// call waits for the router's next Expect); Release → Release. The package
// imports neither the router nor the call server, so it can run apart.
package ivr
