package report

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestFigures(t *testing.T) {
	s := int64(time.Second)
	cases := []struct {
		name string
		c    Counters
		want Figures
	}{
		{"empty: every rate zero, no division by zero", Counters{}, Figures{}},
		// 4 calls count for service level: 2 answered within it, 1
		// abandoned within it, 1 abandoned after it.
		{"the three formulas", Counters{Handled: 2, SLOffered: 4, AnsweredInSL: 2, AbandonedInSL: 1, AnswerWaitNS: 27 * s, TalkNS: 70 * s, HoldNS: 10 * s, WrapNS: 15 * s},
			Figures{SLAbandonsIgnored: 2.0 / 3, SLAbandonsNegative: 0.5, SLAbandonsPositive: 0.75, ASA: 13.5, AHT: 47.5}},
		{"all abandoned within service level", Counters{SLOffered: 2, AbandonedInSL: 2},
			Figures{SLAbandonsIgnored: 0, SLAbandonsNegative: 0, SLAbandonsPositive: 1}},
		{"one call answered at once", Counters{Handled: 1, SLOffered: 1, AnsweredInSL: 1, TalkNS: 60 * s},
			Figures{SLAbandonsIgnored: 1, SLAbandonsNegative: 1, SLAbandonsPositive: 1, AHT: 60}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.c.Figures()
			for _, p := range []struct {
				name     string
				got, exp float64
			}{{"ignored", got.SLAbandonsIgnored, c.want.SLAbandonsIgnored}, {"negative", got.SLAbandonsNegative, c.want.SLAbandonsNegative},
				{"positive", got.SLAbandonsPositive, c.want.SLAbandonsPositive}, {"asa", got.ASA, c.want.ASA}, {"aht", got.AHT, c.want.AHT}} {
				if math.Abs(p.got-p.exp) > 1e-9 {
					t.Errorf("%s = %v, want %v", p.name, p.got, p.exp)
				}
			}
		})
	}
}

func TestBucketOf(t *testing.T) {
	cfg := RecordConfig{}
	cfg.defaults()
	for _, c := range []struct {
		wait time.Duration
		want int
	}{{0, 0}, {8 * time.Second, 0}, {8*time.Second + 1, 1}, {30 * time.Second, 1}, {1200 * time.Second, 8}, {time.Hour, 9}} {
		if got := bucketOf(&cfg, c.wait); got != c.want {
			t.Errorf("bucketOf(%v) = %d, want %d", c.wait, got, c.want)
		}
	}
}

