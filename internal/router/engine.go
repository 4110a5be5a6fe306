package router

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"

	"github.com/tandem-cc/tandem/internal/event"
)

// Deps are what the engine needs from outside.
type Deps struct {
	Log *slog.Logger
	// Now is the clock; tests give a fake one. Default time.Now.
	Now func() time.Time
	// Notify receives offers and other decisions the router makes on its
	// own. It is called in order, after the engine's lock is released, and
	// must not call back into the engine before returning (hand off to a
	// goroutine or channel): notices are delivered under a second lock that
	// keeps their order.
	Notify func(Notice)
	// Rand returns a number in [0, n) for percent allocation; default
	// math/rand/v2.
	Rand func(n int) int
	// Events, if set, receives the reporting events of every decision
	// (routing, queues, offers, agent states; see package event). It is
	// called after the engine's lock is released, in order, and should
	// not block for long (report.Writer does not).
	Events event.Sink
}

// Engine is the router: scripts, queues, agents and selection.
type Engine struct {
	log *slog.Logger
	now func() time.Time
	// subs hear every notice, Deps.Notify first (notices.go).
	subs   subscribers
	rnd    func(int) int
	events event.Sink // nil: no reporting events are built

	// mu guards every field below: it is the one owner of the agent, queue
	// and call state, so a reservation (taking a call out of all its queues
	// and an agent out of all its ready sets) is one atomic step. No
	// callback runs under mu.
	mu sync.Mutex
	// rotors holds each rotary select node's next starting group.
	rotors  map[*cnode]int
	cfg     *compiled
	targets map[string]*target
	queues  map[QueueName]*queueState
	agents  map[AgentID]*agent // logged in (or retiring) agents only
	calls   map[CallID]*call
	timers  timerHeap
	seq     uint64
	pending []Notice
	// pendingEv are reporting events made under mu, emitted after it.
	pendingEv []event.Event
	// ahtSec is a moving average of handle time, for expected wait.
	ahtSec float64

	// notifyMu is taken before mu is released and held while pending
	// notices are delivered, so notices leave in the order they were made.
	notifyMu sync.Mutex
	// ring is ring_no_answer in force (ns), readable without mu: a notice
	// subscriber must not call into the engine, yet needs it for an
	// offer's ring time (calls.go).
	ring atomic.Int64
}

// target is one selection target: a skill group or one precision-queue
// step. It holds the calls waiting for its agents and its ready agents.
type target struct {
	key     string
	queue   *queueState
	calls   callHeap
	ready   agentHeap
	members map[*agent]struct{}
}

// queueState is a named queue's figures.
type queueState struct {
	def     *queueDef
	steps   []*target
	waiting int
}

type agent struct {
	id         AgentID
	def        *agentDef
	ext        string
	seq        uint64
	state      State
	reason     int
	since      int64
	readySince int64
	targets    []*target
	entries    []*aentry // places in ready heaps, while Ready
	call       *call     // reserved or connected call
	gen        uint64    // bumped on every state change; invalidates timers
	// wantNotReady is a not-ready request made while on a call (UCCE's
	// pending state): honoured when the call ends.
	wantNotReady bool
	pendReason   int
	retired      bool   // removed from the config: logs out after its call
	lastCall     CallID // the call its wrap-up is for
	// phoneHeld names the offer whose INVITE may still be at the agent's
	// phone (the offer ended on tandem's side, the phone has not answered
	// the CANCEL yet): the agent is out of every ready set until it is
	// released; phoneGen invalidates the timer that bounds it (phone.go).
	phoneHeld CallID
	phoneGen  uint64
}

type phase uint8

const (
	inScript phase = iota
	queued
	offered
	connected
)

type call struct {
	id        CallID
	seq       uint64
	phase     phase
	req       RouteRequest
	data      CallData
	result    map[string]string
	script    *compiledScript
	pc        int // node to run next
	resumeErr int // run_vru_script's error exit while waiting for its result
	queueNode int // last queue node, for its no_answer exit
	priority  int
	queuedAt  int64
	queues    []*queueState
	pqStep    map[*queueState]int
	entries   []*qentry
	agent     *agent
	gen       uint64 // bumped when queued/offered/waiting changes; invalidates timers
	started   int64
	// Reporting: the nodes passed since the last decision, the micro-app
	// running, and the queue the current offer came from.
	path   []string
	vru    string
	offerQ string
	// consult is the agent reserved for (or talking on) the consult call
	// of the call's agent, and consultQ the queue it was chosen from; see
	// consult.go.
	consult  *agent
	consultQ string
	// consultLabel is the dialed number of a consult to a number (no agent
	// is reserved for it); consult.go.
	consultLabel string
	// treating says the call waits with the transfer treatment instead of
	// its script (it was transferred to a queue; see treat).
	treating bool
	// callback is the number of a courtesy callback; callerGone says the
	// caller hung up and waits to be called back (callback.go).
	callback   string
	callerGone bool
	cbTries    int
	// phoneDone says the call server reported the current offer's INVITE
	// over (Released) while the router still had it ringing: the agent's
	// phone need not be held when the offer ends (phone.go).
	phoneDone bool
}

