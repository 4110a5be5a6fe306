package router

import (
	"errors"
	"testing"
	"time"
)

const callbackYAML = `
ring_no_answer: 10s
wrap_up: 30s
dialed_numbers: [{number: "1000", call_type: sales}]
call_types: [{name: sales, script: sales}]
skill_groups: [{name: sales}]
agents:
  - {id: a1, extension: "101", password: p, skill_groups: [sales]}
scripts:
  - name: sales
    nodes:
      - {id: s, type: start, next: q}
      - {id: q, type: queue, skill_groups: [sales], next: cb}
      - {id: cb, type: callback, next: rel}
      - {id: rel, type: release, code: 486}
`

func TestCourtesyCallback(t *testing.T) {
	h := newHarness(t, callbackYAML)
	h.clk.add(time.Second)
	in := route(t, h, "early", "1000", "5550001") // queued first: ahead
	if in.Kind != Release || in.RejectReason != "courtesy callback" {
		t.Fatalf("callback node: %+v, want the caller released for a callback", in)
	}
	if err := h.End("early"); err != nil {
		t.Fatal(err)
	}
	h.clk.add(time.Second)
	route(t, h, "late", "1000", "5550002")
	if err := h.End("late"); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.Stats("sales"); st.Waiting != 2 {
		t.Fatalf("waiting %d, want both callbacks still queued", st.Waiting)
	}
	// The first caller keeps its place: a1 gets it, with the number.
	h.ready(t, "a1")
	n := lastCall(h)
	if n.Call != "early" || n.Instruction.Callback != "5550001" || n.Instruction.Agent != "a1" {
		t.Fatalf("offer %+v, want early's callback to a1", n)
	}
	// Not answered: a1 is ready again and gets the other callback; the
	// first is tried again a minute later.
	if err := h.CallbackFailed("early", "no answer"); err != nil {
		t.Fatal(err)
	}
	if n := lastCall(h); n.Call != "late" || n.Instruction.Callback != "5550002" {
		t.Fatalf("after the failed callback: %+v, want late's callback", n)
	}
	if err := h.Answered("late"); err != nil {
		t.Fatal(err)
	}
	if err := h.End("late"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, h, "a1"); st.State != WorkReady {
		t.Fatalf("a1 after the callback call: %s, want work_ready", st.State)
	}
	if err := h.SetState("a1", Ready, 0); err != nil {
		t.Fatal(err)
	}
	h.notices = nil
	h.clk.add(CallbackRetry)
	h.Tick()
	if n := lastCall(h); n.Call != "early" || n.Instruction.Agent != "a1" {
		t.Fatalf("retry: %+v, want early offered to a1 again", n)
	}
	// Given up after CallbackTries.
	for i := 1; i < CallbackTries; i++ {
		if err := h.CallbackFailed("early", "no answer"); err != nil {
			t.Fatal(err)
		}
		h.clk.add(CallbackRetry)
		h.Tick()
	}
	if _, err := h.Positions("early"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("after %d tries the callback is still there: %v", CallbackTries, err)
	}
	if st := state(t, h, "a1"); st.State != Ready {
		t.Fatalf("a1 at the end: %s, want ready", st.State)
	}
}

func TestCallbackWithoutNumber(t *testing.T) {
	h := newHarness(t, callbackYAML)
	in := route(t, h, "c1", "1000", "anonymous")
	if in.Kind != Release || in.RejectCode != 486 {
		t.Fatalf("%+v: want the script's next (release 486) when there is no number", in)
	}
}

// lastCall returns the last call notice and clears the notices.
func lastCall(h *harness) Notice {
	var last Notice
	for _, n := range h.notices {
		if n.Kind == NoticeCall {
			last = n
		}
	}
	h.notices = nil
	return last
}
