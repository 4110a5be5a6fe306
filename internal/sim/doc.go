// Package sim drives a running tandem with simulated callers and agents:
// `tandem sim`, and the end-to-end tests that call Run in process. It is
// what a contact center's load test does with call generators and robot
// agents (in UCCE labs, SIPp callers plus scripted CTI clients), built on
// the same stacks as tandem: sipgo for SIP, internal/media for RTP, G.711
// and RFC 4733 DTMF, and the CTI API as documented in docs/cti-openapi.yaml.
// It never reads tandem's state: every figure is measured at the edges, as
// a caller or an agent sees it.
//
// # A caller
//
// One SIP endpoint (an ingress gateway from a trusted network) carries every
// caller. A caller sends INVITE with a G.711 + telephone-event offer to the
// dialed number, ACKs the IVR's answer and starts RTP; after MenuDelay it
// presses its key (drawn from the digit mix) as RFC 4733 events, which
// barge in on the menu prompt. It then waits in queue, hearing treatment,
// until tandem moves it to an agent with a re-INVITE (RFC 3725 flow I: the
// re-INVITE carries the agent phone's offer; the caller answers it and its
// RTP now goes to the agent), or until its Patience runs out (it hangs up:
// abandoned), or the run stops. With an agent it talks for a time drawn
// from CallerTalk, unless the agent hangs up first.
//
// The caller cannot see when tandem queued it, so its wait (for ASA and the
// service level) runs from the key to the re-INVITE; the script queues the
// call on that key, so the difference is the IVR's reply time.
//
// # An agent
//
// Each agent has its own SIP endpoint (a phone) registered with digest
// auth as its extension, and a CTI session: login, the event WebSocket,
// ready. Its phone answers tandem's INVITE (no SDP: the offer goes in the
// 200, the answer comes in the ACK) after AnswerDelay, talks for a time
// drawn from AgentTalk and hangs up unless the caller did. Its desk follows
// the WebSocket: in wrap-up (work_ready) it ends wrap-up through CTI after
// WrapUp with WrapUpReason (or leaves it to the router's timer when WrapUp
// is 0); made not ready by ring-no-answer (reason 32767) it goes ready
// again after RONAPause, as a person would.
//
// # Stopping
//
// Run returns when every call has ended, or when ctx ends or Duration
// passes: then callers still in setup CANCEL, the others send BYE, and the
// calls not yet at an agent count as interrupted. When every call ended
// by itself, agents first finish the wrap-up of their last call (bounded
// by WrapUp plus a few seconds), so each call talked on shows one wrap-up
// in the table. Agents then hang up, go not ready, log out, revoke their
// token and unregister. Every wait is bounded.
//
// # Concurrency
//
// Each caller runs on its own goroutine, which alone writes its record;
// the SIP handlers signal it through channels closed under the caller's
// mutex. Each agent's desk goroutine alone acts on its agent state; its
// phone's handlers run on sipgo's goroutines and share the agent's mutex
// for the call table and the stats. The progress line reads atomic
// counters.
package sim
