package report

import (
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestCallCache(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ev := func(call string, seq uint64, k event.Kind) event.Event {
		return event.Event{Call: event.CallID(call), Seq: seq, Kind: k, Time: now.Add(time.Duration(seq) * time.Second)}
	}
	// A whole call, committed out of order (two emitters raced).
	whole := []event.Event{ev("a", 1, event.CallNew), ev("a", 3, event.AgentOffer), ev("a", 2, event.RouteRequest),
		ev("a", 4, event.AgentAnswered), ev("a", 5, event.CallEnded)}
	cases := []struct {
		name  string
		add   [][]event.Event
		spoil []event.Event // written from the spool, between the two adds
		max   int
		call  string
		whole int // events lookup returns; 0: nil (read the database)
	}{
		{"a call seen from its first event", [][]event.Event{whole[:2], whole[2:]}, nil, 100, "a", 5},
		{"a gap: an event the cache never saw", [][]event.Event{{ev("b", 1, event.CallNew), ev("b", 2, event.QueueEnter), ev("b", 4, event.CallEnded)}},
			nil, 100, "b", 0},
		{"an event stored twice", [][]event.Event{{ev("c", 1, event.CallNew), ev("c", 2, event.QueueEnter), ev("c", 2, event.QueueEnter)}},
			nil, 100, "c", 0},
		{"first seen mid-call (a call from before a restart)", [][]event.Event{{ev("d", 1, event.AgentWrapUp)}}, nil, 100, "d", 0},
		{"some of its events replayed from the spool", [][]event.Event{whole[:2], whole[2:]}, []event.Event{ev("a", 9, event.AgentWrapUp)}, 100, "a", 0},
		{"a spilled event overtook the call's first", [][]event.Event{nil, whole}, []event.Event{ev("a", 9, event.AgentWrapUp)}, 100, "a", 0},
		{"over the bound: not cached", [][]event.Event{{ev("x", 1, event.CallNew), ev("x", 2, event.CallEnded)}, whole}, nil, 2, "a", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := newCallCache(c.max)
			for i, evs := range c.add {
				if i == 1 && c.spoil != nil {
					cc.spoil(c.spoil, now)
				}
				cc.add(evs, now)
			}
			got := cc.lookup(event.CallID(c.call))
			if len(got) != c.whole {
				t.Fatalf("lookup: %d events, want %d", len(got), c.whole)
			}
			for i, e := range got {
				if e.Seq != uint64(i+1) {
					t.Errorf("event %d has seq %d: not in journey order", i, e.Seq)
				}
			}
		})
	}
	t.Run("sweep", func(t *testing.T) {
		cc := newCallCache(100)
		cc.add([]event.Event{ev("done", 1, event.CallNew), ev("done", 2, event.AgentAnswered), ev("done", 3, event.CallEnded),
			ev("done", 4, event.AgentWrapUp)}, now)
		cc.add([]event.Event{ev("wrapping", 1, event.CallNew), ev("wrapping", 2, event.AgentAnswered), ev("wrapping", 3, event.CallEnded)}, now)
		cc.add([]event.Event{ev("talking", 1, event.CallNew), ev("talking", 2, event.AgentAnswered)}, now)
		for _, id := range []event.CallID{"done", "wrapping", "talking"} {
			cc.lookup(id) // derived
		}
		cc.sweep(now.Add(time.Second))
		if _, ok := cc.calls["done"]; ok || cc.calls["wrapping"] == nil || cc.calls["talking"] == nil || cc.events != 5 {
			t.Fatalf("after a sweep: %d calls, %d events; want the wrapped-up call gone, 5 events left", len(cc.calls), cc.events)
		}
		cc.sweep(now.Add(cacheKeepEnded + time.Minute))
		if cc.calls["wrapping"] != nil || cc.calls["talking"] == nil {
			t.Fatalf("after %v: the ended call should be gone, the one in progress kept", cacheKeepEnded)
		}
	})
}
