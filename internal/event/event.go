// Package event defines the typed events every role emits about calls and
// legs, and the small Sink interface they are emitted to. The reporting role
// persists them; until then they are logged and counted.
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
)

// CallID is the global id of a call, kept from arrival to the last record
// (UCCE's RouterCallKey / CVP's GUID in one). It is not the SIP Call-ID:
// one call has several SIP dialogs.
type CallID string

// LegID names one SIP dialog of a call (the inbound leg, an outbound leg).
type LegID string

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

// Outcome is how a call ended, for counting and reports.
type Outcome string

// Outcomes of a call.
const (
	OutcomeAnswered  Outcome = "answered"  // connected, then hung up
	OutcomeAbandoned Outcome = "abandoned" // the caller cancelled before answer
	OutcomeFailed    Outcome = "failed"    // no destination took it
	OutcomeRejected  Outcome = "rejected"  // refused before routing (404, 403, 503)
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
		"code", e.Code, "reason", e.Reason, "outcome", string(e.Outcome), "peer", e.Peer)
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
