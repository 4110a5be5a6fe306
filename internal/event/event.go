// Package event defines the typed events every role emits about calls,
// legs, routing decisions, queues and agents, and the small Sink interface
// they are emitted to. The reporting role persists them and derives its
// records from them.
//
// Events are plain values: a role can hand them to a sink in process or send
// them over a network to a reporting server without change.
package event

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

// CallID is the global id of a call, kept from arrival to the last record
// (UCCE's RouterCallKey / CVP's GUID in one). It is not the SIP Call-ID:
// one call has several SIP dialogs. It is the contract's: every role names
// a call by the one type.
type CallID = contract.CallID

// LegID names one SIP dialog of a call (the inbound leg, an outbound leg).
type LegID = contract.LegID

// NewCallID returns a new random call id: 16 hex digits of time order then
// 16 random, so ids sort roughly by creation and never collide.
func NewCallID(now time.Time) CallID {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return CallID(hex.EncodeToString(uint64Bytes(uint64(now.UnixNano()))) + hex.EncodeToString(b[:]))
}

func uint64Bytes(v uint64) []byte {
	return []byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// Kind says what happened.
type Kind string

// Call and leg events. A call's life is CallNew, then per leg LegNew,
// LegRinging/LegEarly, LegAnswered or LegFailed, LegEnded, and CallEnded
// with its outcome.
const (
	CallNew      Kind = "call.new"      // an INVITE was accepted as a call
	CallRouted   Kind = "call.routed"   // the router gave an instruction
	CallAnswered Kind = "call.answered" // the caller got a 200
	CallMoved    Kind = "call.moved"    // the caller's media moved to another leg
	CallEnded    Kind = "call.ended"    // the call is over (Outcome says how)
	LegNew       Kind = "leg.new"       // an outbound leg was sent an INVITE
	LegRinging   Kind = "leg.ringing"   // 180
	LegEarly     Kind = "leg.early"     // 183 with early media
	LegAnswered  Kind = "leg.answered"  // 2xx
	LegFailed    Kind = "leg.failed"    // a final non-2xx, a timeout or a transport error
	LegHeld      Kind = "leg.held"      // re-INVITE put the media on hold
	LegResumed   Kind = "leg.resumed"   // re-INVITE took it off hold
	LegEnded     Kind = "leg.ended"     // BYE or CANCEL
)

// Routing, queue and agent events, emitted by the router. Agent state
// events have an Agent and no Call.
const (
	// RouteRequest: the router took a new call; CallType, Script, and Data
	// (ANI, DNIS, SIP Call-ID) are set.
	RouteRequest Kind = "route.request"
	// RouteDecision: the script yielded an instruction. Script, Node (the
	// nodes passed since the last decision, joined by ">"), Target (labels,
	// micro-app, queues or release code) and Reason (the instruction kind:
	// connect, run_script, queued, release).
	RouteDecision Kind = "route.decision"
	// IVRResult: a micro-app's result came back (Continue). Script is the
	// micro-app, Target the result values URL-encoded (caller_input=...),
	// Reason "ok" or "error".
	IVRResult Kind = "ivr.result"
	// QueueEnter and QueueLeave: the call joined or left Queue (a skill
	// group or precision queue). QueueLeave's Reason is offered,
	// abandoned, released or transferred.
	QueueEnter Kind = "queue.enter"
	QueueLeave Kind = "queue.leave"
	// AgentOffer: the call was offered to Agent (reserved) from Queue;
	// Target is the extension rung. Reason "consult": a consult call of
	// the call's agent to this one.
	AgentOffer Kind = "agent.offer"
	// AgentRONA: the offer rang past ring-no-answer (or was refused).
	AgentRONA Kind = "agent.rona"
	// AgentAnswered: the agent's phone answered; talk time starts.
	AgentAnswered Kind = "agent.answered"
	// AgentHold and AgentRetrieve: the agent's call went on and off hold.
	AgentHold     Kind = "agent.hold"
	AgentRetrieve Kind = "agent.retrieve"
	// AgentTransfer: the agent left the call to Target: a queue or a
	// dialed number (a blind transfer), or the consult target's agent id
	// with Reason "consult" (a consult transfer, or the agent leaving a
	// conference).
	AgentTransfer Kind = "agent.transfer"
	// AgentConference: the agent conferenced its consult target (Target,
	// an agent id) in with the caller.
	AgentConference Kind = "agent.conference"
	// AgentCallEnd: the agent's part of the call ended (either side hung
	// up, or a transfer); wrap-up time starts.
	AgentCallEnd Kind = "agent.call_end"
	// AgentWrapUp: the agent's wrap-up of Call ended, with the wrap-up
	// ReasonCode (0 when wrap-up timed out or none was given).
	AgentWrapUp Kind = "agent.wrapup"
	// AgentState: the agent changed State (logged_out, not_ready, ready,
	// reserved, talking, hold, work_ready, work_not_ready) with ReasonCode.
	// Call is empty: an agent's states are its own history.
	AgentState Kind = "agent.state"
	// CallData: the router's last word on a call: its Data at the end
	// (ANI, DNIS, call variables, ECC) and CallType.
	CallData Kind = "call.data"
)

// AgentID names an agent (contract.AgentID, the router's too).
type AgentID = contract.AgentID

// NumCallVars is how many call variables (pv1..pv10) a call carries.
const NumCallVars = 10

// Data is a call's data: ANI, DNIS, the inbound SIP Call-ID (so a record
// can be joined with a SIP trace), call variables and ECC variables.
type Data struct {
	ANI       string              `json:"ani,omitempty"`
	DNIS      string              `json:"dnis,omitempty"`
	SIPCallID string              `json:"sip_call_id,omitempty"`
	PV        [NumCallVars]string `json:"pv"`
	ECC       map[string]string   `json:"ecc,omitempty"`
}

// Outcome is how a call ended, for counting and reports.
type Outcome string

// Outcomes of a call.
const (
	OutcomeAnswered  Outcome = "answered"  // connected, then hung up
	OutcomeAbandoned Outcome = "abandoned" // the caller cancelled before answer
	OutcomeFailed    Outcome = "failed"    // no destination took it
	OutcomeRejected  Outcome = "rejected"  // refused before routing (404, 403, 503)
	// OutcomeDialogGone: a leg's dialog was found gone (an in-dialog
	// request answered 481 or 408, or timed out: RFC 3261 §12.2.1.2), so
	// tandem ended the call on every other leg.
	OutcomeDialogGone Outcome = "dialog_gone"
	// OutcomeSessionExpired: a leg's session timer ran out with no refresh
	// (RFC 4028 §10): the peer is silently gone.
	OutcomeSessionExpired Outcome = "session_expired"
	// OutcomeCleared: an administrator or supervisor cleared the call
	// (the call.ended Reason says who).
	OutcomeCleared Outcome = "cleared"
)

// Event is one thing that happened to a call or a leg.
type Event struct {
	Time time.Time
	Kind Kind
	Call CallID
	Leg  LegID // empty for call-level events
	// Code is the SIP status that caused the event, when there is one.
	Code int
	// Reason is free text: the SIP reason phrase, the error, who hung up.
	Reason  string
	Outcome Outcome // CallEnded only
	// Peer is the remote address or URI of the leg.
	Peer string
	// Side is "caller" or "callee" for events from one side of a dialog.
	Side string
	// ID is the event's unique id; the store is idempotent by it, so an
	// event written twice (a spool replayed after a crash) counts once.
	// Empty until stamped (see Sequencer).
	ID string
	// Seq orders a call's events: 1, 2, 3... per call, so a journey reads
	// in emission order even when clocks tie, and a gap shows a loss.
	// Zero until stamped.
	Seq uint64

	// Routing and agent fields; empty where they do not apply.
	Agent      AgentID
	Queue      string // skill group or precision queue
	CallType   string
	Script     string // routing script, or micro-app for IVRResult
	Node       string // script nodes passed, "start>menu>q1"
	Target     string // what a decision or transfer points at
	State      string // agent state (AgentState)
	ReasonCode int    // not-ready, logout or wrap-up reason code
	// Data is set on RouteRequest and CallData only.
	Data *Data `json:",omitempty"`
}

// NewEventID returns a new event id in the form of NewCallID: time order
// first, so ids written together sit together in the store's index.
func NewEventID(now time.Time) string { return string(NewCallID(now)) }

// Sequencer stamps events with an ID and a per-call Seq when the emitter
// left them unset; safe for concurrent use. A call's counter is kept a
// minute past CallEnded, for the leg events that trail it, and forgotten
// after an hour without events, so calls that never end do not leak.
type Sequencer struct {
	mu    sync.Mutex // guards calls and n
	calls map[CallID]*callSeq
	n     int // stamps since the last sweep
}

type callSeq struct {
	seq   uint64
	last  time.Time
	ended bool
}

// Sequencer retention: see the type's comment.
const (
	seqKeepEnded = time.Minute
	seqKeepIdle  = time.Hour
	seqSweepGap  = 4096 // stamps between sweeps, so a sweep costs little per event
)

// Stamp sets e.ID if empty and e.Seq if zero. An emitter-set Seq also
// advances the call's counter, so stamped events follow it.
func (s *Sequencer) Stamp(e *Event, now time.Time) {
	if e.ID == "" {
		e.ID = NewEventID(now)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[CallID]*callSeq{}
	}
	c := s.calls[e.Call]
	if c == nil {
		c = &callSeq{}
		s.calls[e.Call] = c
	}
	if e.Seq == 0 {
		c.seq++
		e.Seq = c.seq
	} else if e.Seq > c.seq {
		c.seq = e.Seq
	}
	c.last = now
	if e.Kind == CallEnded || e.Kind == CallRejected {
		c.ended = true
	}
	if s.n++; s.n >= seqSweepGap {
		s.n = 0
		for id, c := range s.calls {
			if (c.ended && now.Sub(c.last) > seqKeepEnded) || now.Sub(c.last) > seqKeepIdle {
				delete(s.calls, id)
			}
		}
	}
}

// Sink receives events. Emit must not block for long: it is called on the
// signalling path.
type Sink interface {
	Emit(Event)
}

// Fanout sends each event to several sinks in order.
type Fanout []Sink

// Emit implements Sink.
func (f Fanout) Emit(e Event) {
	for _, s := range f {
		s.Emit(e)
	}
}

// Discard drops events.
type Discard struct{}

// Emit implements Sink.
func (Discard) Emit(Event) {}

// Logger logs every event at debug level with call=<id>.
type Logger struct{ Log *slog.Logger }

// Emit implements Sink.
func (l Logger) Emit(e Event) {
	l.Log.Debug("event", "call", string(e.Call), "kind", string(e.Kind), "leg", string(e.Leg),
		"code", e.Code, "reason", e.Reason, "outcome", string(e.Outcome), "peer", e.Peer,
		"agent", string(e.Agent), "queue", e.Queue, "state", e.State)
}

// Counter counts events by kind and calls by outcome; safe for concurrent
// use. Tests and the metrics endpoint read it.
type Counter struct {
	mu       sync.Mutex // guards kinds and outcomes
	kinds    map[Kind]int64
	outcomes map[Outcome]int64
	total    atomic.Int64
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	return &Counter{kinds: map[Kind]int64{}, outcomes: map[Outcome]int64{}}
}

// Emit implements Sink.
func (c *Counter) Emit(e Event) {
	c.total.Add(1)
	c.mu.Lock()
	c.kinds[e.Kind]++
	if e.Kind == CallEnded {
		c.outcomes[e.Outcome]++
	}
	c.mu.Unlock()
}

// Kind returns how many events of kind k were seen.
func (c *Counter) Kind(k Kind) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kinds[k]
}

// Outcome returns how many calls ended with o.
func (c *Counter) Outcome(o Outcome) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outcomes[o]
}

// Total returns how many events were seen.
func (c *Counter) Total() int64 { return c.total.Load() }

// Recorder keeps every event in memory, for tests.
type Recorder struct {
	mu     sync.Mutex // guards events
	events []Event
}

// Emit implements Sink.
func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of what was recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// ForCall returns the events of one call in order.
func (r *Recorder) ForCall(id CallID) []Event {
	var out []Event
	for _, e := range r.Events() {
		if e.Call == id {
			out = append(out, e)
		}
	}
	return out
}
