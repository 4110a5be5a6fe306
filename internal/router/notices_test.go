package router

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/event"
)

// agentCalls returns the agent call notices heard since the last call, as
// "agent event call" lines, and forgets every notice.
func (h *harness) agentCalls() []string {
	var out []string
	for _, n := range h.notices {
		if n.Kind == NoticeAgentCall {
			out = append(out, fmt.Sprintf("%s %s %s", n.Agent, n.CallEvent, n.Call))
		}
	}
	h.notices = nil
	return out
}

// TestAgentCallNotices: the router is the one source of an agent's call
// events; each step of a call makes exactly the events the desktops hear.
func TestAgentCallNotices(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	h.notices = nil
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"route offers a1", func() error {
			_, err := h.Route(context.Background(), RouteRequest{Call: "c1", DNIS: "1000", ANI: "555"})
			return err
		}, []string{"a1 offered c1"}},
		{"answered", func() error { return h.Answered("c1") }, []string{"a1 answered c1"}},
		{"hold", func() error { return h.Hold("c1") }, []string{"a1 held c1"}},
		{"retrieve", func() error { return h.Retrieve("c1") }, []string{"a1 retrieved c1"}},
		{"ready a2, a3", func() error { h.ready(t, "a2", "a3"); return nil }, nil},
		{"consult a3", func() error { _, err := h.Consult("c1", ConsultTarget{Agent: "a3"}); return err }, []string{"a3 offered c1"}},
		{"consult answered", func() error { return h.ConsultAnswered("c1") }, []string{"a3 answered c1"}},
		{"consult completed", func() error { return h.ConsultEnded("c1", true) }, []string{"a1 ended c1"}},
		{"caller hangs up", func() error { return h.End("c1") }, []string{"a3 ended c1"}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := h.agentCalls(); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: agent call notices %q, want %q", s.name, got, s.want)
		}
	}
}

// TestAgentCallNoticeOfferCarriesData: the desktop's screen pop comes with
// the offer, as a copy the engine no longer touches.
func TestAgentCallNoticeOfferCarriesData(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	h.notices = nil
	route(t, h, "c1", "1000", "555")
	var offer *Notice
	for i, n := range h.notices {
		if n.Kind == NoticeAgentCall && n.CallEvent == contract.Offered {
			offer = &h.notices[i]
		}
	}
	if offer == nil || offer.Instruction.Data.ANI != "555" || offer.Instruction.Data.DNIS != "1000" || offer.Instruction.Data.CallType == "" {
		t.Fatalf("offer notice %+v, want the call data (ANI 555, DNIS 1000, a call type)", offer)
	}
}

// TestRONAEndsTheAgentsCall: ring-no-answer ends the offer on the desktop
// it was popped on, and the next agent is offered.
func TestRONAEndsTheAgentsCall(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1", "a2")
	h.notices = nil
	if in := route(t, h, "c1", "1000", "555"); in.Agent != "a1" {
		t.Fatalf("offer %+v, want a1", in)
	}
	h.agentCalls()
	in, err := h.Requery("c1", RequeryNoAnswer)
	if err != nil {
		t.Fatal(err)
	}
	if in.Agent != "a2" {
		t.Fatalf("after RONA %+v, want an offer to a2", in)
	}
	if got, want := h.agentCalls(), []string{"a1 ended c1", "a2 offered c1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("notices %q, want %q", got, want)
	}
}

// TestConsultToNumber: a consult to a dialed number reserves nobody but is
// the router's to keep: completed, the agent leaves the call (wrap-up) and
// it goes on without one; cancelled, the agent has the caller back, off
// hold. No second consult starts meanwhile; a second report of the end
// changes nothing.
func TestConsultToNumber(t *testing.T) {
	for _, completed := range []bool{true, false} {
		t.Run(fmt.Sprint("completed=", completed), func(t *testing.T) {
			h := newHarness(t, baseYAML)
			h.ready(t, "a1")
			route(t, h, "c1", "1000", "555")
			must(t, h.Answered("c1"))
			must(t, h.Hold("c1"))
			in, err := h.Consult("c1", ConsultTarget{Number: "5551234"})
			if err != nil {
				t.Fatal(err)
			}
			if in.Kind != Connect || in.Agent != "" || !reflect.DeepEqual(in.Labels, []string{"5551234"}) {
				t.Fatalf("consult %+v, want a connect to 5551234 with no agent", in)
			}
			if target, number, ok := h.Consulting("c1"); !ok || target != "" || number != "5551234" {
				t.Fatalf("Consulting = %q %q %v, want the number", target, number, ok)
			}
			h.ready(t, "a2")
			if _, err := h.Consult("c1", ConsultTarget{Agent: "a2"}); !errors.Is(err, ErrCallState) {
				t.Fatalf("second consult: %v, want ErrCallState", err)
			}
			h.notices = nil
			must(t, h.ConsultEnded("c1", completed))
			st := state(t, h, "a1")
			switch {
			case completed && (st.State != WorkReady || st.Call != ""):
				t.Fatalf("a1 after completing %+v, want work_ready with no call", st)
			case !completed && (st.State != Talking || st.Call != "c1"):
				t.Fatalf("a1 after cancelling %+v, want talking on c1 (off hold)", st)
			}
			want := []string{"a1 ended c1"}
			if !completed {
				want = []string{"a1 retrieved c1"}
			}
			if got := h.agentCalls(); !reflect.DeepEqual(got, want) {
				t.Fatalf("notices %q, want %q", got, want)
			}
			if _, _, ok := h.Consulting("c1"); ok {
				t.Fatal("consult still kept after its end")
			}
			if err := h.ConsultEnded("c1", completed); !errors.Is(err, ErrCallState) {
				t.Fatalf("second end: %v, want ErrCallState", err)
			}
		})
	}
}

