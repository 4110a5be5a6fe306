package report

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report/reporttest"
)

// TestPostgresOutage stops the real server under the writer: events go to
// the spool, and are replayed when it is back, also by a later writer.
func TestPostgresOutage(t *testing.T) {
	ctx := context.Background()
	pg := reporttest.StartPostgres(t, false)
	s, err := Open(ctx, StoreConfig{Driver: DriverPostgres, DSN: pg.CreateDB("outage"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spoolPath := filepath.Join(t.TempDir(), "spool")
	w := newWriter(t, s, WriterConfig{SpoolPath: spoolPath, RetryInterval: 50 * time.Millisecond, StoreTimeout: time.Second})
	emit := func(n int, call string) {
		for i := 0; i < n; i++ {
			w.Emit(ev(call, event.LegRinging))
		}
	}
	emit(100, "before")
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	pg.Stop()
	emit(500, "during")
	if err := w.Flush(ctx); !errors.Is(err, ErrSpooled) {
		t.Fatalf("Flush with the server down: %v, want ErrSpooled", err)
	}
	if st := w.Stats(); st.Spooled != 500 || !st.StoreDown || st.SpoolBytes == 0 || st.Dropped != 0 {
		t.Fatalf("stats while down: %+v, want 500 spooled, none dropped", st)
	}
	pg.Start()
	// The rows are committed a moment before the writer counts the replay:
	// wait for both.
	waitFor(t, "the spool replayed", func() bool {
		n, err := s.Count(ctx)
		st := w.Stats()
		return err == nil && n == 600 && st.Replayed == 500 && !st.StoreDown && st.SpoolBytes == 0
	})
	if st := w.Stats(); st.Replayed != 500 || st.StoreDown || st.SpoolBytes != 0 {
		t.Fatalf("stats after replay: %+v", st)
	}
	journey, err := s.CallJourney(ctx, "during")
	if err != nil || len(journey) != 500 || journey[499].Seq != 500 {
		t.Fatalf("journey of a spooled call: %d events, %v", len(journey), err)
	}

	// Down again and the writer closes: the spool outlives it and the next
	// writer replays it.
	pg.Stop()
	emit(50, "at-close")
	if err := w.Close(ctx); !errors.Is(err, ErrSpooled) {
		t.Fatalf("Close with the server down: %v, want ErrSpooled", err)
	}
	pg.Start()
	w2 := newWriter(t, s, WriterConfig{SpoolPath: spoolPath, RetryInterval: 50 * time.Millisecond})
	waitFor(t, "the next writer to replay", func() bool { n, err := s.Count(ctx); return err == nil && n == 650 })
	if err := w2.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSpoolTornTail: a record cut short by a crash mid-append is cut off
// on open; the records before it survive.
func TestSpoolTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	sp, err := openSpool(path, 1<<20, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	good := []event.Event{ev("a", event.CallNew), ev("a", event.CallEnded)}
	good[0].ID, good[1].ID = "1", "2"
	if err := sp.append(good); err != nil {
		t.Fatal(err)
	}
	size := sp.size
	sp.close()
	for name, tail := range map[string][]byte{
		"short header":  {0, 0},
		"short payload": {0, 0, 0, 50, 1, 2, 3, 4, '{'},
		"bad checksum":  {0, 0, 0, 2, 9, 9, 9, 9, '{', '}'},
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(tail)
			f.Close()
			sp, err := openSpool(path, 1<<20, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer sp.close()
			if sp.size != size {
				t.Fatalf("size %d after open, want %d (the torn tail cut off)", sp.size, size)
			}
			got, _, err := sp.next(10)
			if err != nil || len(got) != 2 || got[0].ID != "1" || got[1].Kind != event.CallEnded {
				t.Fatalf("records %+v, %v", got, err)
			}
		})
	}
}

// crashEnv names the SQLite path a re-executed test binary writes to
// before it is killed.
const crashEnv = "TANDEM_REPORT_CRASH_CHILD"

// TestCrashChild is the child of TestKill9: it emits forever, printing
// how many events each Flush acknowledged, until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKill9")
	}
	ctx := context.Background()
	s, err := Open(ctx, StoreConfig{Driver: DriverSQLite, Path: filepath.Join(dir, "events.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(s, WriterConfig{SpoolPath: filepath.Join(dir, "spool"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		w.Emit(ev(fmt.Sprintf("call-%d", n/10), event.LegRinging))
		if n%500 == 0 {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("acked %d\n", n)
		}
	}
}

// TestKill9: a process that Flush acknowledged N events to is killed with
// SIGKILL mid-stream; the store reopened holds at least N.
func TestKill9(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked, _ = strconv.Atoi(v)
			if acked >= 20000 {
				break
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 20000 {
		t.Fatalf("child acknowledged only %d events before it stopped", acked)
	}
	ctx := context.Background()
	s, err := Open(ctx, StoreConfig{Driver: DriverSQLite, Path: filepath.Join(dir, "events.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < int64(acked) {
		t.Fatalf("after kill -9: %d events stored, %d were acknowledged", n, acked)
	}
	t.Logf("acknowledged %d, found %d after kill -9", acked, n)
}
