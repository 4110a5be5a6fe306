package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// TestCloseOrphansAfterCrash simulates a kill -9 by abandoning a writer
// mid-call (its last events only in its spool), then starts a new writer
// on the same store and spool, as a restarted node does. Every record the
// dead run left open is closed with the node_restart disposition at the
// time the run was last seen, its agents are logged out with reason -2,
// the intervals count every call offered; another node's call and agent
// in the same store, and the new run's own call, are left alone.
func TestCloseOrphansAfterCrash(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg, s1 := b.open(t)
			cfg.Node = "n1"
			// The store b.open made has no node: a store for node n1 and one
			// for node n2 on the same database.
			s1.Close()
			n1, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer n1.Close()
			cfg2 := cfg
			cfg2.Node = "n2"
			n2, err := Open(ctx, cfg2)
			if err != nil {
				t.Fatal(err)
			}
			defer n2.Close()

			// The run that dies: c1 ends; c2 waits in queue; c3 talks to
			// a1 over SIP legs; c4 is a courtesy callback kept queued.
			w1 := newWriter(t, n1, WriterConfig{})
			sales := func(e *event.Event) { e.CallType = "sales" }
			var evs []event.Event
			evs = append(evs, flow("c1", answeredByA1(step{20, event.AgentCallEnd, agentF("a1", "sales", "")},
				step{20, event.CallEnded, outcomeF(event.OutcomeAnswered)})...)...)
			evs = append(evs, flow("c2", step{10, event.CallNew, sales}, step{10, event.RouteRequest, sales},
				step{10, event.QueueEnter, queueF("sales", "")})...)
			evs = append(evs, flow("c3", step{30, event.CallNew, func(e *event.Event) { e.Leg = "in" }},
				step{30, event.RouteRequest, nil}, step{31, event.AgentOffer, agentF("a1", "sales", "")},
				step{31, event.LegNew, func(e *event.Event) { e.Leg = "out" }},
				step{33, event.LegAnswered, func(e *event.Event) { e.Leg = "out" }},
				step{33, event.AgentAnswered, agentF("a1", "sales", "")})...)
			evs = append(evs, flow("c4", step{40, event.CallNew, nil}, step{40, event.RouteRequest, nil},
				step{41, event.QueueEnter, queueF("sales", "")}, step{45, event.CallbackRequested, nil},
				step{46, event.CallEnded, outcomeF(event.OutcomeAnswered)})...)
			for _, st := range []struct {
				agent, state string
				sec          int
			}{{"a1", "ready", 0}, {"a1", "reserved", 31}, {"a1", "talking", 33}, {"a2", "ready", 5}, {"a3", "ready", 1}, {"a3", "logged_out", 2}} {
				evs = append(evs, event.Event{Kind: event.AgentState, Agent: event.AgentID(st.agent), State: st.state, Time: at(st.sec)})
			}
			for _, e := range evs {
				w1.Emit(e)
			}
			if err := w1.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// c6 reached only the spool before the kill (the store was
			// slow): it is replayed by the next run, then closed.
			spoolPath := filepath.Join(t.TempDir(), "events.spool")
			sp, err := openSpool(spoolPath, DefaultSpoolMaxBytes, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			c6 := flow("c6", step{50, event.CallNew, nil}, step{50, event.RouteRequest, nil}, step{52, event.QueueEnter, queueF("sales", "")})
			for i := range c6 {
				c6[i].ID = event.NewEventID(time.Now())
			}
			if err := sp.append(c6); err != nil {
				t.Fatal(err)
			}
			sp.close()
			// Another node's call and agent, alive on that node.
			w2 := newWriter(t, n2, WriterConfig{})
			for _, e := range flow("c5", step{60, event.CallNew, nil}, step{60, event.RouteRequest, nil}, step{60, event.QueueEnter, queueF("sales", "")}) {
				w2.Emit(e)
			}
			w2.Emit(event.Event{Kind: event.AgentState, Agent: "b1", State: "ready", Time: at(60)})
			if err := w2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// The kill: w1 is abandoned (the test's cleanup stops it at
			// the end); its records stay as they were.

			// The restart: a new writer of node n1 on the crashed run's
			// spool. Its own new call c7 is alive.
			n1b, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer n1b.Close()
			w3 := newWriter(t, n1b, WriterConfig{SpoolPath: spoolPath})
			w3.Emit(event.Event{Call: "c7", Kind: event.CallNew, CallType: "sales"})
			w3.Emit(event.Event{Call: "c7", Kind: event.RouteRequest, CallType: "sales"})
			if err := w3.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := w3.Stats()
			if !st.Recovered || st.OrphanCalls != 4 || st.OrphanAgents != 2 {
				t.Fatalf("recovery: %+v, want 4 calls (c2, c3, c4, c6) and 2 agents (a1, a2) closed", st)
			}
			died := at(52) // the crashed run's last event (c6's, from the spool)

			legs, err := n1b.TCDs(ctx, Filter{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]TCD{}
			for _, l := range legs {
				got[string(l.Call)+"/"+l.Leg] = l
			}
			for _, w := range []struct {
				key, disp string
				end       time.Time
			}{
				{"c1/caller", "answered", at(20)},
				{"c2/caller", "node_restart", died},
				{"c3/caller", "node_restart", died},
				{"c3/agent-1", "node_restart", died},
				{"c3/out", "ended node_restart", died},
				{"c3/in", "ended node_restart", died},
				{"c4/caller", "node_restart", died},
				{"c6/caller", "node_restart", died},
				{"c5/caller", "in_progress", time.Time{}},
				{"c7/caller", "in_progress", time.Time{}},
			} {
				l, ok := got[w.key]
				if !ok {
					t.Errorf("%s: no record", w.key)
					continue
				}
				if l.Disposition != w.disp || !l.End.Equal(w.end) {
					t.Errorf("%s: %q ending %v, want %q ending %v", w.key, l.Disposition, l.End, w.disp, w.end)
				}
			}
			if l := got["c3/agent-1"]; l.Talk != 19*time.Second {
				t.Errorf("c3's agent talked %v, want 19s (answered at 33, last seen at 52)", l.Talk)
			}
			for k, l := range got {
				if l.Disposition == "in_progress" && !strings.HasPrefix(k, "c5/") && !strings.HasPrefix(k, "c7/") {
					t.Errorf("%s still in progress", k)
				}
			}

			states, err := n1b.AgentStates(ctx, Filter{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			last := map[event.AgentID]AgentState{}
			n := map[event.AgentID]int{}
			for _, a := range states {
				last[a.Agent] = a
				n[a.Agent]++
			}
			for _, w := range []struct {
				agent        event.AgentID
				state        string
				reason, rows int
				time         time.Time
			}{
				{"a1", "logged_out", ReasonNodeRestart, 4, died},
				{"a2", "logged_out", ReasonNodeRestart, 2, died},
				{"a3", "logged_out", 0, 2, at(2)},
				{"b1", "ready", 0, 1, at(60)},
			} {
				a := last[w.agent]
				if a.State != w.state || a.ReasonCode != w.reason || n[w.agent] != w.rows || !a.Time.Equal(w.time) {
					t.Errorf("agent %s: last %s (reason %d) at %v of %d rows, want %s (%d) at %v of %d", w.agent, a.State, a.ReasonCode, a.Time,
						n[w.agent], w.state, w.reason, w.time, w.rows)
				}
			}

			rows, err := n1b.Intervals(ctx, Filter{Kind: IntervalCallType, Name: "sales", Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var offered, handled, abandoned int64
			for _, r := range rows {
				offered, handled, abandoned = offered+r.Offered, handled+r.Handled, abandoned+r.Abandoned
			}
			// c1..c4 and c6 ended; c5 (node n2) and c7 (alive) have not.
			if offered != 5 || handled != 2 || abandoned != 0 {
				t.Errorf("sales intervals: offered %d handled %d abandoned %d, want 5, 2 (c1, c3), 0", offered, handled, abandoned)
			}

			// Again (a second restart, c7 still alive): nothing more to
			// close.
			o, err := n1b.CloseOrphans(ctx, time.Now(), func(id event.CallID) bool { return id == "c7" }, nil)
			if err != nil || o.Calls != 0 || o.Agents != 0 {
				t.Errorf("second recovery: %+v %v", o, err)
			}
			// Node n2's restart closes its own, and only those.
			o, err = n2.CloseOrphans(ctx, time.Now(), nil, nil)
			if err != nil || o.Calls != 1 || o.Agents != 1 {
				t.Errorf("node n2's recovery: %+v %v, want c5 and b1", o, err)
			}
		})
	}
}

func TestNodeID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node-id")
	id, err := NodeID(path)
	if err != nil || id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("first start: %q %v", id, err)
	}
	again, err := NodeID(path)
	if err != nil || again != id {
		t.Fatalf("second start: %q %v, want %q", again, err, id)
	}
	if err := os.WriteFile(path, []byte("cc-node-a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, err := NodeID(path); err != nil || id != "cc-node-a" {
		t.Fatalf("an administrator's name: %q %v", id, err)
	}
	for _, bad := range []string{"", "two words", strings.Repeat("x", 65)} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := NodeID(path); err == nil {
			t.Errorf("node id %q accepted", bad)
		}
	}
}
