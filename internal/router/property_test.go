package router

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

// propYAML is a small centre with every kind of queue: skill groups, a call
// queued to two groups, a precision queue with a consider-if, and a script
// that queues after an IVR step. propYAMLB is its reload: memberships move
// and the "extra" group disappears under queued calls.
const propYAML = `
ring_no_answer: 8s
wrap_up: 5s
dialed_numbers:
  - {number: "1", call_type: sales}
  - {number: "2", call_type: support}
  - {number: "3", call_type: es}
  - {number: "4", call_type: both}
  - {number: "5", call_type: ivr}
  - {number: "6", call_type: extra}
  - {number: "7", call_type: cb}
call_types:
  - {name: sales, script: sales}
  - {name: support, script: support}
  - {name: es, script: es}
  - {name: both, script: both}
  - {name: ivr, script: ivr}
  - {name: extra, script: extra}
  - {name: cb, script: cb}
skill_groups: [{name: sales}, {name: support}, {name: extra}]
attributes: [{name: es, type: proficiency}]
precision_queues:
  - name: pq
    steps:
      - {expr: "es >= 8", wait: 10s}
      - {expr: "es >= 4", wait: 10s, consider_if: "ani != '0'"}
      - {expr: "es >= 1"}
reason_codes: [{code: 1, label: Break, kind: not_ready}]
agents:
AGENTS
scripts:
  - name: sales
    nodes:
      - {id: s, type: start, next: p}
      - {id: p, type: if, expr: "ani startsWith '9'", "true": hi, "false": lo}
      - {id: hi, type: queue, skill_groups: [sales], priority: 1, next: t}
      - {id: lo, type: queue, skill_groups: [sales], priority: 5, next: t}
      - {id: t, type: wait, wait: 7s, next: t2}
      - {id: t2, type: wait, wait: 7s, next: t}
  - name: support
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [support], priority: 3, next: e}
      - {id: e, type: end}
  - name: es
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, precision_queue: pq, next: e}
      - {id: e, type: end}
  - name: both
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [sales, support], priority: 2, next: e}
      - {id: e, type: end}
  - name: ivr
    nodes:
      - {id: s, type: start, next: m}
      - {id: m, type: run_vru_script, vru_script: "M,menu", next: q}
      - {id: q, type: queue, skill_groups: [support], next: m2}
      - {id: m2, type: run_vru_script, vru_script: "PM,music", next: m2w}
      - {id: m2w, type: wait, wait: 3s, next: m2}
  - name: cb
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [sales], priority: 4, next: cb}
      - {id: cb, type: callback, next: rel}
      - {id: rel, type: release, code: 486}
  - name: extra
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [extra], next: e}
      - {id: e, type: end}
`

func propConfig(t testing.TB, variant int) Config {
	var b strings.Builder
	groups := [][]string{{"sales"}, {"support"}, {"sales", "support"}, {"extra"}, {"sales", "extra"}}
	for i := 0; i < 12; i++ {
		g := groups[(i+variant)%len(groups)]
		fmt.Fprintf(&b, "  - {id: a%d, extension: \"%d\", password: p, skill_groups: [%s], attributes: {es: %d}}\n",
			i, 100+i, strings.Join(g, ", "), 1+(i*3+variant)%10)
	}
	y := strings.Replace(propYAML, "AGENTS\n", b.String(), 1)
	if variant%2 == 1 {
		// The reload: the extra group goes, agents move, a step narrows.
		y = strings.Replace(y, "skill_groups: [{name: sales}, {name: support}, {name: extra}]", "skill_groups: [{name: sales}, {name: support}]", 1)
		y = strings.ReplaceAll(y, ", extra]", "]")
		y = strings.ReplaceAll(y, "[extra]", "[sales]")
		y = strings.Replace(y, `"es >= 4"`, `"es >= 6"`, 1)
		y = strings.Replace(y, `- {number: "6", call_type: extra}`, "", 1)
		y = strings.Replace(y, "  - {name: extra, script: extra}\n", "", 1)
		y = y[:strings.Index(y, "  - name: extra\n")]
	}
	return mustConfig(t, y)
}

