package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// A store that stalls (here: its write lock held, as a long checkpoint or
// a slow disk would) fills the queue; Emit must neither block nor drop:
// the overflow goes to the spool and is replayed once the store is back.
func TestFullQueueSpillsInsteadOfDropping(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			_, s := b.open(t)
			w := newWriter(t, s, WriterConfig{QueueSize: 16, BatchSize: 8, BatchDelay: time.Millisecond, StoreTimeout: 30 * time.Second})
			s.writeMu.Lock()
			const n = 2000
			start := time.Now()
			for i := 0; i < n; i++ {
				w.Emit(ev(fmt.Sprintf("c%d", i%50), event.LegRinging))
			}
			// Emit never waited for the stalled store (a generous bound: it
			// only fails if Emit blocks until the unlock below).
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("2000 Emits took %v with the store stalled", el)
			}
			waitFor(t, "the overflow to reach the spool", func() bool { st := w.Stats(); return st.Spooled > 0 })
			s.writeMu.Unlock()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := w.Stats()
			if st.Dropped != 0 || st.Overflowed == 0 || st.Emitted != n {
				t.Fatalf("stats %+v: want none dropped, some overflowed, all %d emitted", st, n)
			}
			if c := count(t, s); c != n {
				t.Fatalf("stored %d, want %d", c, n)
			}
		})
	}
}
