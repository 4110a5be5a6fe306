package cti

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/router"
)

// EventType names an event pushed over the WebSocket.
type EventType string

// Event types. Every one comes from the router's notices (Notify): the
// router is the one owner of agents' states and of their part in calls,
// and the call server reports to it what happens on the SIP side.
const (
	// EventAgentState: an agent's state changed (State, Reason).
	EventAgentState EventType = "agent_state"
	// EventCallOffered: the router reserved the agent for Call; Data holds
	// all the call data for the screen pop.
	EventCallOffered EventType = "call_offered"
	// EventCallRinging: the agent's phone is ringing (reserved for
	// desktops; nothing publishes it yet).
	EventCallRinging EventType = "call_ringing"
	// EventCallAnswered, EventCallHeld, EventCallRetrieved, EventCallEnded
	// follow the agent's part in the call.
	EventCallAnswered  EventType = "call_answered"
	EventCallHeld      EventType = "call_held"
	EventCallRetrieved EventType = "call_retrieved"
	EventCallEnded     EventType = "call_ended"
	// EventCallRouted: a router decision about a call not tied to an
	// agent (a release, a VRU script after a wait); supervisors only.
	EventCallRouted EventType = "call_routed"
)

// Event is one JSON message on the WebSocket. An event with Agent set goes
// to that agent's connections and to every supervisor; one without goes to
// supervisors only.
type Event struct {
	Type  EventType      `json:"type"`
	Agent router.AgentID `json:"agent,omitempty"`
	Call  router.CallID  `json:"call,omitempty"`
	// State is an agent state (agent_state) or an instruction kind
	// (call_routed).
	State  string    `json:"state,omitempty"`
	Reason int       `json:"reason,omitempty"`
	Data   *CallData `json:"data,omitempty"`
	Time   time.Time `json:"time"`
}

// CallData is a call's data as the desktop sees it: the JSON form of
// router.CallData. Variables always holds pv1..pv10, empty or not, so a
// desktop can bind to every one.
type CallData struct {
	ANI       string            `json:"ani"`
	DNIS      string            `json:"dnis"`
	CallType  string            `json:"call_type"`
	Variables map[string]string `json:"call_variables"`
	ECC       map[string]string `json:"ecc"`
}

// CallDataOf converts the router's call data.
func CallDataOf(d router.CallData) *CallData {
	out := &CallData{ANI: d.ANI, DNIS: d.DNIS, CallType: d.CallType,
		Variables: make(map[string]string, router.NumCallVars), ECC: make(map[string]string, len(d.ECC))}
	for i, v := range d.PV {
		out.Variables["pv"+strconv.Itoa(i+1)] = v
	}
	for k, v := range d.ECC {
		out.ECC[k] = v
	}
	return out
}

// subscriber is one WebSocket's place in the hub.
type subscriber struct {
	who  principal
	send chan Event
	// ctx ends the connection: cancelled with ErrSlowConsumer by the hub,
	// or when the peer goes or the server shuts down.
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// hub fans events out to subscribers without ever waiting: a full send
// queue disconnects its subscriber instead.
type hub struct {
	// mu guards agents and sups. Events are queued under it, so two
	// concurrent Notify/Publish calls reach every subscriber in the same
	// order; it is never held across I/O (channel sends are non-blocking).
	mu     sync.Mutex
	agents map[router.AgentID]map[*subscriber]struct{}
	sups   map[*subscriber]struct{}
}

func newHub() *hub {
	return &hub{agents: map[router.AgentID]map[*subscriber]struct{}{}, sups: map[*subscriber]struct{}{}}
}

func (h *hub) add(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.who.isSupervisor() {
		h.sups[s] = struct{}{}
		return
	}
	m := h.agents[s.who.Agent]
	if m == nil {
		m = map[*subscriber]struct{}{}
		h.agents[s.who.Agent] = m
	}
	m[s] = struct{}{}
}

func (h *hub) remove(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

func (h *hub) removeLocked(s *subscriber) {
	if s.who.isSupervisor() {
		delete(h.sups, s)
		return
	}
	if m := h.agents[s.who.Agent]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.agents, s.who.Agent)
		}
	}
}

// count reports how many connections an agent (or, with "", all
// supervisors) has.
func (h *hub) count(id router.AgentID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id == "" {
		return len(h.sups)
	}
	return len(h.agents[id])
}

func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Agent != "" {
		for s := range h.agents[ev.Agent] {
			h.offer(s, ev)
		}
	}
	for s := range h.sups {
		h.offer(s, ev)
	}
}

func (h *hub) offer(s *subscriber, ev Event) {
	select {
	case s.send <- ev:
	default:
		// The client has not kept up: drop it rather than the event, so it
		// reconnects and reads the state afresh instead of missing one
		// change silently.
		h.removeLocked(s)
		s.cancel(ErrSlowConsumer)
	}
}

// agentCallEvents name the desktop's event for each agent call notice.
var agentCallEvents = [...]EventType{
	contract.Offered:   EventCallOffered,
	contract.Answered:  EventCallAnswered,
	contract.Held:      EventCallHeld,
	contract.Retrieved: EventCallRetrieved,
	contract.Ended:     EventCallEnded,
}

// Notify turns a router notice into an event: CTI subscribes to the
// router's notices (router.Engine.Subscribe). It never blocks and never
// calls the router.
func (s *Server) Notify(n router.Notice) {
	t := n.Time
	if t.IsZero() {
		t = time.Now()
	}
	switch n.Kind {
	case router.NoticeAgent:
		s.hub.publish(Event{Type: EventAgentState, Agent: n.Agent, State: n.State.String(), Reason: n.Reason, Time: t})
	case router.NoticeAgentCall:
		if int(n.CallEvent) >= len(agentCallEvents) || agentCallEvents[n.CallEvent] == "" {
			s.log.Warn("cti: agent call notice of an unknown kind", "kind", n.CallEvent, "call", string(n.Call), "agent", string(n.Agent))
			return
		}
		ev := Event{Type: agentCallEvents[n.CallEvent], Agent: n.Agent, Call: n.Call, Time: t}
		if n.CallEvent == contract.Offered {
			ev.Data = CallDataOf(n.Instruction.Data)
		}
		s.hub.publish(ev)
	case router.NoticeCall:
		in := n.Instruction
		if in.Kind == router.Connect && in.Agent != "" {
			return // the offer itself is a NoticeAgentCall
		}
		s.hub.publish(Event{Type: EventCallRouted, Call: n.Call, State: in.Kind.String(), Time: t})
	}
}

// Publish pushes an event to the agent's connections and to supervisors,
// as a notice would. It never blocks. A zero Time is set to now.
func (s *Server) Publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	s.hub.publish(ev)
}
