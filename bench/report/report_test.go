// Package report benchmarks the durable event store: events/s persisted
// with group commit through the real schema, with the records (TCD, RCD,
// intervals) derived as they go, SQLite (WAL, synchronous=FULL) and
// PostgreSQL (fsync and synchronous_commit on).
//
//	go test -run '^$' -bench . -benchtime 200000x ./bench/report/
//	BATCH=5000 go test -run '^$' -bench . -benchtime 200000x ./bench/report/
//	QUEUE=262144 go test -run '^$' -bench SQLite -benchtime 160000x ./bench/report/
//	CACHE=-1 go test -run '^$' -bench SQLite -benchtime 160000x ./bench/report/
package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/report/reporttest"
)

func BenchmarkWriterSQLite(b *testing.B) {
	run(b, report.StoreConfig{Driver: report.DriverSQLite, Path: filepath.Join(b.TempDir(), "events.db")})
}

func BenchmarkWriterPostgres(b *testing.B) {
	pg := reporttest.StartPostgres(b, true)
	run(b, report.StoreConfig{Driver: report.DriverPostgres, DSN: pg.CreateDB("bench")})
}

// callEvents is one call as the roles emit it: 16 events, from the
// INVITE through routing, queue, offer, answer and hang-up to the end of
// the agent's wrap-up, so every call derives a caller and an agent TCD, an
// RCD and interval rows for its call type, skill group and agent.
func callEvents(call event.CallID, agent event.AgentID, t time.Time) []event.Event {
	at := func(ms int) time.Time { return t.Add(time.Duration(ms) * time.Millisecond) }
	return []event.Event{
		{Kind: event.CallNew, Call: call, Time: at(0), Leg: "in", Peer: "sip:gw@10.0.0.1", Reason: "dnis=3000 ani=5551234"},
		{Kind: event.RouteRequest, Call: call, Time: at(1), CallType: "sales", Script: "sales", Data: &event.Data{ANI: "5551234", DNIS: "3000", SIPCallID: string(call) + "@10.0.0.1"}},
		{Kind: event.QueueEnter, Call: call, Time: at(1), CallType: "sales", Queue: "sales"},
		{Kind: event.RouteDecision, Call: call, Time: at(1), CallType: "sales", Script: "sales", Node: "s>q>music", Reason: "run_script", Target: "PM,music"},
		{Kind: event.CallRouted, Call: call, Time: at(2), Reason: "labels=7777"},
		{Kind: event.QueueLeave, Call: call, Time: at(4000), CallType: "sales", Queue: "sales", Reason: "offered"},
		{Kind: event.AgentOffer, Call: call, Time: at(4000), CallType: "sales", Agent: agent, Queue: "sales", Target: "1001"},
		{Kind: event.LegNew, Call: call, Time: at(4001), Leg: "out", Peer: "sip:1001@10.0.0.2"},
		{Kind: event.LegRinging, Call: call, Time: at(4010), Leg: "out", Code: 180},
		{Kind: event.LegAnswered, Call: call, Time: at(7000), Leg: "out", Code: 200},
		{Kind: event.AgentAnswered, Call: call, Time: at(7000), CallType: "sales", Agent: agent, Queue: "sales"},
		{Kind: event.LegEnded, Call: call, Time: at(60000), Leg: "out", Reason: "BYE"},
		{Kind: event.AgentCallEnd, Call: call, Time: at(60000), CallType: "sales", Agent: agent, Queue: "sales", Reason: "hung up"},
		{Kind: event.CallEnded, Call: call, Time: at(60000), Outcome: event.OutcomeAnswered, Reason: "BYE"},
		{Kind: event.CallData, Call: call, Time: at(60000), CallType: "sales", Data: &event.Data{ANI: "5551234", DNIS: "3000"}},
		{Kind: event.AgentWrapUp, Call: call, Time: at(75000), Agent: agent, ReasonCode: 3},
	}
}

const eventsPerCall = 16

// run emits b.N events (b.N/16 whole calls) from 4 goroutines (roles on
// several calls at once) and counts the time until Flush acknowledges
// them all as committed and every call's records as derived.
func run(b *testing.B, cfg report.StoreConfig) {
	ctx := context.Background()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := report.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Under load batches fill long before BatchDelay; a larger batch than
	// the default spends one fsync on more events (see the figures).
	batchSize := report.DefaultBatchSize
	if v, err := strconv.Atoi(os.Getenv("BATCH")); err == nil {
		batchSize = v
	}
	// QUEUE sizes the in-memory queue; the default (65,536) overflows to
	// the spool when emitters outrun the store, as they do here.
	queue, _ := strconv.Atoi(os.Getenv("QUEUE"))
	// CACHE bounds the events the writer keeps to derive records from
	// memory (default report.DefaultCacheEvents); CACHE=-1 reads every
	// call's events back from the store, as before the cache.
	cache, _ := strconv.Atoi(os.Getenv("CACHE"))
	w, err := report.NewWriter(s, report.WriterConfig{SpoolPath: filepath.Join(b.TempDir(), "spool"), BatchSize: batchSize, QueueSize: queue,
		CacheEvents: cache, Logger: cfg.Logger})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close(ctx)
	const emitters = 4
	calls := max(b.N/eventsPerCall, 1)
	n := calls * eventsPerCall
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	for g := 0; g < emitters; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g; i < calls; i += emitters {
				for _, e := range callEvents(event.CallID(fmt.Sprintf("call-%d", i)), event.AgentID(fmt.Sprintf("agent-%d", i%200)),
					t0.Add(time.Duration(i)*time.Millisecond)) {
					w.Emit(e)
				}
			}
		}()
	}
	for g := 0; g < emitters; g++ {
		<-done
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	st := w.Stats()
	if st.Dropped != 0 || st.Stored+st.Replayed != uint64(n) {
		b.Fatalf("stats %+v: want all %d stored, none dropped", st, n)
	}
	stored, err := s.Count(ctx)
	if err != nil || stored != int64(n) {
		b.Fatalf("count %d, %v; want %d", stored, err, n)
	}
	iv, err := s.Intervals(ctx, report.Filter{Kind: report.IntervalCallType, Limit: report.MaxLimit})
	if err != nil || report.Sum(iv).Handled != int64(calls) {
		b.Fatalf("call-type intervals hold %d handled calls (%v), want %d: records not up to date", report.Sum(iv).Handled, err, calls)
	}
	rate := float64(n) / el.Seconds()
	b.ReportMetric(rate, "events/s")
	fmt.Printf("%s: %d events (%d calls) stored with their records in %v: %.0f events/s, %.0f calls/s; overflowed to the spool %d\n",
		s.Driver(), n, calls, el.Round(time.Millisecond), rate, float64(calls)/el.Seconds(), st.Overflowed)
}