// scenario is five calls of call type sales queued to skill group sales,
// all ending in the 10:00-10:30 interval, worked out by hand below.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func callEvents() [][]event.Event {
	ev := func(call string, sec int, k event.Kind, f func(*event.Event)) event.Event {
		e := event.Event{Call: event.CallID(call), Time: at(sec), Kind: k, CallType: "sales"}
		if f != nil {
			f(&e)
		}
		return e
	}
	q := func(name, why string) func(*event.Event) {
		return func(e *event.Event) { e.Queue, e.Reason = name, why }
	}
	ag := func(a, why string) func(*event.Event) {
		return func(e *event.Event) { e.Agent, e.Queue, e.Reason = event.AgentID(a), "sales", why }
	}
	rr := func(e *event.Event) {
		e.Data = &event.Data{ANI: "555", DNIS: "1000", SIPCallID: "sip-" + string(e.Call)}
	}
	end := func(o event.Outcome) func(*event.Event) { return func(e *event.Event) { e.Outcome = o } }
	return [][]event.Event{
		// c1: queued 2 s after arrival, offered to a1 at 12, answered at
		// 15 (wait 13 s), on hold 30-40, hung up at 75, wrap-up to 90 with
		// reason 3. Talk 50 s, hold 10 s, wrap-up 15 s.
		{ev("c1", 0, event.CallNew, nil), ev("c1", 0, event.RouteRequest, rr), ev("c1", 2, event.QueueEnter, q("sales", "")),
			ev("c1", 2, event.RouteDecision, func(e *event.Event) { e.Reason, e.Node, e.Script = "run_script", "s>q>music", "sales" }),
			ev("c1", 12, event.QueueLeave, q("sales", "offered")), ev("c1", 12, event.AgentOffer, ag("a1", "")),
			ev("c1", 15, event.AgentAnswered, ag("a1", "")), ev("c1", 30, event.AgentHold, ag("a1", "")),
			ev("c1", 40, event.AgentRetrieve, ag("a1", "")), ev("c1", 75, event.AgentCallEnd, ag("a1", "hung up")),
			ev("c1", 75, event.CallEnded, end(event.OutcomeAnswered)), ev("c1", 75, event.CallData, nil),
			ev("c1", 90, event.AgentWrapUp, func(e *event.Event) { e.Agent, e.ReasonCode = "a1", 3 })},
		// c2: abandoned after 30 s in queue (past service level).
		{ev("c2", 100, event.CallNew, nil), ev("c2", 100, event.RouteRequest, rr), ev("c2", 101, event.QueueEnter, q("sales", "")),
			ev("c2", 131, event.QueueLeave, q("sales", "abandoned")), ev("c2", 131, event.CallEnded, end(event.OutcomeAbandoned)),
			ev("c2", 131, event.CallData, nil)},
		// c3: abandoned after 3 s: a short call.
		{ev("c3", 200, event.CallNew, nil), ev("c3", 200, event.RouteRequest, rr), ev("c3", 200, event.QueueEnter, q("sales", "")),
			ev("c3", 203, event.QueueLeave, q("sales", "abandoned")), ev("c3", 203, event.CallEnded, end(event.OutcomeAbandoned))},
		// c4: offered to a1 at 301, RONA at 311, requeued, offered to a2
		// at 312, answered at 314 (wait 14 s from first queued), hung up
		// at 334, no wrap-up.
		{ev("c4", 300, event.CallNew, nil), ev("c4", 300, event.RouteRequest, rr), ev("c4", 300, event.QueueEnter, q("sales", "")),
			ev("c4", 301, event.QueueLeave, q("sales", "offered")), ev("c4", 301, event.AgentOffer, ag("a1", "")),
			ev("c4", 311, event.AgentRONA, ag("a1", "")), ev("c4", 311, event.QueueEnter, q("sales", "")),
			ev("c4", 312, event.QueueLeave, q("sales", "offered")), ev("c4", 312, event.AgentOffer, ag("a2", "")),
			ev("c4", 314, event.AgentAnswered, ag("a2", "")), ev("c4", 334, event.AgentCallEnd, ag("a2", "hung up")),
			ev("c4", 334, event.CallEnded, end(event.OutcomeAnswered)), ev("c4", 334, event.AgentWrapUp, ag("a2", ""))},
		// c5: abandoned after 10 s: within service level, not short.
		{ev("c5", 400, event.CallNew, nil), ev("c5", 400, event.RouteRequest, rr), ev("c5", 400, event.QueueEnter, q("sales", "")),
			ev("c5", 410, event.QueueLeave, q("sales", "abandoned")), ev("c5", 410, event.CallEnded, end(event.OutcomeAbandoned))},
	}
}

func secs(n int64) int64 { return n * int64(time.Second) }

// Worked by hand from the calls above.
var wantIntervals = map[string]Counters{
	"call_type/sales": {Offered: 5, Handled: 2, Abandoned: 2, ShortAbandoned: 1, SLOffered: 4, AnsweredInSL: 2, AbandonedInSL: 1,
		RONA: 1, AnswerWaitNS: secs(27), TalkNS: secs(70), HoldNS: secs(10), WrapNS: secs(15), Buckets: [MaxBuckets]int64{1: 2}},
	"skill_group/sales": {Offered: 5, Handled: 2, Abandoned: 2, ShortAbandoned: 1, SLOffered: 4, AnsweredInSL: 2, AbandonedInSL: 1,
		RONA: 1, AnswerWaitNS: secs(27), TalkNS: secs(70), HoldNS: secs(10), WrapNS: secs(15), Buckets: [MaxBuckets]int64{1: 2}},
	// An agent's answer wait is its ring time: 3 s for a1, 2 s for a2.
	"agent/a1": {Offered: 2, Handled: 1, RONA: 1, AnswerWaitNS: secs(3), TalkNS: secs(50), HoldNS: secs(10), WrapNS: secs(15), Buckets: [MaxBuckets]int64{0: 1}},
	"agent/a2": {Offered: 1, Handled: 1, AnswerWaitNS: secs(2), TalkNS: secs(20), Buckets: [MaxBuckets]int64{0: 1}},
}

