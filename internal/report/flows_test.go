package report

import (
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// step is one event of a flow: its second, kind and fields.
type step struct {
	sec int
	k   event.Kind
	f   func(*event.Event)
}

// flow builds one call's events from its steps, in order.
func flow(call string, steps ...step) []event.Event {
	var out []event.Event
	for i, s := range steps {
		e := event.Event{Call: event.CallID(call), Time: at(s.sec), Kind: s.k, Seq: uint64(i + 1), CallType: "sales"}
		if s.f != nil {
			s.f(&e)
		}
		out = append(out, e)
	}
	return out
}

func agentF(a, queue, reason string) func(*event.Event) {
	return func(e *event.Event) { e.Agent, e.Queue, e.Reason = event.AgentID(a), queue, reason }
}

func xfer(a, target, reason string) func(*event.Event) {
	return func(e *event.Event) { e.Agent, e.Target, e.Reason = event.AgentID(a), target, reason }
}

func queueF(q, reason string) func(*event.Event) {
	return func(e *event.Event) { e.Queue, e.Reason = q, reason }
}

func outcomeF(o event.Outcome) func(*event.Event) { return func(e *event.Event) { e.Outcome = o } }

// answeredByA1 is the start every flow below shares: queued at 0,
// offered to a1 at 5, answered at 8.
func answeredByA1(more ...step) []step {
	return append([]step{{0, event.CallNew, nil}, {0, event.RouteRequest, nil}, {0, event.QueueEnter, queueF("sales", "")},
		{5, event.QueueLeave, queueF("sales", "offered")}, {5, event.AgentOffer, agentF("a1", "sales", "")},
		{8, event.AgentAnswered, agentF("a1", "sales", "")}}, more...)
}

// TestCallFlows derives the records of the call-control flows (consult
// transfer, consult cancelled, conference, blind transfer to a number,
// courtesy callback) from their events, worked by hand.
func TestCallFlows(t *testing.T) {
	cfg := RecordConfig{}
	cfg.defaults()
	type leg struct {
		leg, agent, disp       string
		ring, talk, hold, wrap int
	}
	cases := []struct {
		name    string
		evs     []event.Event
		ended   bool
		legs    []leg
		callTyp Counters
		agents  map[string]Counters
	}{
		// a1 consults a2 at 30 (a2 answers at 34), completes at 50: the
		// caller talked 8-50 with a1 and 50-90 with a2. a2's leg has its
		// whole talk, the consult included (34-90).
		{"consult transfer", flow("t1", answeredByA1(
			step{30, event.AgentOffer, agentF("a2", "", "consult")}, step{34, event.AgentAnswered, agentF("a2", "", "consult")},
			step{50, event.AgentTransfer, xfer("a1", "a2", "consult")}, step{50, event.AgentCallEnd, agentF("a1", "sales", "transferred")},
			step{90, event.AgentCallEnd, agentF("a2", "", "hung up")}, step{90, event.CallEnded, outcomeF(event.OutcomeAnswered)},
			step{90, event.CallData, nil}, step{100, event.AgentWrapUp, agentF("a1", "", "")}, step{120, event.AgentWrapUp, agentF("a2", "", "")})...),
			true,
			[]leg{{"caller", "a1", "answered", 3, 82, 0, 0}, {"agent-1", "a1", "transferred", 3, 42, 0, 50}, {"agent-2", "a2", "handled", 4, 56, 0, 30}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnsweredInSL: 1, AnswerWaitNS: secs(8), TalkNS: secs(98), WrapNS: secs(80), Buckets: [MaxBuckets]int64{0: 1}},
			map[string]Counters{
				"a1": {Offered: 1, Handled: 1, AnswerWaitNS: secs(3), TalkNS: secs(42), WrapNS: secs(50), Buckets: [MaxBuckets]int64{0: 1}},
				"a2": {Offered: 1, Handled: 1, AnswerWaitNS: secs(4), TalkNS: secs(56), WrapNS: secs(30), Buckets: [MaxBuckets]int64{0: 1}},
			}},
		// a2 answers the consult, then a1 cancels it at 45 and keeps the
		// caller: a2 talked 11 s to a1 only and handled nothing.
		{"consult cancelled after talking", flow("t2", answeredByA1(
			step{30, event.AgentOffer, agentF("a2", "", "consult")}, step{34, event.AgentAnswered, agentF("a2", "", "consult")},
			step{45, event.AgentCallEnd, agentF("a2", "", "consult cancelled")},
			step{90, event.AgentCallEnd, agentF("a1", "sales", "hung up")}, step{90, event.CallEnded, outcomeF(event.OutcomeAnswered)},
			step{90, event.CallData, nil})...),
			true,
			[]leg{{"caller", "a1", "answered", 3, 82, 0, 0}, {"agent-1", "a1", "handled", 3, 82, 0, 0}, {"agent-2", "a2", "consult", 4, 11, 0, 0}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnsweredInSL: 1, AnswerWaitNS: secs(8), TalkNS: secs(93), Buckets: [MaxBuckets]int64{0: 1}},
			map[string]Counters{
				"a1": {Offered: 1, Handled: 1, AnswerWaitNS: secs(3), TalkNS: secs(82), Buckets: [MaxBuckets]int64{0: 1}},
				"a2": {Offered: 1, TalkNS: secs(11)},
			}},
		// A consult that never answered and is cancelled is no abandon.
		{"consult cancelled while ringing", flow("t3", answeredByA1(
			step{30, event.AgentOffer, agentF("a2", "sales", "consult")}, step{33, event.AgentCallEnd, agentF("a2", "sales", "consult cancelled")},
			step{90, event.AgentCallEnd, agentF("a1", "sales", "hung up")}, step{90, event.CallEnded, outcomeF(event.OutcomeAnswered)})...),
			true,
			[]leg{{"caller", "a1", "answered", 3, 82, 0, 0}, {"agent-1", "a1", "handled", 3, 82, 0, 0}, {"agent-2", "a2", "consult_cancelled", 3, 0, 0, 0}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnsweredInSL: 1, AnswerWaitNS: secs(8), TalkNS: secs(82), Buckets: [MaxBuckets]int64{0: 1}},
			nil},
		// Conference at 40; a1 leaves at 60 (the call passes to a2), the
		// caller hangs up at 90: the caller talked 8-90 once, not twice.
		{"conference", flow("t4", answeredByA1(
			step{30, event.AgentOffer, agentF("a2", "support", "consult")}, step{34, event.AgentAnswered, agentF("a2", "support", "consult")},
			step{40, event.AgentConference, xfer("a1", "a2", "")},
			step{60, event.AgentTransfer, xfer("a1", "a2", "consult")}, step{60, event.AgentCallEnd, agentF("a1", "sales", "transferred")},
			step{90, event.AgentCallEnd, agentF("a2", "support", "hung up")}, step{90, event.CallEnded, outcomeF(event.OutcomeAnswered)})...),
			true,
			[]leg{{"caller", "a1", "answered", 3, 82, 0, 0}, {"agent-1", "a1", "transferred", 3, 52, 0, 0}, {"agent-2", "a2", "handled", 4, 56, 0, 0}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnsweredInSL: 1, AnswerWaitNS: secs(8), TalkNS: secs(108), Buckets: [MaxBuckets]int64{0: 1}},
			nil},
		// Blind transfer to a number at 20: a1's leg ends transferred; the
		// call goes on without an agent until the caller's BYE at 80.
		{"blind transfer to a number", flow("t5", answeredByA1(
			step{20, event.AgentTransfer, xfer("a1", "5551234", "")}, step{20, event.AgentCallEnd, agentF("a1", "sales", "transferred")},
			step{80, event.CallEnded, outcomeF(event.OutcomeAnswered)}, step{80, event.CallData, nil})...),
			true,
			[]leg{{"caller", "a1", "answered", 3, 12, 0, 0}, {"agent-1", "a1", "transferred", 3, 12, 0, 0}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnsweredInSL: 1, AnswerWaitNS: secs(8), TalkNS: secs(12), Buckets: [MaxBuckets]int64{0: 1}},
			nil},
		// The caller asks for a callback at 10 and its SIP call ends at 11
		// (rejected 480): the call is not over, nor abandoned.
		{"courtesy callback, caller released", flow("t6",
			step{0, event.CallNew, nil}, step{0, event.RouteRequest, nil}, step{1, event.QueueEnter, queueF("sales", "")},
			step{10, event.CallbackRequested, nil}, step{11, event.CallEnded, outcomeF(event.OutcomeRejected)}),
			false,
			[]leg{{"caller", "", "in_progress", 0, 0, 0, 0}}, Counters{}, nil},
		// ...then a1 is offered it at 200 and the caller answers the
		// callback at 203: handled, answered after a 202 s wait (the 300 s
		// bucket); the disposition is the last call.ended's.
		{"courtesy callback answered", flow("t7",
			step{0, event.CallNew, nil}, step{0, event.RouteRequest, nil}, step{1, event.QueueEnter, queueF("sales", "")},
			step{10, event.CallbackRequested, nil}, step{11, event.CallEnded, outcomeF(event.OutcomeRejected)},
			step{200, event.QueueLeave, queueF("sales", "offered")}, step{200, event.AgentOffer, agentF("a1", "sales", "")},
			step{203, event.CallAnswered, func(e *event.Event) { e.Reason = "courtesy callback to 4441234" }},
			step{203, event.AgentAnswered, agentF("a1", "sales", "")}, step{263, event.AgentCallEnd, agentF("a1", "sales", "hung up")},
			step{263, event.CallEnded, outcomeF(event.OutcomeAnswered)}, step{263, event.CallData, nil}),
			true,
			[]leg{{"caller", "a1", "answered", 3, 60, 0, 0}, {"agent-1", "a1", "handled", 3, 60, 0, 0}},
			Counters{Offered: 1, Handled: 1, SLOffered: 1, AnswerWaitNS: secs(202), TalkNS: secs(60), Buckets: [MaxBuckets]int64{6: 1}},
			nil},
		// The callback is not answered; the router gives up at 400 (its
		// queue.leave says abandoned): no abandon, disposition
		// callback_failed.
		{"courtesy callback given up", flow("t8",
			step{0, event.CallNew, nil}, step{0, event.RouteRequest, nil}, step{1, event.QueueEnter, queueF("sales", "")},
			step{10, event.CallbackRequested, nil}, step{11, event.CallEnded, outcomeF(event.OutcomeRejected)},
			step{200, event.QueueLeave, queueF("sales", "offered")}, step{200, event.AgentOffer, agentF("a1", "sales", "")},
			step{225, event.AgentCallEnd, agentF("a1", "sales", "callback not answered")},
			step{225, event.CallbackFailed, nil}, step{225, event.QueueEnter, queueF("sales", "")},
			step{400, event.QueueLeave, queueF("sales", "abandoned")}, step{400, event.CallData, nil}),
			true,
			[]leg{{"caller", "", "callback_failed", 25, 0, 0, 0}, {"agent-1", "a1", "callback_not_answered", 25, 0, 0, 0}},
			Counters{Offered: 1, SLOffered: 1},
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := buildCall(c.evs, &cfg)
			if r.ended != c.ended {
				t.Errorf("ended = %v, want %v", r.ended, c.ended)
			}
			var got []leg
			for _, l := range r.tcd {
				if l.LegKind == "sip" {
					continue
				}
				got = append(got, leg{l.Leg, string(l.Agent), l.Disposition, int(l.Ring / time.Second), int(l.Talk / time.Second),
					int(l.Hold / time.Second), int(l.WrapUp / time.Second)})
			}
			if len(got) != len(c.legs) {
				t.Fatalf("legs\n got %+v\nwant %+v", got, c.legs)
			}
			for i := range got {
				if got[i] != c.legs[i] {
					t.Errorf("leg %d:\n got %+v\nwant %+v", i, got[i], c.legs[i])
				}
			}
			contribs := map[string]Counters{}
			for _, k := range r.contribs {
				contribs[k.Kind+"/"+k.Name] = k.C
			}
			if got := contribs["call_type/sales"]; got != c.callTyp {
				t.Errorf("call type:\n got %+v\nwant %+v", got, c.callTyp)
			}
			for a, want := range c.agents {
				if got := contribs["agent/"+a]; got != want {
					t.Errorf("agent %s:\n got %+v\nwant %+v", a, got, want)
				}
			}
		})
	}
}