// New compiles cfg and returns an engine with no agent logged in.
func New(cfg Config, deps Deps) (*Engine, error) {
	c, errs := compile(&cfg)
	if len(errs) > 0 {
		return nil, ConfigError(errs)
	}
	e := &Engine{
		log: deps.Log, now: deps.Now, rnd: deps.Rand, events: deps.Events,
		targets: map[string]*target{}, queues: map[QueueName]*queueState{},
		agents: map[AgentID]*agent{}, calls: map[CallID]*call{},
		ahtSec: 180, // a typical handle time until calls teach us better
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if deps.Notify != nil {
		e.Subscribe(deps.Notify)
	}
	if e.rnd == nil {
		e.rnd = rand.IntN
	}
	e.install(c)
	return e, nil
}

// Run ticks the engine's timers (ring-no-answer, wrap-up, precision-queue
// steps, script waits) until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e.Tick()
		}
	}
}

// lock and unlock bracket every public method; unlock delivers notices.
func (e *Engine) lock() { e.mu.Lock() }

func (e *Engine) unlock() {
	if len(e.pending) == 0 && len(e.pendingEv) == 0 {
		e.mu.Unlock()
		return
	}
	out, evs := e.pending, e.pendingEv
	e.pending, e.pendingEv = nil, nil
	e.notifyMu.Lock()
	e.mu.Unlock()
	// Events first: a notice may start work (an offer rung) whose own
	// events must follow the decision that caused it.
	e.flushEvents(evs)
	for _, n := range out {
		e.subs.deliver(n)
	}
	e.notifyMu.Unlock()
}

func (e *Engine) nowNS() int64 { return e.now().UnixNano() }

func (e *Engine) noteCall(c *call, in Instruction) {
	e.pending = append(e.pending, Notice{Kind: NoticeCall, Call: c.id, Instruction: in, Time: e.now()})
}

// ---- configuration ----

// Reload swaps in a new configuration without dropping a call: calls in a
// script finish on the version they started with, queued calls keep their
// place in queues that still exist, agents are re-indexed to their new
// skills. A call whose every queue was removed is released (a notice says
// so); an agent removed while on a call logs out when the call ends.
func (e *Engine) Reload(cfg Config) error {
	c, errs := compile(&cfg)
	if len(errs) > 0 {
		return ConfigError(errs)
	}
	e.lock()
	defer e.unlock()
	e.install(c)
	return nil
}

// install makes c current; e.mu is held (or e is not yet shared).
func (e *Engine) install(c *compiled) {
	e.cfg = c
	e.ring.Store(int64(c.cfg.RingNoAnswer))
	keep := map[string]bool{}
	for _, name := range c.queueList {
		d := c.queues[name]
		qs := e.queues[name]
		if qs == nil {
			qs = &queueState{}
			e.queues[name] = qs
		}
		qs.def = d
		qs.steps = qs.steps[:0]
		for _, sd := range d.steps {
			t := e.targets[sd.key]
			if t == nil {
				t = &target{key: sd.key, members: map[*agent]struct{}{}}
				e.targets[sd.key] = t
			}
			t.queue = qs
			qs.steps = append(qs.steps, t)
			keep[sd.key] = true
		}
	}
	// Calls waiting on targets that are gone leave them; a call left with
	// no queue at all is released rather than kept waiting for nobody.
	for key, t := range e.targets {
		if keep[key] {
			continue
		}
		for len(t.calls) > 0 {
			qe := t.calls[0]
			c := qe.c
			t.calls.remove(0)
			c.entries = removeSwap(c.entries, qe)
			if len(c.entries) == 0 {
				e.dequeue(c)
				c.phase = inScript
				e.log.Info("router: call released: its queues were removed", "call", string(c.id))
				e.noteCall(c, e.release(c, 480, "queue removed"))
			}
		}
		for len(t.ready) > 0 {
			ae := t.ready[0]
			t.ready.remove(0)
			ae.a.entries = removeSwap(ae.a.entries, ae)
		}
		delete(e.targets, key)
	}
	for name, qs := range e.queues {
		if _, ok := c.queues[name]; !ok {
			delete(e.queues, name)
			for _, cl := range e.calls {
				cl.queues = removeQueue(cl.queues, qs)
			}
		}
	}
	for _, a := range e.agents {
		for _, t := range a.targets {
			delete(t.members, a)
		}
		e.leaveReady(a)
		d := c.agents[a.id]
		if d == nil {
			a.retired = true
			a.targets = nil
			switch a.state {
			case Reserved:
				e.noAnswer(a.call, false)
				e.logout(a)
			case NotReady, Ready, WorkReady, WorkNotReady:
				e.logout(a)
			}
			continue
		}
		a.def = d
		e.joinTargets(a)
	}
	// New memberships may match ready agents with waiting calls.
	for _, a := range e.agents {
		if a.state == Ready {
			e.agentReady(a, false)
		}
	}
}

// removeSwap removes x from s by moving the last element into its place:
// the order of an entity's heap entries does not matter, and this keeps the
// removal O(1) after the search.
func removeSwap[T comparable](s []T, x T) []T {
	var zero T
	for i, v := range s {
		if v == x {
			s[i] = s[len(s)-1]
			s[len(s)-1] = zero
			return s[:len(s)-1]
		}
	}
	return s
}