func checkIntervals(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.Intervals(context.Background(), Filter{From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Counters{}
	for _, r := range rows {
		if !r.Start.Equal(t0) {
			t.Errorf("row %s/%s starts %v, want %v", r.Kind, r.Name, r.Start, t0)
		}
		got[r.Kind+"/"+r.Name] = r.Counters
	}
	for k, want := range wantIntervals {
		if got[k] != want {
			t.Errorf("%s:\n got %+v\nwant %+v", k, got[k], want)
		}
	}
	if len(got) != len(wantIntervals) {
		t.Errorf("%d interval rows, want %d: %v", len(got), len(wantIntervals), got)
	}
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			_, s := b.open(t)
			w := newWriter(t, s, WriterConfig{})
			calls := callEvents()
			// c1's wrap-up comes last and alone, as it does after a real call.
			for _, c := range calls {
				for _, e := range c {
					if e.Kind != event.AgentWrapUp || e.Call != "c1" {
						w.Emit(e)
					}
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			tcd, err := s.TCDs(ctx, Filter{Call: "c1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(tcd) != 2 || tcd[1].WrapUp != 0 {
				t.Fatalf("c1 before its wrap-up: %+v", tcd)
			}
			w.Emit(calls[0][len(calls[0])-1])
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			checkIntervals(t, s)

			t.Run("tcd", func(t *testing.T) {
				tcd, err := s.TCDs(ctx, Filter{Call: "c1"})
				if err != nil {
					t.Fatal(err)
				}
				want := []struct {
					leg, disp                                 string
					ring, delay, queue, talk, hold, wrap, sec int64
				}{
					{"caller", "answered", 3, 2, 10, 50, 10, 0, 0},
					{"agent-1", "handled", 3, 0, 10, 50, 10, 15, 12},
				}
				if len(tcd) != len(want) {
					t.Fatalf("tcd %+v", tcd)
				}
				for i, w := range want {
					g := tcd[i]
					if g.Leg != w.leg || g.Disposition != w.disp || g.Ring != time.Duration(secs(w.ring)) || g.Delay != time.Duration(secs(w.delay)) ||
						g.QueueTime != time.Duration(secs(w.queue)) || g.Talk != time.Duration(secs(w.talk)) || g.Hold != time.Duration(secs(w.hold)) ||
						g.WrapUp != time.Duration(secs(w.wrap)) || !g.Start.Equal(at(int(w.sec))) {
						t.Errorf("leg %d: got %+v, want %+v", i, g, w)
					}
					if g.Data.SIPCallID != "sip-c1" || g.Data.ANI != "555" || g.CallType != "sales" {
						t.Errorf("leg %d data %+v call type %q", i, g.Data, g.CallType)
					}
				}
				if tcd[1].WrapReason != 3 || tcd[1].Agent != "a1" || tcd[1].SkillGroup != "sales" {
					t.Errorf("agent leg %+v", tcd[1])
				}
				c4, err := s.TCDs(ctx, Filter{Call: "c4", Agent: "a1"})
				if err != nil || len(c4) != 1 || c4[0].Disposition != "rona" || c4[0].Ring != 10*time.Second {
					t.Errorf("c4 a1 leg %+v %v", c4, err)
				}
				byNumber, err := s.TCDs(ctx, Filter{Number: "1000", From: at(100), To: at(101)})
				if err != nil || len(byNumber) != 1 || byNumber[0].Call != "c2" || byNumber[0].QueueTime != 30*time.Second {
					t.Errorf("c2 by DNIS and time %+v %v", byNumber, err)
				}
			})
			t.Run("rcd", func(t *testing.T) {
				r, err := s.RCDs(ctx, Filter{Call: "c1"})
				if err != nil || len(r) != 1 || r[0].Node != "s>q>music" || r[0].Decision != "run_script" || r[0].Queue != 10*time.Second {
					t.Errorf("rcd %+v %v", r, err)
				}
			})
			t.Run("replayed and derived again: same figures", func(t *testing.T) {
				// A spool replayed after a crash: the stored events again,
				// same ids. Insert marks the calls; Derive takes their old
				// contributions off before adding them again.
				for _, c := range []event.CallID{"c1", "c2", "c3", "c4", "c5"} {
					evs, err := s.CallJourney(ctx, c)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Insert(ctx, evs); err != nil {
						t.Fatal(err)
					}
				}
				n, err := s.Derive(ctx, time.Now().Add(time.Hour))
				if err != nil || n != 5 {
					t.Fatalf("derived %d calls, %v; want 5", n, err)
				}
				checkIntervals(t, s)
			})
			t.Run("purge by age", func(t *testing.T) {
				// Before 10:05: c1-c3's events and records and the 10:00
				// interval rows go; c4 (10:05-10:05:34) and c5 stay.
				if _, err := s.Purge(ctx, at(300)); err != nil {
					t.Fatal(err)
				}
				iv, err := s.Intervals(ctx, Filter{})
				if err != nil || len(iv) != 0 {
					t.Errorf("intervals after purge: %v %v", iv, err)
				}
				for call, want := range map[string]int{"c1": 0, "c3": 0, "c4": 3} {
					tcd, err := s.TCDs(ctx, Filter{Call: call})
					if err != nil || len(tcd) != want {
						t.Errorf("%s: %d TCD rows after purge, want %d (%v)", call, len(tcd), want, err)
					}
				}
				if j, _ := s.CallJourney(ctx, "c2"); len(j) != 0 {
					t.Errorf("c2 events after purge: %d", len(j))
				}
				if j, _ := s.CallJourney(ctx, "c5"); len(j) != 5 {
					t.Errorf("c5 events after purge: %d, want 5", len(j))
				}
			})
		})
	}
}