// TestTransferTo: a REFER's target in the router's terms.
func TestTransferTo(t *testing.T) {
	talking := func(t *testing.T) *harness {
		h := newHarness(t, baseYAML)
		h.ready(t, "a1")
		route(t, h, "c1", "1000", "555")
		must(t, h.Answered("c1"))
		return h
	}
	t.Run("to a ready agent's extension reserves it", func(t *testing.T) {
		h := talking(t)
		h.ready(t, "a2")
		in, err := h.TransferTo("c1", "102", false)
		if err != nil || in.Agent != "a2" {
			t.Fatalf("TransferTo = %+v, %v; want an offer to a2", in, err)
		}
		must(t, h.ConsultAnswered("c1"))
		must(t, h.ConsultEnded("c1", true))
		if st := state(t, h, "a2"); st.State != Talking || st.Call != "c1" {
			t.Fatalf("a2 %+v, want talking on c1", st)
		}
	})
	t.Run("to an agent who is not ready", func(t *testing.T) {
		h := talking(t)
		must(t, h.Login("a2", "p", ""))
		if _, err := h.TransferTo("c1", "102", false); !errors.Is(err, ErrNoAgent) {
			t.Fatalf("err %v, want ErrNoAgent", err)
		}
	})
	t.Run("to a number detaches the agent when done", func(t *testing.T) {
		h := talking(t)
		in, err := h.TransferTo("c1", "5551234", false)
		if err != nil || in.Agent != "" || in.Labels[0] != "5551234" {
			t.Fatalf("TransferTo = %+v, %v", in, err)
		}
		must(t, h.ConsultEnded("c1", true))
		if st := state(t, h, "a1"); st.State != WorkReady {
			t.Fatalf("a1 %s, want work_ready", st.State)
		}
	})
	t.Run("a call with no agent keeps nothing", func(t *testing.T) {
		h := newHarness(t, baseYAML)
		route(t, h, "c9", "1000", "555") // queued: nobody ready
		in, err := h.TransferTo("c9", "5551234", false)
		if err != nil || in.Labels[0] != "5551234" {
			t.Fatalf("TransferTo = %+v, %v", in, err)
		}
		if _, _, ok := h.Consulting("c9"); ok {
			t.Fatal("a transfer of a call without an agent was kept as a consult")
		}
	})
}

// TestSubscribeHearsInOrder: subscribers added at run time hear every
// later notice, in the order made, after Deps.Notify.
func TestSubscribeHearsInOrder(t *testing.T) {
	h := newHarness(t, baseYAML)
	var got []NoticeKind
	h.Subscribe(func(n Notice) { got = append(got, n.Kind) })
	h.ready(t, "a1")
	route(t, h, "c1", "1000", "555")
	var want []NoticeKind
	for _, n := range h.notices {
		want = append(want, n.Kind)
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("subscriber heard %v, Deps.Notify %v", got, want)
	}
}

// TestNoAgentCallNoticesForNobody: an engine nobody listens to builds no
// agent call notices (the benchmarks, the planner).
func TestNoAgentCallNoticesForNobody(t *testing.T) {
	e, err := New(mustConfig(t, baseYAML), Deps{Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	must(t, e.Login("a1", "p", ""))
	must(t, e.SetState("a1", Ready, 0))
	if _, err := e.Route(context.Background(), RouteRequest{Call: "c1", DNIS: "1000"}); err != nil {
		t.Fatal(err)
	}
	e.lock()
	before := len(e.pending)
	e.agentCall(e.calls["c1"], e.agents["a1"], event.AgentAnswered)
	after := len(e.pending)
	e.unlock()
	if after != before {
		t.Fatalf("an agent call notice was built with no subscriber (%d → %d pending)", before, after)
	}
	// With a subscriber it is.
	e.Subscribe(func(Notice) {})
	e.lock()
	e.agentCall(e.calls["c1"], e.agents["a1"], event.AgentAnswered)
	after = len(e.pending)
	e.unlock()
	if after != before+1 {
		t.Fatalf("no agent call notice built for a subscriber (%d → %d pending)", before, after)
	}
}
