package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report/reporttest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(t *testing.T) (StoreConfig, *Store)
}

// backends returns SQLite and a PostgreSQL cluster started for this test;
// each call of open gets a database of its own.
func backends(t *testing.T) []backend {
	pg := reporttest.StartPostgres(t, false)
	var mu sync.Mutex
	n := 0
	openCfg := func(t *testing.T, cfg StoreConfig) (StoreConfig, *Store) {
		s, err := Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return cfg, s
	}
	return []backend{
		{"sqlite", func(t *testing.T) (StoreConfig, *Store) {
			return openCfg(t, StoreConfig{Driver: DriverSQLite, Path: filepath.Join(t.TempDir(), "events.db"), Logger: quietLog()})
		}},
		{"postgres", func(t *testing.T) (StoreConfig, *Store) {
			mu.Lock()
			n++
			db := fmt.Sprintf("t%d", n)
			mu.Unlock()
			return openCfg(t, StoreConfig{Driver: DriverPostgres, DSN: pg.CreateDB(db), Logger: quietLog()})
		}},
	}
}

func newWriter(t *testing.T, s *Store, cfg WriterConfig) *Writer {
	t.Helper()
	if cfg.SpoolPath == "" {
		cfg.SpoolPath = filepath.Join(t.TempDir(), "spool")
	}
	cfg.Logger = quietLog()
	w, err := NewWriter(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ev(call string, k event.Kind) event.Event {
	return event.Event{Call: event.CallID(call), Kind: k, Leg: "leg-1", Code: 200, Reason: "OK", Peer: "sip:1000@example.com", Side: "callee"}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store))
	}{
		{"migrations are numbered and idempotent", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			cfg, s := open(t)
			v, err := s.SchemaVersion(ctx)
			if err != nil || v != migrations[len(migrations)-1].version {
				t.Fatalf("schema version %d, %v; want %d", v, err, migrations[len(migrations)-1].version)
			}
			s2, err := Open(ctx, cfg) // a second open must find nothing to do
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			s2.Close()
		}},
		{"group commit at BatchSize, then Flush", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{BatchSize: 100, BatchDelay: time.Hour})
			for i := 0; i < 250; i++ {
				w.Emit(ev(fmt.Sprintf("c%d", i), event.CallNew))
			}
			waitFor(t, "two full batches", func() bool { return w.Stats().Stored == 200 })
			if n := count(t, s); n != 200 {
				t.Fatalf("stored %d before Flush, want 200 (the third batch is not full)", n)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s); n != 250 {
				t.Fatalf("stored %d after Flush, want 250", n)
			}
		}},
		{"group commit at BatchDelay", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{BatchSize: 1000, BatchDelay: 20 * time.Millisecond})
			for i := 0; i < 5; i++ {
				w.Emit(ev("c", event.LegRinging))
			}
			waitFor(t, "the delayed batch", func() bool { return count(t, s) == 5 })
		}},
		{"duplicates are harmless", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{})
			e := ev("dup", event.CallNew)
			e.ID, e.Seq = "fixed-id", 1
			for i := 0; i < 3; i++ {
				w.Emit(e)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Insert(ctx, []event.Event{e, e}); err != nil {
				t.Fatalf("insert of a stored id: %v", err)
			}
			if n := count(t, s); n != 1 {
				t.Fatalf("stored %d, want 1", n)
			}
		}},
		{"a call's journey is in emission order", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{})
			kinds := []event.Kind{event.CallNew, event.CallRouted, event.LegNew, event.LegRinging, event.LegAnswered, event.CallAnswered, event.LegEnded, event.CallEnded}
			same := time.Unix(1700000000, 0) // equal times: only seq can order them
			for _, k := range kinds {
				for _, c := range []string{"a", "b", "c"} {
					e := ev(c, k)
					e.Time = same
					w.Emit(e)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"a", "b", "c"} {
				got, err := s.CallJourney(ctx, event.CallID(c))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(kinds) {
					t.Fatalf("call %s: %d events, want %d", c, len(got), len(kinds))
				}
				for i, e := range got {
					if e.Kind != kinds[i] || e.Seq != uint64(i+1) || !e.Time.Equal(same) || e.Call != event.CallID(c) || e.Peer != "sip:1000@example.com" || e.Code != 200 {
						t.Fatalf("call %s event %d: %+v, want kind %s seq %d", c, i, e, kinds[i], i+1)
					}
				}
			}
		}},
		{"concurrent emitters", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			// Concurrent emitters lose nothing and keep per-call order; a
			// queue that fills spills to the spool, which is replayed.
			w := newWriter(t, s, WriterConfig{BatchSize: 200, QueueSize: 256})
			const workers, per = 8, 400
			var wg sync.WaitGroup
			for g := 0; g < workers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						w.Emit(ev(fmt.Sprintf("call-%d", i%20), event.LegRinging)) // calls shared across goroutines
					}
				}()
			}
			wg.Wait()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s); n != workers*per {
				t.Fatalf("stored %d, want %d (stats %+v)", n, workers*per, w.Stats())
			}
			got, err := s.CallJourney(ctx, "call-7")
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range got {
				if e.Seq != uint64(i+1) {
					t.Fatalf("call-7 event %d has seq %d: sequence numbers must be 1..n without gaps", i, e.Seq)
				}
			}
		}},
		{"Close drains the queue and refuses later events", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{BatchSize: 1000, BatchDelay: time.Hour})
			for i := 0; i < 2500; i++ {
				w.Emit(ev("c", event.LegRinging))
			}
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s); n != 2500 {
				t.Fatalf("stored %d after Close, want 2500", n)
			}
			w.Emit(ev("c", event.LegEnded))
			if st := w.Stats(); st.Dropped != 1 {
				t.Fatalf("an Emit after Close: dropped %d, want 1", st.Dropped)
			}
		}},
		{"spool full is counted, not silent", func(t *testing.T, open func(t *testing.T) (StoreConfig, *Store)) {
			_, s := open(t)
			w := newWriter(t, s, WriterConfig{BatchSize: 10, SpoolMaxBytes: 4096, StoreTimeout: time.Second})
			s.Close() // the store is gone: every batch goes to the spool
			const n = 200
			for i := 0; i < n; i++ {
				w.Emit(ev("c", event.LegRinging))
			}
			err := w.Flush(ctx)
			if err == nil || !strings.Contains(err.Error(), ErrSpooled.Error()) {
				t.Fatalf("Flush with the store closed: %v, want ErrSpooled", err)
			}
			st := w.Stats()
			if st.Spooled == 0 || st.Dropped == 0 || st.Spooled+st.Dropped != n || !st.StoreDown || st.SpoolBytes > 4096 {
				t.Fatalf("stats %+v: want spooled+dropped = %d, both > 0, spool within 4096 bytes", st, n)
			}
		}},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, b.open) })
			}
		})
	}
}
