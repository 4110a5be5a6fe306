package report

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// A record family added as one file: "survey" is registered here, in
// this test file only. It reads an event kind of its own (a post-call
// survey's score, Target) and writes an IVR step for it, with the call
// type the call family settled; nothing else in the package knows of it.
const surveyScore event.Kind = "test.survey_score"

var famSurvey *family

func init() {
	famSurvey = registerFamily(&family{
		name: "survey",
		doc:  "test.survey_score: one IVR step (source survey) per score",
		rank: 35,
		state: func() any {
			return &surveyAcc{}
		},
		on: map[event.Kind]func(*build, *event.Event){
			surveyScore: func(b *build, e *event.Event) {
				b.state[famSurvey.idx].(*surveyAcc).scores++
				b.r.ivr = append(b.r.ivr, IVRStep{Call: b.id, N: len(b.r.ivr) + 1, Time: e.Time, Source: "survey",
					Script: "csat", Input: "score=" + e.Target, Outcome: "ok"})
			},
		},
		settle: func(b *build) {
			for i := range b.r.ivr {
				if b.r.ivr[i].Source == "survey" {
					b.r.ivr[i].CallType = b.callType
				}
			}
		},
		records: func(b *build) {
			if n := b.state[famSurvey.idx].(*surveyAcc).scores; n > 0 && b.caller().Disposition == "answered" {
				b.caller().Disposition = "answered_surveyed"
			}
		},
	})
}

type surveyAcc struct{ scores int }

func TestFamilyAddedAsOneFile(t *testing.T) {
	cfg := RecordConfig{}
	cfg.defaults()
	steps := answeredByA1(
		step{20, event.AgentCallEnd, agentF("a1", "sales", "")},
		step{20, event.CallEnded, outcomeF(event.OutcomeAnswered)},
		step{21, surveyScore, func(e *event.Event) { e.Target = "5" }},
		step{22, event.CallData, nil})
	with := buildCall(flow("s1", steps...), &cfg)
	without := buildCall(flow("s1", steps[:len(steps)-2]...), &cfg)

	if len(with.ivr) != 1 || with.ivr[0].Source != "survey" || with.ivr[0].Input != "score=5" || with.ivr[0].CallType != "sales" || with.ivr[0].N != 1 {
		t.Fatalf("survey steps %+v, want one, score=5, call type sales", with.ivr)
	}
	if got := with.tcd[0].Disposition; got != "answered_surveyed" {
		t.Errorf("caller disposition %q, want answered_surveyed", got)
	}
	// The other families' records are as without the survey: the agent
	// leg, the intervals, the caller's talk (ended at 20 either way).
	if len(with.tcd) != len(without.tcd) || !reflect.DeepEqual(with.tcd[1], without.tcd[1]) || with.tcd[0].Talk != without.tcd[0].Talk {
		t.Errorf("agent legs changed by the survey family:\n%+v\n%+v", with.tcd, without.tcd)
	}
	if len(with.contribs) != len(without.contribs) {
		t.Errorf("interval rows changed: %d, want %d", len(with.contribs), len(without.contribs))
	}
	if !strings.Contains(RecordFamilies(), "survey    test.survey_score: one IVR step") {
		t.Errorf("RecordFamilies has no survey line:\n%s", RecordFamilies())
	}
}

// The families run in rank order, each built-in one is listed, and a
// second family of a name or rank is refused when the package loads.
func TestFamilies(t *testing.T) {
	var names []string
	for i, f := range families {
		if i > 0 && families[i-1].rank >= f.rank {
			t.Errorf("families out of rank order: %s (%d) after %s (%d)", f.name, f.rank, families[i-1].name, families[i-1].rank)
		}
		if f.idx != i {
			t.Errorf("family %s has index %d at %d", f.name, f.idx, i)
		}
		names = append(names, f.name)
	}
	for _, want := range []string{"call", "callback", "ivr", "queue", "route", "hold", "agent", "transfer", "sip"} {
		if !strings.Contains(RecordFamilies(), "\n"+want+" ") && !strings.HasPrefix(RecordFamilies(), want+" ") {
			t.Errorf("family %s not listed in %v", want, names)
		}
	}
	for _, dup := range []*family{{name: "hold", rank: 1}, {name: "other", rank: 10}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("family %s rank %d registered twice without a panic", dup.name, dup.rank)
				}
			}()
			registerFamily(dup)
		}()
	}
}

