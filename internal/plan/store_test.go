package plan

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
)

// TestFromStore records a known day into a real SQLite report store
// through report's own Writer (events as the call server and router emit
// them) and reads it back as a plan: calls per interval, talk means,
// patience, key shares and staffing.
func TestFromStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := report.Open(ctx, report.StoreConfig{Driver: report.DriverSQLite, Path: filepath.Join(dir, "tandem.db"),
		Records: report.RecordConfig{Interval: 15 * time.Minute}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := report.NewWriter(st, report.WriterConfig{SpoolPath: filepath.Join(dir, "events.spool"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return from.Add(time.Duration(s) * time.Second) }
	// Agent a1 (skill group sales) is logged in and ready for the first
	// interval only.
	w.Emit(event.Event{Kind: event.AgentState, Time: at(0), Agent: "a1", State: "not_ready"})
	w.Emit(event.Event{Kind: event.AgentState, Time: at(1), Agent: "a1", State: "ready"})
	w.Emit(event.Event{Kind: event.AgentState, Time: at(900), Agent: "a1", State: "logged_out"})
	// Twenty calls, one a minute: fifteen in the first quarter hour, five
	// in the second. Every fifth abandons after 30 s in queue; the others
	// wait 10 s and talk 100+i s. The menu: an error for the first, then
	// 1 and 2 by turns.
	var talk [2]float64
	var talkN [2]int
	for i := 0; i < 20; i++ {
		id := event.CallID(fmt.Sprintf("c%d", i))
		t0 := i * 60
		e := func(s int, k event.Kind, f func(*event.Event)) {
			ev := event.Event{Call: id, Time: at(t0 + s), Kind: k, CallType: "demo"}
			if f != nil {
				f(&ev)
			}
			w.Emit(ev)
		}
		e(0, event.CallNew, nil)
		e(0, event.RouteRequest, func(ev *event.Event) { ev.Data = &event.Data{ANI: "555", DNIS: "1000"} })
		e(2, event.IVRResult, func(ev *event.Event) {
			ev.Script, ev.Reason, ev.Target = "M,-,12", "ok", fmt.Sprintf("caller_input=%d", 1+i%2)
			if i == 0 {
				ev.Reason, ev.Target = "error", ""
			}
		})
		e(5, event.QueueEnter, func(ev *event.Event) { ev.Queue = "sales" })
		if i%5 == 4 {
			e(35, event.QueueLeave, func(ev *event.Event) { ev.Queue, ev.Reason = "sales", "abandoned" })
			e(35, event.CallEnded, func(ev *event.Event) { ev.Outcome = event.OutcomeAbandoned })
			continue
		}
		ag := func(ev *event.Event) { ev.Agent, ev.Queue = "a1", "sales" }
		e(15, event.QueueLeave, func(ev *event.Event) { ev.Queue, ev.Reason = "sales", "offered" })
		e(15, event.AgentOffer, ag)
		e(15, event.AgentAnswered, ag)
		e(15+100+i, event.AgentCallEnd, ag)
		e(15+100+i, event.CallEnded, func(ev *event.Event) { ev.Outcome = event.OutcomeAnswered })
		e(15+100+i, event.AgentWrapUp, ag)
		talk[i/15] += float64(100 + i)
		talkN[i/15]++
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := FromStore(ctx, st, from, 15*time.Minute, 4)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Calls != 20 || rec.Answered != 16 || rec.Abandoned != 4 {
		t.Errorf("calls %d answered %d abandoned %d, want 20 16 4", rec.Calls, rec.Answered, rec.Abandoned)
	}
	if len(rec.Traffic) != 1 || rec.Traffic[0].DNIS != "1000" {
		t.Fatalf("traffic %+v, want one entry for 1000", rec.Traffic)
	}
	tr := rec.Traffic[0]
	if fmt.Sprint(tr.Calls) != "[15 5 0 0]" {
		t.Errorf("calls per interval %v, want [15 5 0 0]", tr.Calls)
	}
	for i := 0; i < 2; i++ {
		if got, want := tr.TalkMeans[i].D().Seconds(), talk[i]/float64(talkN[i]); math.Abs(got-want) > 1e-6 {
			t.Errorf("interval %d: talk mean %v s, want %v", i, got, want)
		}
	}
	// Patience: 16 callers waited 10 s, 4 waited 30 s and hung up.
	if tr.Patience == nil || tr.Patience.Kind != DistExponential || tr.Patience.Mean.D() != 70*time.Second {
		t.Errorf("patience %+v, want exponential with mean 70s", tr.Patience)
	}
	if len(rec.IVR) != 1 || rec.IVR[0].VRUScript != "M,-,12" {
		t.Fatalf("IVR %+v", rec.IVR)
	}
	if k := rec.IVR[0].Keys; k[KeyError] != 1 || k["1"] != 9 || k["2"] != 10 {
		t.Errorf("key counts %v, want error 1, 1: 9, 2: 10", k)
	}
	teams, err := Staffing(ctx, st, map[string][]string{"a1": {"sales"}}, from, 15*time.Minute, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(teams) != 1 || teams[0].Name != "sales" || fmt.Sprint(teams[0].Agents) != "[1 0 0 0]" {
		t.Errorf("staffing %+v, want sales: [1 0 0 0]", teams)
	}
	// And the recorded day plans.
	var spec Spec
	rec.Apply(&spec)
	spec.Teams = teams
	spec.Start = from
	if _, err := Run(demoDoc(), spec, Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
}
