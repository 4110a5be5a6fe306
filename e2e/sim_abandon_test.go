package e2e

import (
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/sim"
)

// TestSimAbandonWhileRingingIsNoRONA is issue #11's false RONA as `tandem
// sim` found it: callers whose patience runs out while the one agent's
// phone rings for them. Each such abandon leaves the agent ready, offered
// the next caller once its phone has answered the CANCEL; never a
// ring-no-answer, and every caller is either handled or abandoned.
func TestSimAbandonWhileRingingIsNoRONA(t *testing.T) {
	n := startDemo(t)
	cfg := simConfig(t, n)
	cfg.Calls, cfg.Rate = 6, 2
	cfg.Digits = sim.DigitMix{{Digit: '1', Weight: 1}}
	cfg.MenuDelay = 500 * time.Millisecond
	cfg.Agents = []string{"1001"}
	// The phone rings 2.5 s and callers wait 3 s: most give up while it
	// rings for them or for the caller ahead.
	cfg.AnswerDelay = 2500 * time.Millisecond
	cfg.Patience = 3 * time.Second
	cfg.AgentTalk = sim.Range{Min: 300 * time.Millisecond, Max: 300 * time.Millisecond}
	cfg.CallerTalk = sim.Range{Min: 5 * time.Second, Max: 5 * time.Second}
	cfg.WrapUp = 200 * time.Millisecond
	sum := runSim(t, cfg)

	if sum.Offered != 6 || sum.Handled+sum.Abandoned != 6 || sum.Failed != 0 {
		t.Fatalf("offered %d handled %d abandoned %d failed %d interrupted %d; want each handled or abandoned",
			sum.Offered, sum.Handled, sum.Abandoned, sum.Failed, sum.Interrupted)
	}
	waitFor(t, 10*time.Second, "tandem to end every call", func() bool { return countKind(n.events.Events(), event.CallEnded) == sum.Offered })
	// The walk must have met the case: a call offered to the agent whose
	// caller hung up before it was moved to the agent.
	ringingAbandons := 0
	for _, e := range n.events.Events() {
		if e.Kind != event.CallNew {
			continue
		}
		evs := n.events.ForCall(e.Call)
		if countKind(evs, event.AgentOffer) > 0 && countKind(evs, event.CallMoved) == 0 {
			ringingAbandons++
		}
	}
	if ringingAbandons == 0 {
		t.Fatal("no caller hung up while the agent's phone rang: the test did not test anything")
	}
	a := sum.Agents[0]
	if a.RONA != 0 || countKind(n.events.Events(), event.AgentRONA) != 0 {
		t.Errorf("%d abandons while ringing gave %d ring-no-answers on the desktop, %d in tandem's events; want none",
			ringingAbandons, a.RONA, countKind(n.events.Events(), event.AgentRONA))
	}
	if a.Errors != 0 || a.WrapUps != len(a.CTIAnswered) || a.WrapUpsEnded != a.WrapUps {
		t.Errorf("agent %+v: want no refused request and one ended wrap-up per call answered", a)
	}
	t.Logf("%d calls offered to the agent ended while its phone rang; %d handled", ringingAbandons, sum.Handled)
}
