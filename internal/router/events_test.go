package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// kinds lists the kinds of evs as "kind[agent/queue]" for one call.
func kinds(evs []event.Event) string {
	var b []string
	for _, e := range evs {
		s := string(e.Kind)
		if e.Agent != "" || e.Queue != "" {
			s += "[" + string(e.Agent) + "/" + e.Queue + "]"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestEventsOfAnsweredRONAAndTransfer(t *testing.T) {
	rec := &event.Recorder{}
	clk := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	e, err := New(mustConfig(t, baseYAML), Deps{Now: clk.now, Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []AgentID{"a1", "a2"} {
		must(t, e.Login(id, "p", ""))
	}
	// c1 queues (no one ready), a1 gets it, RONA, a2 gets it, answers,
	// holds, retrieves, transfers to support, nobody ready, abandons.
	if _, err := e.Route(context.Background(), RouteRequest{Call: "c1", DNIS: "1000", ANI: "555", SIPCallID: "sip-1"}); err != nil {
		t.Fatal(err)
	}
	must(t, e.SetState("a1", Ready, 0))
	clk.add(11 * time.Second)
	e.Tick() // RONA: a1 not ready, call requeued
	must(t, e.SetState("a2", Ready, 0))
	must(t, e.Answered("c1"))
	must(t, e.Hold("c1"))
	must(t, e.Retrieve("c1"))
	if _, err := e.Transfer("c1", "support", 0); err != nil {
		t.Fatal(err)
	}
	must(t, e.End("c1"))
	must(t, e.SetState("a2", Ready, 3)) // end of wrap-up with reason Sale

	got := kinds(rec.ForCall("c1"))
	want := "route.request queue.enter[/sales] route.decision " +
		"queue.leave[/sales] agent.offer[a1/sales] agent.rona[a1/sales] queue.enter[/sales] " +
		"queue.leave[/sales] agent.offer[a2/sales] agent.answered[a2/sales] agent.hold[a2/sales] agent.retrieve[a2/sales] " +
		"agent.transfer[a2/sales] agent.call_end[a2/sales] queue.enter[/support] " +
		"queue.leave[/support] call.data agent.wrapup[a2/]"
	if got != want {
		t.Errorf("events of c1:\n got %s\nwant %s", got, want)
	}
	for _, ev := range rec.ForCall("c1") {
		switch ev.Kind {
		case event.RouteRequest:
			if ev.CallType != "sales" || ev.Script != "sales" || ev.Data == nil || ev.Data.SIPCallID != "sip-1" || ev.Data.ANI != "555" {
				t.Errorf("route.request %+v", ev)
			}
		case event.RouteDecision:
			if ev.Node != "s>vip>q>music" || ev.Reason != "run_script" || ev.Target != "PM,holdmusic" {
				t.Errorf("route.decision %+v", ev)
			}
		case event.AgentWrapUp:
			if ev.ReasonCode != 3 {
				t.Errorf("wrap-up reason %d, want 3", ev.ReasonCode)
			}
		}
	}
	var states []string
	for _, ev := range rec.ForCall("") {
		if ev.Agent == "a1" {
			states = append(states, ev.State)
		}
	}
	if s := strings.Join(states, ","); s != "not_ready,ready,reserved,not_ready" {
		t.Errorf("a1 states %s", s)
	}
}
