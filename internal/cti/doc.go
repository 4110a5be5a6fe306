// Package cti is tandem's CTI server: what the CTI server and CTI OS of a
// Unified CCE deployment, and Finesse's REST API and notification service,
// give agent desktops and supervisors — in one HTTP + WebSocket JSON API
// (docs/cti-openapi.yaml describes every route and the event schema).
//
// # What it does
//
// Agents log in with id, password and extension and get a bearer token;
// they change state (ready, not ready with a reason, logout, end of
// wrap-up with a wrap-up reason), read their own state, and control their
// own calls: hold, retrieve, release, blind transfer to a dialed number,
// an agent or a queue, and set call variables (pv1..pv10) and ECC
// variables. Supervisors log in with a credential from Config, list agents
// and queues live and force an agent not ready or logged out. GET
// /v1/events is a WebSocket of JSON Events: each agent gets its own state
// changes and its calls (offered with all call data, ringing, answered,
// held, retrieved, ended); supervisors get everything.
//
// # State and its owner
//
// CTI owns no agent or call state: the router (internal/router) owns it,
// and every answer here is read from it at the time (Engine.Agent, Stats,
// Positions), so a desktop can never disagree with routing. A state
// request goes through the router's one state table; an illegal one is a
// 409 with the router's text and changes nothing. Call control goes to the
// call server (CallControl), which acts on the SIP side and then reports
// to the router (Hold, Retrieve, End): the router's state follows what the
// phones did, not what was asked. Every event on the WebSocket comes from
// the router's notices (Notify): agent states, and each agent's call
// events (offered, answered, held, retrieved, ended) as the router records
// them, so the desktop shows the router's agent↔call map and no other. A transfer to a
// queue is the exception that goes through the router (Engine.Transfer),
// whose instruction CTI hands to the call server (CallControl.Follow).
//
// What CTI does own: tokens (a token.Store, safe for concurrent use) and the
// WebSocket subscribers (hub.mu). Notify, which the router calls with its
// notices, and Publish (an event made here) only queue events on each subscriber's bounded
// channel without waiting; a full queue disconnects that client (close
// 1008) rather than slow the router, and the desktop reconnects and reads
// its state afresh. One goroutine per WebSocket writes its queue out.
//
// # Security model
//
// Every route but the two logins needs a bearer token (Authorization:
// Bearer; the WebSocket also takes ?token= since browsers cannot set
// headers on one). Tokens are 32 random bytes from crypto/rand, kept in
// memory only as their SHA-256 with an expiry (Config.TokenTTL); they do
// not survive a restart, and DELETE /v1/session revokes one. Supervisor
// passwords are compared in constant time; agent passwords are checked by
// the router. A failed login says 401 whether the id or the password was
// wrong, so ids cannot be probed. An agent's token acts only on that agent
// and on the call the router says it holds (403 otherwise); a supervisor's
// may read every agent and queue and force not ready or logout, but may
// not make an agent ready nor control calls. Transport security (TLS) is
// the listener's, set up by cmd/tandem.
//
// # Wiring
//
// internal/node subscribes server.Notify to the router's notices
// (router.Engine.Subscribe) once both exist, gives CTI the router as Engine and the
// call server as CallControl, fills Config.Agents and Config.Queues with
// DirectoryOf(routerConfig), mounts Handler on its listener and runs Run
// in its errgroup; Run returns after Shutdown closed every WebSocket.
package cti
