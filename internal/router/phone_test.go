package router

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAbandonWhileRingingHoldsThePhone is issue #11's false RONA at the
// router: the caller of an offered call hangs up while the agent's phone
// rings, and a second call waits. The agent stays ready (no RONA) but is
// offered the second call only once the call server says the phone let go
// of the first INVITE, or PhoneRelease after the abandon.
func TestAbandonWhileRingingHoldsThePhone(t *testing.T) {
	for _, tc := range []struct {
		name string
		// release is what frees the phone: the call server's report, or
		// the bound passing.
		release func(h *harness)
	}{
		{"released by the call server", func(h *harness) { h.Released("first", "a1") }},
		{"released by the bound", func(h *harness) { h.clk.add(PhoneRelease); h.Tick() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, baseYAML)
			h.ready(t, "a1")
			if in := route(t, h, "first", "1000", "555"); in.Agent != "a1" {
				t.Fatalf("first: %+v, want an offer to a1", in)
			}
			if in := route(t, h, "second", "1000", "555"); in.Kind != RunScript {
				t.Fatalf("second: %+v, want it queued (treatment)", in)
			}
			h.notices = nil
			if err := h.End("first"); err != nil { // the caller abandons while a1's phone rings
				t.Fatal(err)
			}
			st, _ := h.Agent("a1")
			if st.State != Ready || st.Call != "" {
				t.Fatalf("a1 after the abandon: %+v, want ready with no call", st)
			}
			if got := h.offers(); len(got) != 0 {
				t.Fatalf("offers %v while a1's phone still holds the cancelled INVITE", got)
			}
			if !h.PhoneBusy("a1") {
				t.Fatal("a1's phone not held busy after the abandon")
			}
			// Not yet: a report about another call, or time short of the
			// bound, frees nothing.
			h.Released("other", "a1")
			h.clk.add(PhoneRelease - time.Millisecond)
			h.Tick()
			if got := h.offers(); len(got) != 0 {
				t.Fatalf("offers %v before the phone was released", got)
			}
			tc.release(h)
			if got := h.offers(); got["second"] != "a1" {
				t.Fatalf("offers %v after the release, want second → a1", got)
			}
			if h.PhoneBusy("a1") {
				t.Fatal("a1's phone still held")
			}
			// A late release of the first offer changes nothing.
			h.Released("first", "a1")
			if st, _ := h.Agent("a1"); st.State != Reserved || st.Call != "second" {
				t.Fatalf("a1: %+v, want reserved for second", st)
			}
		})
	}
}

// TestReleasedBeforeEndHoldsNothing: the call server saw the phone's final
// response before it reported the abandon (the usual order for a caller
// still in setup), so the agent is offered the next call at once.
func TestReleasedBeforeEndHoldsNothing(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	route(t, h, "first", "1000", "555")
	route(t, h, "second", "1000", "555")
	h.notices = nil
	h.Released("first", "a1")
	if err := h.End("first"); err != nil {
		t.Fatal(err)
	}
	if got := h.offers(); got["second"] != "a1" {
		t.Fatalf("offers %v, want second → a1 at once", got)
	}
}

// TestPhoneHeldAcrossStates: an agent whose phone is held can go not ready
// and ready again; it is still not selected (nor consulted) until the phone
// is released, and it keeps its place among ready agents.
func TestPhoneHeldAcrossStates(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1", "a2")
	route(t, h, "first", "1000", "555") // a1, the longest available
	if err := h.End("first"); err != nil {
		t.Fatal(err)
	}
	if err := h.SetState("a1", NotReady, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.SetState("a1", Ready, 0); err != nil {
		t.Fatal(err)
	}
	// a2 is the only selectable agent.
	if in := route(t, h, "second", "1000", "555"); in.Agent != "a2" {
		t.Fatalf("second: %+v, want a2 (a1's phone is held)", in)
	}
	if err := h.Answered("second"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Consult("second", ConsultTarget{Agent: "a1"}); !errors.Is(err, ErrNoAgent) || !strings.Contains(err.Error(), "releasing") {
		t.Fatalf("consult to a1 with its phone held: %v, want ErrNoAgent", err)
	}
	h.Released("first", "a1")
	if in := route(t, h, "third", "1000", "555"); in.Agent != "a1" {
		t.Fatalf("third: %+v, want a1 once its phone is released", in)
	}
}

// TestRouterRONAHoldsThePhone: when the router's own ring-no-answer timer
// takes the call back, the phone may still ring; the agent, made ready
// again at once, is not offered a call until the phone is released.
func TestRouterRONAHoldsThePhone(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1", "a2")
	route(t, h, "first", "1000", "555")
	h.clk.add(11 * time.Second)
	h.Tick() // RONA: a1 not ready, first offered to a2
	if got := h.offers(); got["first"] != "a2" {
		t.Fatalf("offers %v, want first → a2 after a1's RONA", got)
	}
	if err := h.SetState("a1", Ready, 0); err != nil {
		t.Fatal(err)
	}
	if in := route(t, h, "second", "1000", "555"); in.Agent != "" {
		t.Fatalf("second: %+v, want it queued while a1's phone still rings", in)
	}
	h.Released("first", "a1")
	if got := h.offers(); got["second"] != "a1" {
		t.Fatalf("offers %v, want second → a1", got)
	}
}

// TestPositionsOnlyInQueue is issue #11's "position 1 for a call already
// talking to an agent": a call not waiting in a queue has no position.
func TestPositionsOnlyInQueue(t *testing.T) {
	h := newHarness(t, baseYAML)
	route(t, h, "c1", "1000", "555")
	if pos, err := h.Positions("c1"); err != nil || len(pos) != 1 || pos[0].Position != 1 {
		t.Fatalf("queued c1: %+v %v, want position 1", pos, err)
	}
	h.ready(t, "a1")
	for _, step := range []struct {
		do    func() error
		where string
	}{
		{func() error { return nil }, "offered to agent a1"},
		{func() error { return h.Answered("c1") }, "connected to agent a1"},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		pos, err := h.Positions("c1")
		if !errors.Is(err, ErrCallState) || !strings.Contains(err.Error(), step.where) || pos != nil {
			t.Fatalf("c1 %s: %+v %v, want ErrCallState saying %q", step.where, pos, err, step.where)
		}
	}
	if err := h.End("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Positions("c1"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("ended c1: %v, want ErrUnknownCall", err)
	}
}