// TestProperty drives the engine with random steps and checks the
// invariants after each. Beside calls, queues and agents it walks the
// state the router owns for the call server and the desktops: consults (to
// an agent, a queue's agent, a number; answered, completed, cancelled),
// transfers a phone asks for, agents detached from calls that go on,
// courtesy callbacks (the caller released, offered to an agent, not
// answered and retried, given up), and the desktops' view of which agent
// has which call, built from the agent call notices alone. ROUTER_PROPERTY_STEPS and ROUTER_PROPERTY_SEED
// change the run; a failure prints the seed and step to replay it.
func TestProperty(t *testing.T) {
	steps := 100_000
	if raceEnabled {
		steps = 25_000
	}
	if s := os.Getenv("ROUTER_PROPERTY_STEPS"); s != "" {
		steps, _ = strconv.Atoi(s)
	}
	seed := uint64(20260302)
	if s := os.Getenv("ROUTER_PROPERTY_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	clk := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	live := map[CallID]bool{}
	// desk is every desktop's call as the agent call notices tell it.
	desk := map[AgentID]CallID{}
	// cbFailed counts each callback call's unanswered callbacks.
	cbFailed := map[CallID]int{}
	var notices []Notice
	e, err := New(propConfig(t, 0), Deps{Now: clk.now, Rand: func(n int) int { return rng.IntN(n) },
		Notify: func(n Notice) { notices = append(notices, n) }})
	if err != nil {
		t.Fatal(err)
	}
	variant := 0
	nextCall := 0
	stats := map[string]int{}
	// drop forgets calls the router released on its own or in an answer.
	// A courtesy callback's release is the caller hung up on as planned:
	// the call server reports the end, and the call waits in queue.
	drop := func(id CallID, in Instruction) {
		if in.Kind == Release {
			if in.RejectReason == "courtesy callback" {
				ok := e.End(id)
				if ok != nil {
					t.Fatalf("seed %d: end of a callback's caller: %v", seed, ok)
				}
				stats["callback_requested"]++
				return
			}
			delete(live, id)
		}
	}
	pickWhere := func(f func(c *call) bool) (CallID, bool) {
		var ids []CallID
		for id, c := range e.calls {
			if f(c) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return "", false
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		return ids[rng.IntN(len(ids))], true
	}
	pickCall := func(ph ...phase) (CallID, bool) {
		var ids []CallID
		for id, c := range e.calls {
			for _, p := range ph {
				if c.phase == p {
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			return "", false
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		return ids[rng.IntN(len(ids))], true
	}
	ok := func(err error, allowed ...error) {
		if err == nil {
			return
		}
		for _, a := range allowed {
			if errors.Is(err, a) {
				return
			}
		}
		t.Fatalf("seed %d: unexpected error: %v", seed, err)
	}
	ctx := context.Background()
	for step := 0; step < steps; step++ {
		op := rng.IntN(100)
		agentID := AgentID(fmt.Sprintf("a%d", rng.IntN(12)))
		switch {
		case op < 18: // arrival
			// One stretch in five takes no new calls, so queues drain and
			// agents sit ready (consult targets, REFERs to a ready phone).
			if len(live) > 60 || (step/2000)%5 == 4 {
				break
			}
			nextCall++
			id := CallID(fmt.Sprintf("c%06d", nextCall))
			ani := strconv.Itoa(rng.IntN(10))
			dnis := strconv.Itoa(1 + rng.IntN(7))
			if dnis == "7" {
				ani = "555" + ani // a number to call back
			}
			in, err := e.Route(ctx, RouteRequest{Call: id, DNIS: dnis, ANI: ani})
			ok(err)
			live[id] = true
			drop(id, in)
			stats["arrive"]++
		case op < 24: // abandon while queued or in the IVR
			if id, found := pickCall(queued, inScript); found {
				ok(e.End(id))
				delete(live, id)
				stats["abandon"]++
			}
		case op < 32:
			ok(e.Login(agentID, "p", ""), ErrIllegalState, ErrUnknownAgent)
		case op < 44:
			ok(e.SetState(agentID, Ready, 0), ErrIllegalState, ErrUnknownAgent)
		case op < 48:
			ok(e.SetState(agentID, NotReady, 1), ErrIllegalState, ErrUnknownAgent)
		case op < 50:
			ok(e.SetState(agentID, LoggedOut, 0), ErrIllegalState, ErrUnknownAgent)
		case op < 62: // answer
			if id, found := pickCall(offered); found {
				ok(e.Answered(id))
				stats["answer"]++
			}
		case op < 65: // ring-no-answer reported by the call server
			if id, found := pickCall(offered); found {
				in, err := e.NoAnswer(id)
				ok(err)
				drop(id, in)
				stats["rona"]++
			}
		case op < 74: // hang-up
			if id, found := pickCall(connected); found {
				ok(e.End(id))
				delete(live, id)
				stats["hangup"]++
			}
		case op < 77: // blind transfer to a skill group
			if id, found := pickCall(connected); found {
				in, err := e.Transfer(id, [...]QueueName{"sales", "support", "pq"}[rng.IntN(3)], 1+rng.IntN(10))
				ok(err, ErrCallState) // a detached call has no agent to transfer it
				if err == nil {
					drop(id, in)
					stats["transfer"]++
				}
			}
		case op < 80:
			if id, found := pickCall(connected); found {
				ok(e.Hold(id), ErrCallState)
				ok(e.Retrieve(id), ErrCallState)
			}
		case op < 82: // an offer ends and the call server reports its phone released
			if id, found := pickCall(offered); found && rng.IntN(2) == 0 {
				ok(e.End(id))
				delete(live, id)
				stats["abandon_ringing"]++
			} else {
				var held []AgentID
				for aid, a := range e.agents {
					if a.phoneHeld != "" {
						held = append(held, aid)
					}
				}
				sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
				if len(held) > 0 {
					aid := held[rng.IntN(len(held))]
					e.Released(e.agents[aid].phoneHeld, aid)
					stats["phone_released"]++
				} else if found {
					// Reported while the router still has it ringing.
					e.Released(id, e.calls[id].agent.id)
				}
			}
		case op < 84: // the IVR reports back (a callback's caller is not there)
			if id, found := pickWhere(func(c *call) bool { return (c.phase == inScript || c.phase == queued) && !c.callerGone }); found {
				in, err := e.Continue(id, map[string]string{"choice": "1"}, false)
				ok(err)
				drop(id, in)
			}
		case op < 86: // a consult from a connected call's agent
			if id, found := pickWhere(func(c *call) bool { return c.phase == connected && c.agent != nil }); found {
				var to ConsultTarget
				switch rng.IntN(3) {
				case 0: // a ready agent if there is one
					to.Agent = agentID
					var ready []AgentID
					for aid, a := range e.agents {
						if a.state == Ready {
							ready = append(ready, aid)
						}
					}
					sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
					if len(ready) > 0 {
						to.Agent = ready[rng.IntN(len(ready))]
					}
				case 1:
					to.Queue = [...]QueueName{"sales", "support", "pq"}[rng.IntN(3)]
				default:
					to.Number = "5550100"
				}
				in, err := e.Consult(id, to)
				ok(err, ErrCallState, ErrNoAgent, ErrUnknownAgent)
				if err == nil {
					stats["consult"]++
					if in.Agent != "" {
						stats["consult_agent"]++
						if rng.IntN(2) == 0 { // the target picks up at once
							ok(e.ConsultAnswered(id))
							stats["consult_answered"]++
						}
					}
				}
			}
		case op < 88: // the consult target answers
			if id, found := pickWhere(func(c *call) bool { return c.consult != nil }); found {
				if err := e.ConsultAnswered(id); err == nil {
					stats["consult_answered"]++
				} else {
					ok(err, ErrCallState)
				}
			}
		case op < 90: // the consult ends: completed or cancelled
			if id, found := pickWhere(func(c *call) bool { return c.consult != nil || c.consultLabel != "" }); found {
				ok(e.ConsultEnded(id, rng.IntN(2) == 0))
				stats["consult_ended"]++
			}
		case op < 91: // a REFER from the agent's phone
			if id, found := pickWhere(func(c *call) bool { return c.phase == connected }); found {
				target := "5550200"
				if rng.IntN(2) == 0 {
					target = strconv.Itoa(100 + rng.IntN(12)) // an agent's extension
				}
				_, err := e.TransferTo(id, target, rng.IntN(4) == 0)
				ok(err, ErrNoAgent)
				stats["refer"]++
			}
		case op < 92: // blind transfer to a number: the call goes on without the agent
			if id, found := pickWhere(func(c *call) bool { return c.phase == connected }); found {
				ok(e.Detach(id, "5550300"), ErrCallState)
				stats["detach"]++
			}
		case op < 93: // a callback's caller does not answer
			if id, found := pickWhere(func(c *call) bool { return c.phase == offered && c.callerGone }); found {
				ok(e.CallbackFailed(id, "no answer"))
				if cbFailed[id]++; cbFailed[id] >= CallbackTries {
					delete(live, id) // given up
					delete(cbFailed, id)
				}
				stats["callback_failed"]++
			}
		case op < 99:
			clk.add(time.Duration(rng.IntN(4000)) * time.Millisecond)
			e.Tick()
		default:
			variant++
			ok(e.Reload(propConfig(t, variant)))
			stats["reload"]++
		}
		for i := 0; i < len(notices); i++ { // drop may add notices
			n := notices[i]
			switch n.Kind {
			case NoticeCall:
				drop(n.Call, n.Instruction)
				if n.Instruction.Agent != "" {
					stats["offer"]++
				}
				if n.Instruction.Callback != "" {
					stats["callback_offer"]++
				}
			case NoticeAgentCall:
				if err := deskNotice(desk, n); err != nil {
					t.Fatalf("seed %d step %d (op %d): %v", seed, step, op, err)
				}
			}
		}
		notices = notices[:0]
		for id := range cbFailed {
			if !live[id] {
				delete(cbFailed, id)
			}
		}
		if err := checkInvariants(e, live); err != nil {
			t.Fatalf("seed %d step %d (op %d): %v", seed, step, op, err)
		}
		if err := checkDesks(e, desk); err != nil {
			t.Fatalf("seed %d step %d (op %d): %v", seed, step, op, err)
		}
	}
	t.Logf("seed %d, %d steps: %v", seed, steps, stats)
	for _, k := range []string{"offer", "rona", "transfer", "reload", "abandon_ringing", "phone_released",
		"consult", "consult_agent", "consult_answered", "consult_ended", "refer", "detach", "callback_requested", "callback_offer", "callback_failed"} {
		if stats[k] == 0 {
			t.Fatalf("the walk missed whole kinds of step (%s): %v", k, stats)
		}
	}
}

// deskNotice applies an agent call notice to the desktops' view: an offer
// pops the call on the agent's desktop, an end clears it, and every other
// event must be about the call the desktop shows.
func deskNotice(desk map[AgentID]CallID, n Notice) error {
	switch n.CallEvent {
	case contract.Offered:
		if cur := desk[n.Agent]; cur != "" {
			return fmt.Errorf("agent %s offered %s while its desktop shows %s", n.Agent, n.Call, cur)
		}
		desk[n.Agent] = n.Call
	case contract.Ended:
		if desk[n.Agent] != n.Call {
			return fmt.Errorf("agent %s: %s ended while its desktop shows %q", n.Agent, n.Call, desk[n.Agent])
		}
		delete(desk, n.Agent)
	default:
		if desk[n.Agent] != n.Call {
			return fmt.Errorf("agent %s: %s %s while its desktop shows %q", n.Agent, n.Call, n.CallEvent, desk[n.Agent])
		}
	}
	return nil
}

// checkDesks: the desktops, told only by notices, show exactly the
// router's agent↔call map: the router is the one source of agent call
// events, and misses none.
func checkDesks(e *Engine, desk map[AgentID]CallID) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, a := range e.agents {
		var want CallID
		if a.call != nil {
			want = a.call.id
		}
		if desk[id] != want {
			return fmt.Errorf("agent %s (%s) has call %q, its desktop shows %q", id, a.state, want, desk[id])
		}
	}
	for id, c := range desk {
		if e.agents[id] == nil {
			return fmt.Errorf("agent %s is gone, its desktop still shows %s", id, c)
		}
	}
	return nil
}

// checkInvariants verifies the engine's state after any step.
func checkInvariants(e *Engine, live map[CallID]bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	// No call lost: the router knows exactly the calls the model thinks
	// are alive, and each is somewhere definite.
	if len(e.calls) != len(live) {
		for id, c := range e.calls {
			if !live[id] {
				return fmt.Errorf("router holds %d calls, %d are alive: %s is not (phase %d, callback %q, gone %v, tries %d)", len(e.calls), len(live), id, c.phase, c.callback, c.callerGone, c.cbTries)
			}
		}
		return fmt.Errorf("router holds %d calls, %d are alive", len(e.calls), len(live))
	}
	entries := 0
	for id, c := range e.calls {
		if !live[id] {
			return fmt.Errorf("call %s held but not alive", id)
		}
		switch c.phase {
		case queued:
			if len(c.entries) == 0 {
				return fmt.Errorf("call %s queued nowhere", id)
			}
			if c.agent != nil {
				return fmt.Errorf("queued call %s holds agent %s", id, c.agent.id)
			}
			for _, qe := range c.entries {
				if qe.idx < 0 || qe.idx >= len(qe.t.calls) || qe.t.calls[qe.idx] != qe {
					return fmt.Errorf("call %s: broken index in %s", id, qe.t.key)
				}
			}
			entries += len(c.entries)
		case connected:
			if c.agent == nil { // detached: the call goes on without an agent
				if c.consult != nil || c.consultLabel != "" {
					return fmt.Errorf("call %s without an agent keeps a consult", id)
				}
				break
			}
			fallthrough
		case offered:
			if c.agent == nil || c.agent.call != c {
				return fmt.Errorf("call %s %d: agent link broken", id, c.phase)
			}
			if len(c.entries) != 0 {
				return fmt.Errorf("offered call %s still queued", id)
			}
			want := Reserved
			if c.phase == connected && c.agent.state != Hold {
				want = Talking
			}
			if c.phase == offered && c.agent.state != Reserved || c.phase == connected && c.agent.state != want {
				return fmt.Errorf("call %s phase %d with agent %s in %s", id, c.phase, c.agent.id, c.agent.state)
			}
		case inScript:
			if len(c.entries) != 0 || c.agent != nil {
				return fmt.Errorf("call in script %s queued or with agent", id)
			}
		}
		// A consult belongs to a connected call's agent: a target agent
		// reserved or talking for this call, or a dialed number, not both.
		if b := c.consult; b != nil {
			if c.phase != connected || c.agent == nil || b == c.agent || b.call != c {
				return fmt.Errorf("call %s: consult of %s broken (phase %d)", id, b.id, c.phase)
			}
			if b.state != Reserved && b.state != Talking {
				return fmt.Errorf("call %s: consult target %s in %s", id, b.id, b.state)
			}
			if c.consultLabel != "" {
				return fmt.Errorf("call %s consults agent %s and number %s", id, b.id, c.consultLabel)
			}
		}
		if c.consultLabel != "" && (c.phase != connected || c.agent == nil) {
			return fmt.Errorf("call %s keeps a consult to %s with no agent talking", id, c.consultLabel)
		}
		// A courtesy callback whose caller is gone waits in queue, for its
		// retry, or rings its agent; never more tries than allowed.
		if c.callerGone {
			if c.callback == "" || c.phase == connected {
				return fmt.Errorf("call %s: caller gone without a callback in phase %d", id, c.phase)
			}
		}
		if c.cbTries >= CallbackTries {
			return fmt.Errorf("call %s still held after %d callback tries", id, c.cbTries)
		}
	}
	// No agent reserved without a call, none holding two: each agent's call
	// points back at it, and calls are offered to one agent at a time.
	holder, consulted := map[*call]*agent{}, map[*call]*agent{}
	for id, a := range e.agents {
		if a.state == LoggedOut {
			return fmt.Errorf("agent %s logged out but held", id)
		}
		switch a.state {
		case Reserved, Talking, Hold:
			if a.call == nil || a.call.agent != a && a.call.consult != a {
				return fmt.Errorf("agent %s %s without its call", id, a.state)
			}
			m := holder
			if a.call.consult == a {
				m = consulted
			}
			if other := m[a.call]; other != nil {
				return fmt.Errorf("call %s offered to %s and %s", a.call.id, other.id, id)
			}
			m[a.call] = a
		default:
			if a.call != nil {
				return fmt.Errorf("agent %s %s holds call %s", id, a.state, a.call.id)
			}
		}
		// A ready agent is in every one of its ready sets, unless its
		// phone is held busy by an offer that ended (then in none).
		if a.state == Ready && a.phoneHeld == "" && len(a.entries) != len(a.targets) {
			return fmt.Errorf("ready agent %s in %d of its %d ready sets", id, len(a.entries), len(a.targets))
		}
		if a.phoneHeld != "" && len(a.entries) != 0 {
			return fmt.Errorf("agent %s selectable while its phone is held by %s", id, a.phoneHeld)
		}
		if a.phoneHeld != "" && a.call != nil {
			return fmt.Errorf("agent %s holds call %s while its phone is held by %s", id, a.call.id, a.phoneHeld)
		}
		if a.state != Ready && len(a.entries) != 0 {
			return fmt.Errorf("agent %s %s still in ready sets", id, a.state)
		}
	}
	// Queue order = priority then age: the heap property on every target,
	// and no call waits where a qualified agent is ready.
	inHeaps := 0
	for key, t := range e.targets {
		inHeaps += len(t.calls)
		for i, qe := range t.calls {
			if qe.idx != i || qe.t != t || qe.c.phase != queued {
				return fmt.Errorf("target %s: bad entry at %d", key, i)
			}
			if i > 0 && callBefore(qe.c, t.calls[(i-1)/2].c) {
				return fmt.Errorf("target %s: call %s ahead of its parent %s", key, qe.c.id, t.calls[(i-1)/2].c.id)
			}
		}
		for i, ae := range t.ready {
			if ae.idx != i || ae.a.state != Ready {
				return fmt.Errorf("target %s: bad ready entry %d (%s)", key, i, ae.a.state)
			}
			if i > 0 && agentBefore(ae.a, t.ready[(i-1)/2].a) {
				return fmt.Errorf("target %s: ready agents out of order", key)
			}
		}
		if len(t.calls) > 0 && len(t.ready) > 0 {
			return fmt.Errorf("target %s: call %s waits while agent %s is ready", key, t.calls[0].c.id, t.ready[0].a.id)
		}
	}
	if inHeaps != entries {
		return fmt.Errorf("%d heap entries, calls account for %d", inHeaps, entries)
	}
	waiting := map[*queueState]int{}
	for _, c := range e.calls {
		if c.phase == queued {
			for _, q := range c.queues {
				waiting[q]++
			}
		}
	}
	for name, q := range e.queues {
		if n := waiting[q]; n != q.waiting {
			return fmt.Errorf("queue %s counts %d waiting, holds %d", name, q.waiting, n)
		}
	}
	return nil
}
