// Package plan is tandem's what-if planner: it plays a day of calls through
// the real routing engine (router.Engine, the code that routes live calls)
// on virtual time, and sets what it measures beside Erlang C and Erlang A
// for the same inputs. In UCCE terms it is what a workforce-management
// tool's "what if" does, except that the routing is not modelled: the
// router document is the one the contact centre runs.
//
// # What runs
//
// Run builds a router.Engine from a router document (a tandem config's
// router section, or the demo's) with a virtual clock (Deps.Now), the
// plan's seeded random numbers (Deps.Rand, for percent nodes), and itself
// as the call server, the VRU and the agents:
//
//   - Callers arrive per dialed number as a Poisson process whose rate is
//     constant within each interval (the plan's calls per interval) and
//     are routed with Engine.Route, as the call server routes a new call.
//   - A run-script instruction (a micro-app) takes the plan's duration
//     for that VRU script, then Engine.Continue gets what the caller
//     entered, drawn from the plan's key shares (or the node's error
//     exit). Queue treatment rounds (QT) loop as the script loops them.
//   - A caller's patience starts when the call first joins a queue (the
//     engine's queue.enter event); when it runs out before an answer the
//     caller hangs up (Engine.End, and Released if the phone rang).
//   - An offer (Connect to an agent) is answered after the plan's ring
//     time (Engine.Answered); the talk time is drawn (exponential,
//     lognormal or fixed); the hang-up is Engine.End, and the engine's own
//     wrap-up timer sends the agent back. A courtesy callback (a release
//     the router keeps queued) is called back like any offer.
//   - Agents of each team log in and go ready at the start of each
//     interval to meet the schedule; agents whose shift ends finish their
//     call (UCCE's pending not ready) and log out.
//   - Engine.Tick runs every 100 ms of virtual time, the cadence of
//     Engine.Run, so ring-no-answer, wrap-up, wait nodes and
//     precision-queue steps fire when they would live.
//
// Nothing runs in real time and nothing waits: a day of a few thousand
// calls takes well under a second. The same seed, plan and router
// document give the same result.
//
// # What it reports
//
// A row per interval and queue (and one of all calls): offered, handled,
// abandoned, the service level by the plan's formula, ASA, AHT, counted
// by report's rules (report.Counters, report.Figures: the wait runs from
// the first queue entry, short abandons apart) for the calls that arrived
// in the interval; occupancy of the queue's agents; Erlang C and Erlang A
// (erlang.go, with the references) for the calls the router sent to the
// queue, their mean handle time (talk plus the router's wrap-up) and
// patience, with the staffing each says meets the target. Size finds the
// staffing that meets it by simulation.
//
// Recorded days come from the report store (FromStore): calls per interval
// per dialed number from the caller TCDs, talk times from the agent TCDs,
// patience from the waits and abandons, key shares from the micro-app
// results.
package plan
