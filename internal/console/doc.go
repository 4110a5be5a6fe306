// Package console is tandem's web console and agent desktop: in CVP/UCCE
// terms the Operations Console, the reporting front end (CUIC) and the
// Finesse agent and supervisor desktops, as one web application served by
// `tandem serve` on console.listen (default 127.0.0.1:8088).
//
// # Assets
//
// The pages are plain HTML, CSS and ES modules under web/, embedded in the
// binary: no build step and no Node.js to run tandem. Pages build their
// DOM with a small helper (never innerHTML), so nothing the server sends
// is parsed as markup, and the Content-Security-Policy allows script from
// the console's own files only.
//
// # Who may do what
//
// Three roles: admin (configuration and every watching page), supervisor
// (health, live view, wallboard, reports, the team view that forces agent
// states) and agent (the desktop only). Sign-in tries the bootstrap admin
// of console.admin (bcrypt; compared in constant time, with a dummy
// comparison for other names so names cannot be probed by timing), then
// the CTI supervisors, then the router's agents (with an extension) —
// the last two through the CTI API, which owns those credentials.
//
// A session is 32 random bytes in an HttpOnly, SameSite=Strict cookie,
// kept in memory by its SHA-256 for console.session_ttl (default 8h).
// Every page path and API route names the roles that may use it
// (pages, guard); a state-changing request must also carry the session's
// CSRF token in X-CSRF-Token and, when the browser says where it comes
// from, this origin.
//
// # The CTI API on the console's origin
//
// The desktop and the team view talk to the CTI API as /cti/v1/... on the
// console's own listener: the console hands those requests to the CTI
// handler in process with the session's CTI bearer token, which never
// reaches the browser. One origin means one cookie session, no CORS, and
// the event WebSocket passes straight through (the CTI handler hijacks
// the console's connection). Sign-in and router configuration are not
// passed through: they are the console's own, for admins.
//
// # Configuration
//
// Router sections (agents, skill groups, precision queues, dialed
// numbers, call types) are edited as forms, scripts as the YAML text of
// the whole router document with each validation problem placed at its
// line and the scripts drawn as flow diagrams. Every change goes through
// RouterConfig.Apply (node.RouterConfig): validated, the engine reloaded
// without dropping a call, a new version stored; a change based on an
// older version than the stored one is refused (409). Prompts are WAV
// files checked with media.DecodeWAV on upload and served at /media/<name>
// for the VoiceXML gateway. SIP trunks, users, server groups and the dial
// plan are edited as forms too, through SIPConfig (node.SIPConfig): one
// versioned document, validated with the rest of the configuration file
// and applied with sipedge.Edge.Reload without dropping a call; each
// problem comes back at its field path. Listeners and the registrar stay
// in the file and change at a restart.
//
// # Live
//
// The live view and wallboard poll /api/live: router.Engine.Calls (where
// each call is: script, IVR, queue, ringing, agent, and the node it is
// at), queue figures and agents by state.
// Admins and supervisors can clear a call there (Clear, then Confirm
// clear: POST /api/calls/{id}/clear, Deps.Calls), which ends it on every
// leg and reports it cleared by the session's user.
//
// # Reports
//
// The reports page and the wallboard's day figures read the reporting
// API (Deps.Reports, a report.Handler the process builds for the console)
// as /v1/reports/... on the console's origin, GET only, for admins and
// supervisors. A supervisor's request carries its CTI token; an admin has
// none, so every passed-on request names its session in the context
// (PrincipalOf), which the handler's Authorize trusts because no network
// peer can set it.
//
// # The desktop's call control
//
// Hold, retrieve, release, blind transfer, and consult with complete,
// cancel and conference, each enabled for the states the CTI API allows.
// The router's agent state does not show a consult, so the desktop keeps
// it from the consult's 200 until complete, cancel, the call's end or a
// 409.
//
// # Lifecycle
//
// New(cfg, deps) validates and builds; Handler is mounted by the process
// (internal/node) on its listener; Run sweeps expired sessions until its
// context ends.
package console
