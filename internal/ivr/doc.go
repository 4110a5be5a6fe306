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
// Each micro-app is one file, app_<name>.go: its Kind, positional fields,
// own settings, rendering and usage line (with every param), registered in
// a table (microapp.go). Usage, and `tandem microapps`, list them: PM play,
// PD play data, GD digits, M menu, GS speech or digits, YN yes/no, CAP
// capture, QT queue treatment, EXT (or GS,Server,V) an external VoiceXML
// application. Adding a micro-app is adding such a file and its test.
//
//	collecting apps (GD, M, GS, YN) also: timeout interdigit_timeout (seconds or 500ms) retries (0-9, default 2)
//
// Noinputs and nomatches are counted apart as CVP does: each is reprompted
// Retries times (NoInputText / NoMatchText, then the prompt again) and the
// next one ends the app with error=noinput or error=nomatch. GS takes DTMF
// digits always and speech when a grammar is given. Every value from a
// script is XML-escaped; none is placed in an ECMAScript expression.
//
// # Queue treatment (QT)
//
// One QT round is an announcement of the caller's place, the music, then
// half a second's listen for the callback key; its result is
// caller_input = the key ("" when none was pressed) and error=none. The
// routing script loops: queue → QT → if result.caller_input == "9" →
// callback, else back to QT. The announcement uses Deps.Queue's figures
// (the node's adapter reads router.Engine.Positions), in rounds 1, 1+n,
// 1+2n... for announce=n, and is left out when the call is not queued.
// Each phrase and each number is its own <prompt> ("You are caller
// number", "3", "Your expected wait is about", "2", "minutes"), so a
// gateway caching TTS by text renders each once; AnnouncementTexts lists
// them all for a prompt generator. Positions beyond 20 and waits beyond 20
// minutes (or under one) are whole phrases (Announcements). The music is
// interruptible only when a callback key is set. A round that ends less
// than two seconds after the last began (the music file is missing) is
// followed by one that waits HoldPause, so a bad media name cannot spin
// the loop. When an agent frees up the call server moves the caller at
// once (the gateway's session ends mid-document); a result posted after
// that gets the router's Queued, which the service answers with a hold
// round: nothing moves.
//
// # External VoiceXML applications (EXT)
//
// Config.AppsDir holds applications, one folder each with its entry
// document main.vxml and its own files, served read-only (regular files
// only, no dot files, no way out of the directory) under
// GET /ivr/apps/<app>/<file>. EXT runs <subdialog src="apps/<app>/main.vxml">
// with a <param> per to_ext_vxml pair (value=, never an expression), which
// sets the <var> of that name in the application's first form (CVP's
// session variables). The application ends with <return namelist="..."/>;
// the service posts the returned values to the router as
// from_ext_vxml.<name> (strings as they are, anything else as JSON; read
// in a script as result["from_ext_vxml.balance"]) with caller_input = the
// returned caller_input, if any. An entry document that cannot be fetched,
// or a <return event="..."/>, is error=error (the node's error exit); an
// error the application leaves uncaught ends the session, as VoiceXML's
// default handler does, and the call server asks the router.
// examples/vxml-apps/balance is a small application to start from.
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
//	ivrSrv, err := ivr.New(cfg.IVR, ivr.Deps{Router: routerAdapter{engine}, Queue: queueAdapter{engine}, Logger: log.With("role", "ivr")})
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
// call waits for the router's next Expect); Release → Release. Its Queue
// adapter answers with the best of router.Engine.Positions. The package
// imports neither the router nor the call server, so it can run apart.
package ivr
