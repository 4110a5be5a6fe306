package report

import (
	"reflect"
	"strings"
	"testing"

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