func removeQueue(s []*queueState, x *queueState) []*queueState {
	for i, v := range s {
		if v == x {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

func (e *Engine) joinTargets(a *agent) {
	a.targets = a.targets[:0]
	for _, key := range a.def.targets {
		if t := e.targets[key]; t != nil {
			a.targets = append(a.targets, t)
			t.members[a] = struct{}{}
		}
	}
}

// ---- agent state ----

// transition moves an agent through the state table; every change of
// a.state happens here.
func (e *Engine) transition(a *agent, to State, reason int, who cause) error {
	if !legal(a.state, to, who) {
		return fmt.Errorf("router: agent %s: %s → %s: %w", a.id, a.state, to, ErrIllegalState)
	}
	if a.state == Ready && to != Ready {
		e.leaveReady(a)
	}
	if (a.state == WorkReady || a.state == WorkNotReady) && to != WorkReady && to != WorkNotReady {
		e.emitWrapUp(a, to, reason)
	}
	if e.events != nil {
		e.emit(nil, event.Event{Kind: event.AgentState, Agent: event.AgentID(a.id), State: to.String(), ReasonCode: reason})
	}
	a.state, a.reason, a.since = to, reason, e.nowNS()
	a.gen++
	e.pending = append(e.pending, Notice{Kind: NoticeAgent, Agent: a.id, State: to, Reason: reason, Time: e.now()})
	return nil
}

func (e *Engine) leaveReady(a *agent) {
	for _, ae := range a.entries {
		ae.t.ready.remove(ae.idx)
	}
	clear(a.entries)
	a.entries = a.entries[:0]
}

// agentReady is the selection when an agent becomes (or stays) ready: the
// best call across all the agent's targets, by priority then age; with no
// call, the agent joins the ready set of each target, longest available
// first. fresh says the agent has just become ready (its ready time
// restarts).
func (e *Engine) agentReady(a *agent, fresh bool) {
	if fresh {
		a.readySince = e.nowNS()
	}
	e.leaveReady(a)
	if a.phoneHeld != "" {
		// Ready, but its phone is still busy with an offer that ended:
		// selected once the phone is released (phone.go).
		return
	}
	var best *call
	for _, t := range a.targets {
		if len(t.calls) > 0 {
			if c := t.calls[0].c; best == nil || callBefore(c, best) {
				best = c
			}
		}
	}
	if best != nil {
		e.noteCall(best, e.offer(best, a))
		return
	}
	for _, t := range a.targets {
		ae := &aentry{a: a, t: t}
		t.ready.push(ae)
		a.entries = append(a.entries, ae)
	}
}

// Login logs an agent in (not ready). The extension given is where its calls
// ring; empty means the configured one.
func (e *Engine) Login(id AgentID, password, extension string) error {
	e.lock()
	defer e.unlock()
	d, err := e.checkPasswordLocked(id, password)
	if err != nil {
		return err
	}
	if extension == "" {
		extension = d.cfg.Extension
	}
	if extension == "" {
		return fmt.Errorf("router: login %s: no extension given and none configured", id)
	}
	for _, o := range e.agents {
		if o.ext == extension && o.id != id {
			return fmt.Errorf("router: login %s: extension %s is in use by agent %s", id, extension, o.id)
		}
	}
	a := e.agents[id]
	if a == nil {
		e.seq++
		a = &agent{id: id, seq: e.seq, state: LoggedOut}
	}
	if err := e.transition(a, NotReady, 0, byAgent); err != nil {
		return err
	}
	a.def, a.ext, a.retired = d, extension, false
	e.agents[id] = a
	e.joinTargets(a)
	return nil
}

// SetState is an agent's (or a supervisor's) state request: ready, not ready
// with a reason, logged out, or the end of wrap-up (to ready or not ready,
// with a wrap-up reason). A not-ready request while on a call is kept and
// honoured when the call ends. An illegal request changes nothing.
func (e *Engine) SetState(id AgentID, to State, reason int) error {
	e.lock()
	defer e.unlock()
	a := e.agents[id]
	if a == nil {
		return fmt.Errorf("router: agent %s: %w (not logged in)", id, ErrUnknownAgent)
	}
	if reason != 0 {
		want := ReasonNotReady
		switch {
		case to == LoggedOut:
			want = ReasonLogout
		case a.state == WorkReady || a.state == WorkNotReady:
			if to == Ready {
				want = ReasonWrapUp
			}
		}
		if rc, ok := e.cfg.reasons[reason]; !ok || rc.Kind != want {
			return fmt.Errorf("router: agent %s: reason %d for %s: %w (want a %s code)", id, reason, to, ErrBadReason, want)
		}
	}
	if to == NotReady && (a.state == Reserved || a.state == Talking || a.state == Hold) {
		a.wantNotReady, a.pendReason = true, reason
		return nil
	}
	if to == LoggedOut {
		if !legal(a.state, LoggedOut, byAgent) {
			return fmt.Errorf("router: agent %s: %s → %s: %w (go not ready first)", id, a.state, to, ErrIllegalState)
		}
		e.logoutReason(a, reason)
		return nil
	}
	if err := e.transition(a, to, reason, byAgent); err != nil {
		return err
	}
	a.wantNotReady = false
	if to == Ready {
		e.agentReady(a, true)
	}
	return nil
}

func (e *Engine) logout(a *agent) { e.logoutReason(a, 0) }

func (e *Engine) logoutReason(a *agent, reason int) {
	_ = e.transition(a, LoggedOut, reason, bySystem|byAgent)
	for _, t := range a.targets {
		delete(t.members, a)
	}
	a.targets = nil
	delete(e.agents, a.id)
}

// Agent returns a snapshot of an agent; a logged-out agent is reported as
// such.
func (e *Engine) Agent(id AgentID) (AgentStatus, error) {
	e.lock()
	defer e.unlock()
	d := e.cfg.agents[id]
	a := e.agents[id]
	if d == nil && a == nil {
		return AgentStatus{}, fmt.Errorf("router: agent %s: %w", id, ErrUnknownAgent)
	}
	if a == nil {
		return AgentStatus{ID: id, Name: d.cfg.Name, Extension: d.cfg.Extension, State: LoggedOut}, nil
	}
	st := AgentStatus{ID: id, Name: a.def.cfg.Name, Extension: a.ext, State: a.state, Reason: a.reason, Since: a.since, ReadySince: a.readySince}
	if c := a.call; c != nil {
		st.Call = c.id
		switch {
		case c.agent == a && c.consult != nil:
			st.Consult = c.consult.id
		case c.consult == a && c.agent != nil:
			st.ConsultOf = c.agent.id
		}
	}
	seen := map[QueueName]bool{}
	for _, t := range a.targets {
		if n := t.queue.def.name; !seen[n] {
			seen[n] = true
			st.Queues = append(st.Queues, n)
		}
	}
	return st, nil
}

// ---- calls ----

// Route is the new-call route request: dialed number → call type → script,
// run until it yields an instruction. Its signature matches the call
// server's Router interface once the adapter converts the types.
func (e *Engine) Route(_ context.Context, req RouteRequest) (Instruction, error) {
	e.lock()
	defer e.unlock()
	if req.Call == "" {
		return Instruction{}, fmt.Errorf("router: route: empty call id")
	}
	if _, dup := e.calls[req.Call]; dup {
		return Instruction{}, fmt.Errorf("router: route %s: call already routed", req.Call)
	}
	ct := e.cfg.numbers[req.DNIS]
	if ct == nil {
		if e.events != nil {
			e.emit(nil, event.Event{Kind: event.RouteRequest, Call: event.CallID(req.Call), Code: 404, Reason: "no call type for the dialed number",
				Data: &event.Data{ANI: req.ANI, DNIS: req.DNIS, SIPCallID: req.SIPCallID}})
		}
		return Instruction{Kind: Release, RejectCode: 404, RejectReason: "Not Found"}, nil
	}
	e.seq++
	c := &call{id: req.Call, seq: e.seq, req: req, script: ct.script, pc: ct.script.start,
		queueNode: none, resumeErr: none, started: e.nowNS(),
		data: CallData{ANI: req.ANI, DNIS: req.DNIS, CallType: ct.name}}
	e.calls[c.id] = c
	if e.events != nil {
		e.emit(c, event.Event{Kind: event.RouteRequest, Script: ct.script.name,
			Data: &event.Data{ANI: req.ANI, DNIS: req.DNIS, SIPCallID: req.SIPCallID}})
	}
	return e.run(c), nil
}

// Continue reports the result of a run_vru_script instruction (what the
// caller entered, as named values) and returns the next instruction;
// failed takes the node's error exit.
func (e *Engine) Continue(id CallID, result map[string]string, failed bool) (Instruction, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return Instruction{}, fmt.Errorf("router: continue %s: %w", id, ErrUnknownCall)
	}
	if c.phase == offered || c.phase == connected {
		return Instruction{Kind: Queued, Data: c.snapshot()}, nil
	}
	if c.treating && c.phase == queued {
		return e.treat(c), nil // another round
	}
	c.result = result
	e.emitIVRResult(c, result, failed)
	if failed && c.resumeErr != none {
		c.pc = c.resumeErr
	}
	c.resumeErr = none
	return e.run(c), nil
}

// Requery reports that the labels of a Connect failed. For a call offered
// to an agent it is ring-no-answer; otherwise the script leaves the label
// node through the matching exit, or the call is released if it has none.
func (e *Engine) Requery(id CallID, why RequeryReason) (Instruction, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return Instruction{}, fmt.Errorf("router: requery %s: %w", id, ErrUnknownCall)
	}
	if c.phase == offered {
		return e.noAnswer(c, true), nil
	}
	if c.phase != inScript || c.pc == none || c.script.nodes[c.pc].kind != nLabel {
		return Instruction{}, fmt.Errorf("router: requery %s: %w (not at a label)", id, ErrCallState)
	}
	n := &c.script.nodes[c.pc]
	next := n.error
	switch why {
	case RequeryNoAnswer:
		next = n.noAnswer
	case RequeryBusy:
		next = n.busy
	}
	if next == none {
		return e.release(c, 480, "requery without exit"), nil
	}
	c.pc = next
	return e.run(c), nil
}

// NoAnswer is ring-no-answer for an offered call: the agent goes not ready
// (reason 32767) and the call is queued again at the front of its queues.
// The returned instruction (an offer to another agent, or the script's
// next step) is also what Tick does when ring_no_answer passes.
func (e *Engine) NoAnswer(id CallID) (Instruction, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return Instruction{}, fmt.Errorf("router: no answer %s: %w", id, ErrUnknownCall)
	}
	if c.phase != offered {
		return Instruction{}, fmt.Errorf("router: no answer %s: %w (not offered)", id, ErrCallState)
	}
	return e.noAnswer(c, true), nil
}

