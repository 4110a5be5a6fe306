package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestSplitStates(t *testing.T) {
	m := func(min int) int64 { return int64(time.Duration(min) * time.Minute) }
	clock := func(h, min, sec int) int64 {
		return time.Date(2026, 3, 2, h, min, sec, 0, time.UTC).UnixNano()
	}
	iv := func(h, min int) int64 { return clock(h, min, 0) }
	ch := func(h, min, sec int, state string, reason int) stateChange {
		return stateChange{t: clock(h, min, sec), state: state, reason: reason}
	}
	cases := []struct {
		name     string
		changes  []stateChange
		since    int64
		interval time.Duration
		want     map[int64]StateTimes
	}{
		{"ready 10:25-10:40 at 30 min: 5 min to 10:00, 10 to 10:30",
			[]stateChange{ch(10, 25, 0, "ready", 0), ch(10, 40, 0, "not_ready", 5)}, 0, 30 * time.Minute,
			map[int64]StateTimes{iv(10, 0): {LoggedOnNS: m(5), ReadyNS: m(5)}, iv(10, 30): {LoggedOnNS: m(10), ReadyNS: m(10)}}},
		{"the same at 15 min",
			[]stateChange{ch(10, 25, 0, "ready", 0), ch(10, 40, 0, "not_ready", 5)}, 0, 15 * time.Minute,
			map[int64]StateTimes{iv(10, 15): {LoggedOnNS: m(5), ReadyNS: m(5)}, iv(10, 30): {LoggedOnNS: m(10), ReadyNS: m(10)}}},
		{"the state an agent is in now counts nothing yet",
			[]stateChange{ch(10, 0, 0, "ready", 0)}, 0, 30 * time.Minute, map[int64]StateTimes{}},
		{"one span over four intervals",
			[]stateChange{ch(9, 50, 0, "ready", 0), ch(11, 10, 0, "logged_out", 0)}, 0, 30 * time.Minute,
			map[int64]StateTimes{iv(9, 30): {LoggedOnNS: m(10), ReadyNS: m(10)}, iv(10, 0): {LoggedOnNS: m(30), ReadyNS: m(30)},
				iv(10, 30): {LoggedOnNS: m(30), ReadyNS: m(30)}, iv(11, 0): {LoggedOnNS: m(10), ReadyNS: m(10)}}},
		{"since: only the intervals from it",
			[]stateChange{ch(10, 25, 0, "ready", 0), ch(10, 40, 0, "not_ready", 5)}, iv(10, 30), 30 * time.Minute,
			map[int64]StateTimes{iv(10, 30): {LoggedOnNS: m(10), ReadyNS: m(10)}}},
		// Logged out 9:55-10:05 counts nothing; 10:05-10:30 is 25 logged-on
		// minutes: not ready 5 (reason 0), ready 10, reserved 10 s, talking
		// 1:50 + 7:00, hold 1:00. Then 10:30-10:33: talking 1, wrap-up 2.
		{"a working day's half hour, every state",
			[]stateChange{ch(9, 50, 0, "not_ready", 3), ch(9, 55, 0, "logged_out", 0), ch(10, 5, 0, "not_ready", 0),
				ch(10, 10, 0, "ready", 0), ch(10, 20, 0, "reserved", 0), ch(10, 20, 10, "talking", 0), ch(10, 22, 0, "hold", 0),
				ch(10, 23, 0, "talking", 0), ch(10, 31, 0, "work_not_ready", 0), ch(10, 33, 0, "work_ready", 0), ch(10, 34, 0, "ready", 0)},
			0, 30 * time.Minute,
			map[int64]StateTimes{
				iv(9, 30): {LoggedOnNS: m(5), NotReadyNS: m(5), NotReadyByReason: map[int]int64{3: m(5)}},
				iv(10, 0): {LoggedOnNS: m(25), NotReadyNS: m(5), NotReadyByReason: map[int]int64{0: m(5)}, ReadyNS: m(10),
					ReservedNS: int64(10 * time.Second), TalkingNS: int64(8*time.Minute + 50*time.Second), HoldNS: m(1)},
				iv(10, 30): {LoggedOnNS: m(4), TalkingNS: m(1), WorkNotReadyNS: m(2), WorkReadyNS: m(1)},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := splitStates(c.changes, c.since, c.interval)
			if len(got) != len(c.want) {
				t.Errorf("%d intervals, want %d: %v", len(got), len(c.want), got)
			}
			for start, want := range c.want {
				g := got[start]
				if g == nil || g.String() != want.String() {
					t.Errorf("interval %v:\n got %v\nwant %v", time.Unix(0, start).UTC().Format("15:04"), g, want.String())
				}
			}
		})
	}
}