// FuzzBuildCall runs the families over any sequence of a call's events
// (kinds, agents, queues, reasons and times from the fuzzer's bytes, 4 an
// event): no panic, the caller's TCD first, records numbered in order, and
// the same records from the same events (buildCall is pure).
func FuzzBuildCall(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 4, 0, 0, 1, 9, 1, 0, 2, 11, 1, 0, 5, 10, 1, 1, 5, 13, 1, 0, 3, 18, 1, 0, 60, 1, 0, 0, 0, 5, 0, 0, 10})
	f.Add([]byte{2, 0, 7, 1, 9, 1, 0, 2, 1, 0, 6, 9, 11, 2, 2, 3, 17, 0, 2, 1, 18, 2, 0, 4})
	kinds := []event.Kind{event.CallNew, event.CallEnded, event.CallbackRequested, event.CallAnswered, event.RouteRequest,
		event.CallData, event.IVRStep, event.IVRResult, event.RouteDecision, event.QueueEnter, event.QueueLeave,
		event.AgentOffer, event.AgentRONA, event.AgentAnswered, event.AgentHold, event.AgentRetrieve, event.AgentTransfer,
		event.AgentConference, event.AgentCallEnd, event.AgentWrapUp, event.LegNew, event.LegAnswered, event.LegFailed,
		event.LegEnded, surveyScore}
	reasons := []string{"", "consult", "abandoned", "transferred", "callback not answered", DispositionNodeRestart, "courtesy callback", "offered"}
	cfg := RecordConfig{}
	cfg.defaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*200 {
			data = data[:4*200]
		}
		tm := t0
		var evs []event.Event
		for i := 0; i+4 <= len(data); i += 4 {
			k, who, why, dt := data[i], data[i+1], data[i+2], data[i+3]
			tm = tm.Add(time.Duration(int8(dt)) * time.Second) // backwards too: clocks of two nodes
			e := event.Event{Call: "f1", Time: tm, Kind: kinds[int(k)%len(kinds)], Seq: uint64(i/4 + 1),
				Agent: event.AgentID("a" + string(rune('1'+who%3))), Queue: []string{"sales", "support"}[who%2],
				Target: []string{"a1", "a2", "sales", "5551234"}[why%4], Reason: reasons[int(why)%len(reasons)],
				Leg: event.LegID([]string{"", "in", "out"}[who%3]), Code: int(why), CallType: "sales"}
			if k%7 == 0 {
				e.Outcome = OutcomeNodeRestart
			}
			evs = append(evs, e)
		}
		r := buildCall(evs, &cfg)
		if len(evs) == 0 {
			return
		}
		if len(r.tcd) == 0 || r.tcd[0].LegKind != "caller" {
			t.Fatalf("the caller's TCD is not first: %+v", r.tcd)
		}
		for i, d := range r.rcd {
			if d.N != i+1 {
				t.Fatalf("RCD %d numbered %d", i, d.N)
			}
		}
		for i, s := range r.ivr {
			if s.N != i+1 {
				t.Fatalf("IVR step %d numbered %d", i, s.N)
			}
		}
		if !r.ended && len(r.contribs) > 0 {
			t.Fatalf("interval rows for a call not over: %+v", r.contribs)
		}
		if again := buildCall(evs, &cfg); !reflect.DeepEqual(r, again) {
			t.Fatalf("the same events gave other records:\n%+v\n%+v", r, again)
		}
	})
}