func (e *Engine) noAnswer(c *call, notReady bool) Instruction {
	a := c.agent
	a.call, c.agent = nil, nil
	e.emitAgent(c, a, event.AgentRONA, c.offerQ, "ring no answer")
	// The phone may still ring with the call (the router's own timer, or
	// a reload): it takes no new call until the call server releases it.
	e.holdPhone(a, c)
	if notReady {
		_ = e.transition(a, NotReady, RONAReason, bySystem)
	}
	e.log.Info("router: ring no answer; call requeued", "call", string(c.id), "agent", string(a.id))
	c.phase = inScript
	if len(c.queues) == 0 {
		// Its queues were removed by a reload while it rang.
		return e.release(c, 480, "queue removed")
	}
	if in, ok := e.enqueue(c, c.queues, c.priority); ok {
		return in
	}
	if c.treating {
		return e.treat(c)
	}
	if c.queueNode != none && c.script.nodes[c.queueNode].noAnswer != none {
		c.pc = c.script.nodes[c.queueNode].noAnswer
		return e.run(c)
	}
	return Instruction{Kind: Queued, Data: c.snapshot()}
}

// RingNoAnswer is how long an offer rings before the router takes the
// agent back (ring_no_answer in force).
func (e *Engine) RingNoAnswer() time.Duration {
	e.lock()
	defer e.unlock()
	return e.cfg.cfg.RingNoAnswer.D()
}