// TestAgentStateTimes stores an agent's state changes beside the calls of
// callEvents (a1 handles c1 and RONAs c4 in the 10:00 interval), with a
// change arriving late and out of order, then the whole lot replayed: the
// agent rows keep their call figures and get their state times, the same
// each time they are derived.
func TestAgentStateTimes(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			_, s := b.open(t)
			w := newWriter(t, s, WriterConfig{})
			st := func(sec int, state string, reason int) event.Event {
				return event.Event{Kind: event.AgentState, Agent: "a1", Time: at(sec), State: state, ReasonCode: reason}
			}
			for _, c := range callEvents() {
				for _, e := range c {
					w.Emit(e)
				}
			}
			// Not ready (3) from 10:00, ready at 10:25: 25 not-ready
			// minutes once ready starts; ready itself is still open.
			w.Emit(st(0, "not_ready", 3))
			w.Emit(st(25*60, "ready", 0))
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			min := func(n int) int64 { return int64(time.Duration(n) * time.Minute) }
			check := func(what string, want map[time.Time]StateTimes) {
				t.Helper()
				rows, err := s.Intervals(ctx, Filter{Kind: IntervalAgent, Name: "a1"})
				if err != nil {
					t.Fatal(err)
				}
				got := map[time.Time]string{}
				for _, r := range rows {
					if r.States == nil {
						t.Fatalf("%s: agent row %v has no state times", what, r.Start)
					}
					got[r.Start] = r.States.String()
					if r.Start.Equal(t0) && r.Counters != wantIntervals["agent/a1"] {
						t.Errorf("%s: a1's call figures changed:\n got %+v\nwant %+v", what, r.Counters, wantIntervals["agent/a1"])
					}
				}
				for at, w := range want {
					if got[at] != w.String() {
						t.Errorf("%s: %v:\n got %s\nwant %s", what, at.Format("15:04"), got[at], w.String())
					}
				}
				if len(got) != len(want) {
					t.Errorf("%s: %d rows, want %d: %v", what, len(got), len(want), got)
				}
			}
			check("not ready then ready", map[time.Time]StateTimes{
				t0: {LoggedOnNS: min(25), NotReadyNS: min(25), NotReadyByReason: map[int]int64{3: min(25)}}})

			// Not ready (5) at 10:40: ready 10:25-10:40 is split.
			w.Emit(st(40*60, "not_ready", 5))
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[time.Time]StateTimes{
				t0:                       {LoggedOnNS: min(30), NotReadyNS: min(25), NotReadyByReason: map[int]int64{3: min(25)}, ReadyNS: min(5)},
				t0.Add(30 * time.Minute): {LoggedOnNS: min(10), ReadyNS: min(10)},
			}
			check("ready across 10:30", want)

			// A change from 10:20 stored late: not ready 10:00-10:20,
			// talking 10:20-10:25.
			w.Emit(st(20*60, "talking", 0))
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			want[t0] = StateTimes{LoggedOnNS: min(30), NotReadyNS: min(20), NotReadyByReason: map[int]int64{3: min(20)}, TalkingNS: min(5), ReadyNS: min(5)}
			check("a late change", want)

			// Everything again (a spool replayed): the same rows.
			var all []event.Event
			rows, err := s.AgentStates(ctx, Filter{Agent: "a1"})
			if err != nil || len(rows) != 4 {
				t.Fatalf("agent state rows %v %v", rows, err)
			}
			for _, c := range []event.CallID{"c1", "c4"} {
				evs, err := s.CallJourney(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, evs...)
			}
			ids, err := stateEventIDs(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				all = append(all, event.Event{ID: ids[i], Kind: event.AgentState, Agent: r.Agent, Time: r.Time, State: r.State, ReasonCode: r.ReasonCode})
			}
			if err := s.Insert(ctx, all); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Derive(ctx, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			check("replayed", want)
		})
	}
}

// stateEventIDs returns the agent state rows' ids in AgentStates' order.
func stateEventIDs(ctx context.Context, s *Store) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM agent_state ORDER BY time_ns, agent`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no agent state rows")
	}
	return ids, rows.Err()
}
