package router

import (
	"errors"
	"testing"
)

// consulted routes a call to a1, answers it, and has a1 consult to.
func consulted(t *testing.T, to ConsultTarget) (*harness, Instruction) {
	t.Helper()
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	if in := route(t, h, "c1", "1000", "555"); in.Agent != "a1" {
		t.Fatalf("offer %+v, want a1", in)
	}
	if err := h.Answered("c1"); err != nil {
		t.Fatal(err)
	}
	h.ready(t, "a2", "a3")
	in, err := h.Consult("c1", to)
	if err != nil {
		t.Fatal(err)
	}
	return h, in
}

func state(t *testing.T, h *harness, id AgentID) AgentStatus {
	t.Helper()
	st, err := h.Agent(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConsultTransferCompleted(t *testing.T) {
	h, in := consulted(t, ConsultTarget{Queue: "support"})
	// a2 became ready before a3: longest available of support.
	if in.Kind != Connect || in.Agent != "a2" || in.Labels[0] != "102" {
		t.Fatalf("consult %+v, want a2 at 102", in)
	}
	if st := state(t, h, "a2"); st.State != Reserved || st.Call != "c1" || st.ConsultOf != "a1" {
		t.Fatalf("a2 %+v, want reserved for c1, a1's consult", st)
	}
	if st := state(t, h, "a1"); st.Consult != "a2" {
		t.Fatalf("a1 %+v, want consulting a2", st)
	}
	// Reserved for the consult, a2 gets no other call.
	if in := route(t, h, "c2", "1000", "555"); in.Kind == Connect {
		t.Fatalf("c2 %+v: offered while a2 is reserved and a1 talking", in)
	}
	if err := h.ConsultAnswered("c1"); err != nil {
		t.Fatal(err)
	}
	if err := h.ConsultEnd("c1", true); err != nil {
		t.Fatal(err)
	}
	if st := state(t, h, "a1"); st.State != WorkReady {
		t.Fatalf("a1 after the transfer: %s, want work_ready", st.State)
	}
	if st := state(t, h, "a2"); st.State != Talking || st.Call != "c1" {
		t.Fatalf("a2 after the transfer: %+v, want talking on c1", st)
	}
	if err := h.End("c1"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, h, "a2"); st.State != WorkReady {
		t.Fatalf("a2 after the call: %s, want work_ready", st.State)
	}
}

func TestConsultCancelled(t *testing.T) {
	for _, answered := range []bool{false, true} {
		h, _ := consulted(t, ConsultTarget{Agent: "a3"})
		if answered {
			if err := h.ConsultAnswered("c1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.ConsultEnd("c1", false); err != nil {
			t.Fatal(err)
		}
		want := Ready // never answered: straight back
		if answered {
			want = WorkReady // talked: wraps up its part
		}
		if st := state(t, h, "a3"); st.State != want || st.Call != "" {
			t.Fatalf("answered=%v: a3 %+v, want %s", answered, st, want)
		}
		if st := state(t, h, "a1"); st.State != Talking || st.Call != "c1" {
			t.Fatalf("answered=%v: a1 %+v, want talking on c1", answered, st)
		}
	}
}

func TestConsultCallerHangsUp(t *testing.T) {
	h, _ := consulted(t, ConsultTarget{Agent: "a3"})
	if err := h.ConsultAnswered("c1"); err != nil {
		t.Fatal(err)
	}
	if err := h.End("c1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []AgentID{"a1", "a3"} {
		if st := state(t, h, id); st.State != WorkReady || st.Call != "" {
			t.Fatalf("%s %+v, want work_ready with no call", id, st)
		}
	}
}

func TestConsultRefused(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	route(t, h, "c1", "1000", "555")
	if _, err := h.Consult("c1", ConsultTarget{Agent: "a2"}); !errors.Is(err, ErrCallState) {
		t.Fatalf("consult before answer: %v, want ErrCallState", err)
	}
	if err := h.Answered("c1"); err != nil {
		t.Fatal(err)
	}
	if err := h.Login("a2", "p", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to   ConsultTarget
		want error
	}{
		{ConsultTarget{Agent: "a2"}, ErrNoAgent},      // not ready
		{ConsultTarget{Queue: "support"}, ErrNoAgent}, // nobody ready
		{ConsultTarget{Agent: "a1"}, ErrCallState},    // itself
		{ConsultTarget{Agent: "zz"}, ErrUnknownAgent},
		{ConsultTarget{Queue: "zz"}, ErrUnknownQueue},
		{ConsultTarget{}, ErrCallState},
	} {
		if _, err := h.Consult("c1", tc.to); !errors.Is(err, tc.want) {
			t.Errorf("consult to %+v: %v, want %v", tc.to, err, tc.want)
		}
	}
}

func TestDetachToNumber(t *testing.T) {
	h := newHarness(t, baseYAML)
	h.ready(t, "a1")
	route(t, h, "c1", "1000", "555")
	if err := h.Answered("c1"); err != nil {
		t.Fatal(err)
	}
	if err := h.Detach("c1", "5551234"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, h, "a1"); st.State != WorkReady || st.Call != "" {
		t.Fatalf("a1 %+v, want work_ready with no call", st)
	}
	if err := h.Hold("c1"); !errors.Is(err, ErrCallState) {
		t.Fatalf("hold with no agent: %v, want ErrCallState", err)
	}
	if err := h.End("c1"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, h, "a1"); st.State != WorkReady {
		t.Fatalf("a1 after the call ended: %s, want still work_ready", st.State)
	}
}