// Answered says the agent's phone answered an offered call: the agent is
// talking.
func (e *Engine) Answered(id CallID) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: answered %s: %w", id, ErrUnknownCall)
	}
	if c.phase != offered {
		return fmt.Errorf("router: answered %s: %w (not offered)", id, ErrCallState)
	}
	if err := e.transition(c.agent, Talking, 0, bySystem); err != nil {
		return err
	}
	e.emitAgent(c, c.agent, event.AgentAnswered, c.offerQ, "")
	c.phase = connected
	c.gen++
	c.started = e.nowNS()
	// A callback reached its caller: it is done. A hang-up in a queue
	// later (the call transferred to one) is an abandon, not another
	// request to be called back.
	c.callerGone, c.callback = false, ""
	c.treating = false
	return nil
}

// Hold and Retrieve follow the agent's call on and off hold.
func (e *Engine) Hold(id CallID) error     { return e.holdState(id, Talking, Hold) }
func (e *Engine) Retrieve(id CallID) error { return e.holdState(id, Hold, Talking) }

func (e *Engine) holdState(id CallID, from, to State) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: %s %s: %w", to, id, ErrUnknownCall)
	}
	if c.phase != connected || c.agent == nil || c.agent.state != from {
		return fmt.Errorf("router: %s %s: %w", to, id, ErrCallState)
	}
	k := event.AgentHold
	if to == Talking {
		k = event.AgentRetrieve
	}
	e.emitAgent(c, c.agent, k, c.offerQ, "")
	return e.transition(c.agent, to, 0, bySystem)
}

// End says the call is over, whoever hung up: a queued call leaves every
// queue at once (abandon); an offered call frees its agent, who stays
// ready; a connected call sends its agent to wrap-up.
func (e *Engine) End(id CallID) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: end %s: %w", id, ErrUnknownCall)
	}
	if e.awaitCallback(c) {
		return nil
	}
	e.end(c)
	return nil
}

func (e *Engine) end(c *call) {
	e.releaseConsult(c, "call ended")
	e.dequeueFor(c, "abandoned")
	c.gen++
	delete(e.calls, c.id)
	e.emitCallData(c)
	a := c.agent
	if a == nil {
		return
	}
	a.call, c.agent = nil, nil
	switch c.phase {
	case offered:
		e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "caller hung up while ringing")
		if a.retired {
			e.logout(a)
			return
		}
		// The caller is gone, but the agent's phone still rings until
		// the call server's CANCEL reaches it: the agent is ready at
		// once, and offered the next call once the phone is free.
		e.holdPhone(a, c)
		_ = e.transition(a, Ready, 0, bySystem)
		e.agentReady(a, false) // it keeps its place: it never took a call
	case connected:
		secs := float64(e.nowNS()-c.started) / 1e9
		e.ahtSec += (secs - e.ahtSec) / 16
		e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "hung up")
		a.lastCall = c.id
		e.afterCall(a)
	}
}

// afterCall sends an agent whose call ended to wrap-up or straight on.
func (e *Engine) afterCall(a *agent) {
	if a.retired || e.cfg.cfg.WrapUp <= 0 {
		e.emitWrapUp(a, Ready, 0) // no wrap-up time: it ends as it starts
	}
	switch {
	case a.retired:
		e.logout(a)
	case e.cfg.cfg.WrapUp > 0:
		to := WorkReady
		if a.wantNotReady {
			to = WorkNotReady
		}
		_ = e.transition(a, to, 0, bySystem)
		e.timers.push(timer{at: e.nowNS() + int64(e.cfg.cfg.WrapUp), kind: timerWrapUp, a: a, gen: a.gen})
	case a.wantNotReady:
		_ = e.transition(a, NotReady, a.pendReason, bySystem)
		a.wantNotReady = false
	default:
		_ = e.transition(a, Ready, 0, bySystem)
		e.agentReady(a, true)
	}
}

