// Package report benchmarks the durable event store: events/s persisted
// with group commit through the real schema, SQLite (WAL,
// synchronous=FULL) and PostgreSQL (fsync and synchronous_commit on).
//
//	go test -run '^$' -bench . -benchtime 200000x ./bench/report/
//	BATCH=5000 go test -run '^$' -bench . -benchtime 200000x ./bench/report/
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

// run emits b.N events of 2,000-ish calls from 4 goroutines (roles on
// several calls at once) and counts the time until Flush acknowledges
// them all as committed.
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
	w, err := report.NewWriter(s, report.WriterConfig{SpoolPath: filepath.Join(b.TempDir(), "spool"), BatchSize: batchSize, Logger: cfg.Logger})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close(ctx)
	const emitters = 4
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	for g := 0; g < emitters; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g; i < b.N; i += emitters {
				w.Emit(event.Event{Call: event.CallID(fmt.Sprintf("call-%d", i%2000)), Kind: event.LegRinging,
					Leg: "leg-1", Code: 180, Reason: "Ringing", Peer: "sip:1000@10.0.0.1", Side: "callee"})
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
	if st.Dropped != 0 || st.Stored != uint64(b.N) {
		b.Fatalf("stats %+v: want all %d stored directly, none dropped", st, b.N)
	}
	n, err := s.Count(ctx)
	if err != nil || n != int64(b.N) {
		b.Fatalf("count %d, %v; want %d", n, err, b.N)
	}
	rate := float64(b.N) / el.Seconds()
	b.ReportMetric(rate, "events/s")
	fmt.Printf("%s: %d events in %v: %.0f events/s\n", s.Driver(), b.N, el.Round(time.Millisecond), rate)
}