// Transfer is a blind transfer of a connected call to a queue: the agent
// goes to wrap-up and the call is queued again (as new, at the back of its
// priority) to the queue; the instruction is an offer or Queued.
func (e *Engine) Transfer(id CallID, q QueueName, priority int) (Instruction, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return Instruction{}, fmt.Errorf("router: transfer %s: %w", id, ErrUnknownCall)
	}
	qs := e.queues[q]
	if qs == nil {
		return Instruction{}, fmt.Errorf("router: transfer %s to %s: %w", id, q, ErrUnknownQueue)
	}
	if c.phase != connected || c.agent == nil {
		// An agent's call, connected: one detached (sent to a number)
		// has no agent to transfer it.
		return Instruction{}, fmt.Errorf("router: transfer %s: %w (no agent connected)", id, ErrCallState)
	}
	if priority == 0 {
		priority = defaultPrio
	}
	// A consult in progress ends with the agent's part, as in Detach.
	e.releaseConsult(c, "transferred")
	a := c.agent
	a.call, c.agent = nil, nil
	e.emit(c, event.Event{Kind: event.AgentTransfer, Agent: event.AgentID(a.id), Queue: c.offerQ, Target: string(q)})
	e.emitAgent(c, a, event.AgentCallEnd, c.offerQ, "transferred")
	a.lastCall = c.id
	c.phase, c.queuedAt, c.pqStep = inScript, 0, nil
	e.afterCall(a)
	if in, ok := e.enqueue(c, []*queueState{qs}, priority); ok {
		return in, nil
	}
	return e.treat(c), nil
}

// SetCallData sets a call variable (pv1..pv10) or an ECC variable
// (user.x or user.x[i]) within UCCE's limits.
func (e *Engine) SetCallData(id CallID, name, value string) error {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return fmt.Errorf("router: set %s on %s: %w", name, id, ErrUnknownCall)
	}
	return e.setVar(c, name, value)
}

func (e *Engine) setVar(c *call, name, value string) error {
	if i, ok := callVarIndex(name); ok {
		if len(value) > MaxCallVar {
			return fmt.Errorf("router: call %s: %s: %d bytes, more than %d: %w", c.id, name, len(value), MaxCallVar, ErrCallData)
		}
		c.data.PV[i] = value
		return nil
	}
	base, idx, isArr := strings.Cut(name, "[")
	v, ok := e.cfg.ecc[base]
	if !ok {
		return fmt.Errorf("router: call %s: %s: undeclared ECC variable: %w", c.id, name, ErrCallData)
	}
	if isArr != (v.ArraySize > 0) {
		return fmt.Errorf("router: call %s: %s: %s is %s: %w", c.id, name, base, map[bool]string{true: "an array (use [i])", false: "not an array"}[v.ArraySize > 0], ErrCallData)
	}
	if isArr {
		var i int
		if _, err := fmt.Sscanf(idx, "%d]", &i); err != nil || i < 0 || i >= v.ArraySize {
			return fmt.Errorf("router: call %s: %s: index out of range 0–%d: %w", c.id, name, v.ArraySize-1, ErrCallData)
		}
	}
	if len(value) > v.MaxLength {
		return fmt.Errorf("router: call %s: %s: %d bytes, more than its max_length %d: %w", c.id, name, len(value), v.MaxLength, ErrCallData)
	}
	if c.data.ECC == nil {
		c.data.ECC = map[string]string{}
	}
	c.data.ECC[name] = value
	return nil
}

func (c *call) snapshot() CallData {
	d := c.data
	if d.ECC != nil {
		d.ECC = make(map[string]string, len(c.data.ECC))
		for k, v := range c.data.ECC {
			d.ECC[k] = v
		}
	}
	return d
}

// ---- queueing and selection ----

// enqueue queues c to qs with priority (keeping its first queue time) and
// makes the queue decision: the longest-available agent among all ready
// agents of its targets. It reports whether the call was offered at once.
func (e *Engine) enqueue(c *call, qs []*queueState, priority int) (Instruction, bool) {
	e.dequeueFor(c, "requeued")
	c.priority = priority
	if c.queuedAt == 0 {
		c.queuedAt = e.nowNS()
	}
	c.queues = append(c.queues[:0:0], qs...)
	c.phase = queued
	c.gen++
	for _, q := range c.queues {
		q.waiting++
		if e.events != nil {
			e.emit(c, event.Event{Kind: event.QueueEnter, Queue: string(q.def.name), Code: priority})
		}
		if !q.def.pq {
			e.addTarget(c, q.steps[0])
			continue
		}
		if c.pqStep == nil {
			c.pqStep = map[*queueState]int{}
		}
		step, ok := c.pqStep[q]
		if !ok {
			step = e.firstStep(c, q, 0)
			c.pqStep[q] = step
		}
		for i := 0; i <= step && i < len(q.steps); i++ {
			if i == step || e.considered(c, q, i) {
				e.addTarget(c, q.steps[i])
			}
		}
		e.scheduleStep(c, q, step)
	}
	if a := e.bestAgent(c); a != nil {
		return e.offer(c, a), true
	}
	return Instruction{}, false
}

// firstStep returns the first step from i whose consider-if holds (the last
// step is always considered, so a call never falls off the queue).
func (e *Engine) firstStep(c *call, q *queueState, i int) int {
	for ; i < len(q.steps)-1; i++ {
		if e.considered(c, q, i) {
			return i
		}
	}
	return len(q.steps) - 1
}

func (e *Engine) considered(c *call, q *queueState, i int) bool {
	prog := q.def.steps[i].considerIf
	if prog == nil {
		return true
	}
	ok, err := expr.Run(prog, c.env())
	if err != nil {
		e.log.Warn("router: consider-if failed; step skipped", "call", string(c.id), "queue", string(q.def.name), "step", i+1, "err", err)
		return false
	}
	return ok == true
}

func (e *Engine) scheduleStep(c *call, q *queueState, step int) {
	if step < len(q.steps)-1 {
		e.timers.push(timer{at: c.queuedAt + int64(q.def.steps[step].waitUntil(q.def, step)), kind: timerStep, c: c, gen: c.gen})
	}
}

// waitUntil is the time from first queueing to the end of step i: steps
// widen on the call's age, so a requeued call does not start over.
func (s stepDef) waitUntil(d *queueDef, i int) time.Duration {
	var sum time.Duration
	for j := 0; j <= i; j++ {
		sum += d.steps[j].wait
	}
	return sum
}

func (e *Engine) addTarget(c *call, t *target) {
	qe := &qentry{c: c, t: t}
	t.calls.push(qe)
	c.entries = append(c.entries, qe)
}

// dequeue takes c out of every queue at once.
func (e *Engine) dequeue(c *call) { e.dequeueFor(c, "released") }

// dequeueFor is dequeue saying why, for the queue.leave events.
func (e *Engine) dequeueFor(c *call, why string) {
	if c.phase != queued {
		return
	}
	if e.events != nil {
		for _, q := range c.queues {
			e.emit(c, event.Event{Kind: event.QueueLeave, Queue: string(q.def.name), Reason: why})
		}
	}
	for _, qe := range c.entries {
		qe.t.calls.remove(qe.idx)
	}
	clear(c.entries)
	c.entries = c.entries[:0]
	for _, q := range c.queues {
		q.waiting--
	}
	c.phase = inScript
	c.gen++
}

// bestAgent is the longest-available ready agent among c's targets.
func (e *Engine) bestAgent(c *call) *agent {
	var best *agent
	for _, qe := range c.entries {
		if len(qe.t.ready) > 0 {
			if a := qe.t.ready[0].a; best == nil || agentBefore(a, best) {
				best = a
			}
		}
	}
	return best
}

// offer is the one atomic reservation: c leaves all its queues, a leaves all
// its ready sets and becomes reserved for c, and the ring-no-answer clock
// starts.
func (e *Engine) offer(c *call, a *agent) Instruction {
	c.offerQ = offerQueue(c, a)
	e.dequeueFor(c, "offered")
	if err := e.transition(a, Reserved, 0, bySystem); err != nil {
		panic(fmt.Sprintf("router: offer to agent in %s: %v", a.state, err)) // selection only picks ready agents
	}
	a.call, c.agent = c, a
	c.phase = offered
	c.phoneDone = false
	c.gen++
	e.timers.push(timer{at: e.nowNS() + int64(e.cfg.cfg.RingNoAnswer), kind: timerRONA, c: c, gen: c.gen})
	e.log.Debug("router: call offered", "call", string(c.id), "agent", string(a.id))
	e.agentCall(c, a, event.AgentOffer)
	if e.events != nil {
		e.emit(c, event.Event{Kind: event.AgentOffer, Agent: event.AgentID(a.id), Queue: c.offerQ, Target: a.ext})
	}
	in := Instruction{Kind: Connect, Labels: []string{a.ext}, Agent: a.id, Data: c.snapshot()}
	if c.callerGone {
		in.Callback = c.callback
	}
	return in
}

// Tick acts on every timer that is due: ring-no-answer, wrap-up end,
// precision-queue step widening, script waits.
func (e *Engine) Tick() {
	e.lock()
	defer e.unlock()
	now := e.nowNS()
	for len(e.timers) > 0 && e.timers[0].at <= now {
		t := e.timers.pop()
		switch t.kind {
		case timerRONA:
			if t.c.gen == t.gen && t.c.phase == offered {
				in := e.noAnswer(t.c, true)
				e.noteCall(t.c, in)
			}
		case timerWrapUp:
			a := t.a
			if a.gen != t.gen {
				break
			}
			if a.state == WorkReady {
				_ = e.transition(a, Ready, 0, bySystem)
				e.agentReady(a, true)
			} else if a.state == WorkNotReady {
				_ = e.transition(a, NotReady, a.pendReason, bySystem)
				a.wantNotReady = false
			}
		case timerStep:
			if t.c.gen == t.gen && t.c.phase == queued {
				e.widen(t.c, now)
			}
		case timerWait:
			if t.c.gen == t.gen && (t.c.phase == inScript || t.c.phase == queued) {
				e.noteCall(t.c, e.run(t.c))
			}
		case timerCallback:
			if t.c.gen == t.gen && t.c.callerGone && t.c.phase == inScript {
				e.retryCallback(t.c)
			}
		case timerPhone:
			if a := t.a; a.phoneGen == t.gen && a.phoneHeld != "" {
				e.log.Info("router: agent's phone not released in time; taken as free", "agent", string(a.id), "call", string(a.phoneHeld), "after", PhoneRelease)
				e.freePhone(a)
			}
		}
	}
}

// widen moves c to every precision-queue step its age has reached and
// offers it if an agent of a new step is ready.
func (e *Engine) widen(c *call, now int64) {
	changed := false
	for q, step := range c.pqStep {
		for step < len(q.steps)-1 && c.queuedAt+int64(q.def.steps[step].waitUntil(q.def, step)) <= now {
			step = e.firstStep(c, q, step+1)
			e.addTarget(c, q.steps[step])
			changed = true
		}
		c.pqStep[q] = step
	}
	if !changed {
		return
	}
	c.gen++ // one timer per call is live: the next step's
	for q, step := range c.pqStep {
		e.scheduleStep(c, q, step)
	}
	if a := e.bestAgent(c); a != nil {
		e.noteCall(c, e.offer(c, a))
	}
}

// ---- scripts ----

func (c *call) env() map[string]any {
	env := map[string]any{
		"ani": c.data.ANI, "dnis": c.data.DNIS, "call_type": c.data.CallType,
		"ecc": c.data.ECC, "headers": c.req.Headers, "result": c.result,
	}
	if c.data.ECC == nil {
		env["ecc"] = map[string]string{}
	}
	if c.req.Headers == nil {
		env["headers"] = map[string]string{}
	}
	if c.result == nil {
		env["result"] = map[string]string{}
	}
	for i, v := range c.data.PV {
		env[callVarNames[i]] = v
	}
	return env
}

var callVarNames = [NumCallVars]string{"pv1", "pv2", "pv3", "pv4", "pv5", "pv6", "pv7", "pv8", "pv9", "pv10"}

func (e *Engine) release(c *call, code int, reason string) Instruction {
	e.dequeue(c)
	c.gen++
	delete(e.calls, c.id)
	e.emitCallData(c)
	return Instruction{Kind: Release, RejectCode: code, RejectReason: reason, Data: c.snapshot()}
}

// run interprets c's script from c.pc until a node yields an instruction,
// and records the decision.
func (e *Engine) run(c *call) Instruction {
	in := e.runScript(c)
	e.emitDecision(c, in)
	return in
}

// runScript walks c's script from c.pc, each node doing what its kind's
// op says (node_<type>.go), until one yields an instruction; a script that
// visits maxScriptRun nodes without yielding is a loop and releases the
// call.
func (e *Engine) runScript(c *call) Instruction {
	s := c.script
	for steps := 0; steps < maxScriptRun; steps++ {
		if c.pc == none {
			return e.release(c, 480, "script has no next node")
		}
		n := &s.nodes[c.pc]
		if e.events != nil {
			c.path = append(c.path, n.id)
		}
		if in, yield := n.op.run(e, c, n); yield {
			return in
		}
	}
	e.scriptLog(c).Error("router: script loops without yielding; call released", "node", s.nodes[c.pc].id)
	return e.release(c, 500, "script loop")
}

// scriptLog is the logger for what happens in c's script; it is made only
// when there is something to say, off the hot path.
func (e *Engine) scriptLog(c *call) *slog.Logger {
	return e.log.With("call", string(c.id), "script", c.script.name)
}

// where says in words where a call that is not queued is, for errors.
func (c *call) where() string {
	switch {
	case c.phase == offered && c.agent != nil:
		return "offered to agent " + string(c.agent.id)
	case c.phase == connected && c.agent != nil:
		return "connected to agent " + string(c.agent.id)
	case c.phase == connected:
		return "connected, no agent"
	case c.callerGone:
		return "waiting for a courtesy callback"
	}
	return "in its script"
}

func containsQueue(s []*queueState, q *queueState) bool {
	for _, v := range s {
		if v == q {
			return true
		}
	}
	return false
}

// ---- figures ----

// Stats returns a queue's live figures.
func (e *Engine) Stats(name QueueName) (QueueStats, error) {
	e.lock()
	defer e.unlock()
	q := e.queues[name]
	if q == nil {
		return QueueStats{}, fmt.Errorf("router: stats %s: %w", name, ErrUnknownQueue)
	}
	st := QueueStats{Name: name, Waiting: q.waiting}
	var oldest int64
	seen := map[*agent]bool{}
	for _, t := range q.steps {
		for _, qe := range t.calls {
			if oldest == 0 || qe.c.queuedAt < oldest {
				oldest = qe.c.queuedAt
			}
		}
		for a := range t.members {
			if !seen[a] {
				seen[a] = true
				st.Agents[a.state]++
			}
		}
	}
	if oldest != 0 {
		st.Oldest = time.Unix(0, oldest)
	}
	st.ExpectedWait = e.expectedWait(q, q.waiting+1)
	return st, nil
}

// expectedWait estimates the wait of the call at position pos: calls ahead
// share the agents who are or will soon be free, each taking a handle time.
func (e *Engine) expectedWait(q *queueState, pos int) time.Duration {
	working := 0
	seen := map[*agent]bool{}
	for _, t := range q.steps {
		for a := range t.members {
			if !seen[a] && a.state != NotReady {
				seen[a] = true
				working++
			}
		}
	}
	if working == 0 {
		working = 1
	}
	return time.Duration(float64(pos) * e.ahtSec / float64(working) * float64(time.Second))
}

// Positions returns where a queued call stands in each of its queues. A
// call that is not waiting in a queue (offered to an agent, talking, in
// its script or at the VRU before queueing) has no position: the error
// wraps ErrCallState and says where the call is, rather than a position
// kept from queues it has left.
func (e *Engine) Positions(id CallID) ([]Position, error) {
	e.lock()
	defer e.unlock()
	c := e.calls[id]
	if c == nil {
		return nil, fmt.Errorf("router: position %s: %w", id, ErrUnknownCall)
	}
	if c.phase != queued {
		return nil, fmt.Errorf("router: position %s: %w (not in queue: %s)", id, ErrCallState, c.where())
	}
	var out []Position
	for _, q := range c.queues {
		ahead := map[*call]bool{}
		for _, qe := range c.entries {
			if qe.t.queue != q {
				continue
			}
			for _, o := range qe.t.calls {
				if callBefore(o.c, c) {
					ahead[o.c] = true
				}
			}
		}
		pos := len(ahead) + 1
		out = append(out, Position{Queue: q.def.name, Position: pos, ExpectedWait: e.expectedWait(q, pos)})
	}
	return out, nil
}
