package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/report/reporttest"
)

// TestKill9UnderLoadLosesNoCompletedCall builds the tandem binary, runs it
// on a temp data dir, drives SIPp calls at 150 calls/s through the router
// to a SIPp UAS, kills tandem with SIGKILL mid-load, starts it again on
// the same data dir, and checks that every call SIPp saw complete (200 to
// its BYE) is in the store, found by its SIP Call-ID; that the calls alive
// at the kill were closed at the restart (disposition node_restart), so
// no record is left in progress; and that the interval table counts every
// call offered. It runs on SQLite and on PostgreSQL.
func TestKill9UnderLoadLosesNoCompletedCall(t *testing.T) {
	need(t, "sipp")
	if testing.Short() {
		t.Skip("builds the binary and runs a load")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tandem")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tandem")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) {
		kill9UnderLoad(t, bin, report.StoreConfig{Driver: report.DriverSQLite})
	})
	t.Run("postgres", func(t *testing.T) {
		pg := reporttest.StartPostgres(t, true)
		kill9UnderLoad(t, bin, report.StoreConfig{Driver: report.DriverPostgres, DSN: pg.CreateDB("tandem")})
	})
}

func kill9UnderLoad(t *testing.T, bin string, store report.StoreConfig) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if store.Driver == report.DriverSQLite {
		store.Path = filepath.Join(dataDir, "events.db")
	}
	reportCfg := fmt.Sprintf("{driver: %s, dsn: %q}", store.Driver, store.DSN)
	uasPort, sipPort, ctiPort, ivrPort := freePort(t), freePort(t), freePort(t), freePort(t)
	startUAS(t, uasPort, "")
	cfgPath := filepath.Join(dir, "tandem.yaml")
	cfg := fmt.Sprintf(`
data_dir: %s
sip:
  listen: [{transport: udp, address: "127.0.0.1:%d"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups:
  - name: uas
    heartbeat: {enabled: false}
    destinations: [{address: "127.0.0.1:%d"}]
dial_plan: [{pattern: "9000", server_group: uas}]
cti: {listen: "127.0.0.1:%d"}
ivr: {listen: "127.0.0.1:%d"}
console: {listen: "off"}
metrics: {listen: ""}
report: %s
router:
  dialed_numbers: [{number: "4000", call_type: load}]
  call_types: [{name: load, script: load}]
  labels: [{name: uas, kind: server_group, value: "9000"}]
  scripts:
    - name: load
      nodes:
        - {id: s, type: start, next: l}
        - {id: l, type: label, labels: [uas]}
`, dataDir, sipPort, uasPort, ctiPort, ivrPort, reportCfg)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(name string) *exec.Cmd {
		t.Helper()
		out, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "-c", cfgPath)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); out.Close(); close(done) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-done
		})
		// Up when the CTI listener answers (it opens after the store).
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1/agents", ctiPort))
			if err == nil {
				res.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(dir, name+".log"))
				t.Fatalf("tandem (%s) did not come up: %v\n%s", name, err, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	first := start("first")

	// 150 calls/s, each held 200 ms then hung up by the caller; up to
	// 1500 calls, cut short by the kill.
	msgs := filepath.Join(dir, "uac-messages.log")
	uac := startSIPp(t, "127.0.0.1:"+strconv.Itoa(sipPort), "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sn", "uac", "-s", "4000",
		"-r", "150", "-m", "1500", "-d", "200", "-timeout", "20s", "-trace_msg", "-message_file", msgs)
	time.Sleep(3 * time.Second) // load runs; this is the kill's moment, not a synchronisation
	killedAt := time.Now()
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// SIPp's in-flight calls time out against the dead port; stop it.
	time.Sleep(500 * time.Millisecond)
	_ = syscall.Kill(-uac.cmd.Process.Pid, syscall.SIGKILL)
	uac.wait(10 * time.Second)

	completed := completedCalls(t, msgs)
	if len(completed) < 100 {
		t.Fatalf("only %d calls completed before the kill: the load did not run (see %s)", len(completed), msgs)
	}

	// Start again on the same data dir (the spool, if any, replays), then
	// stop cleanly so every record is derived, and read the store.
	second := start("second")
	second.Process.Signal(syscall.SIGTERM)
	waitExit(t, second, 30*time.Second)
	s, err := report.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	legs, err := s.TCDs(context.Background(), report.Filter{Limit: report.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]report.TCD{}
	for _, l := range legs {
		if l.LegKind == "caller" {
			stored[l.Data.SIPCallID] = l
		}
	}
	missing, notEnded := 0, 0
	for id, doneAt := range completed {
		c, ok := stored[id]
		if !ok {
			missing++
			t.Errorf("completed call %s (BYE answered %v before the kill) is not in the store", id, killedAt.Sub(doneAt))
			continue
		}
		// A call whose BYE was answered a second before the kill had all
		// the time in the world to be committed (batches commit within
		// 10 ms): its end must be there too.
		if killedAt.Sub(doneAt) > time.Second && c.Disposition != "answered" {
			notEnded++
			t.Errorf("call %s completed %v before the kill but its record says %q", id, killedAt.Sub(doneAt), c.Disposition)
		}
	}
	// The calls alive at the kill: closed at the restart, as no process
	// owns them any more. Nothing is left in progress.
	closed := 0
	for _, l := range legs {
		switch {
		case l.Disposition == "in_progress":
			t.Errorf("call %s leg %s is still in progress after the restart", l.Call, l.Leg)
		case l.LegKind == "caller" && l.Disposition == string(report.OutcomeNodeRestart):
			closed++
			if l.End.IsZero() || l.End.After(killedAt.Add(time.Second)) {
				t.Errorf("call %s closed at %v, want the last moment the killed run was seen (killed at %v)", l.Call, l.End, killedAt)
			}
		}
	}
	if closed == 0 {
		t.Errorf("no call closed with disposition node_restart: none was alive at the kill? (%d caller records)", len(stored))
	}
	// Every caller record is offered once in the interval table.
	rows, err := s.Intervals(context.Background(), report.Filter{Kind: report.IntervalCallType, Name: "load", Limit: report.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var offered int64
	for _, r := range rows {
		offered += r.Offered
	}
	if offered != int64(len(stored)) {
		t.Errorf("intervals count %d calls offered, the store holds %d caller records", offered, len(stored))
	}
	t.Logf("%d calls completed before the kill, %d caller records stored (calls in flight included), %d missing, %d without their end, %d closed at the restart (node_restart), %d offered in the intervals",
		len(completed), len(stored), missing, notEnded, closed, offered)
}

// completedCalls reads SIPp's message trace: the Call-IDs of calls whose
// BYE got a 200, with the time it was received.
func completedCalls(t *testing.T, path string) map[string]time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sipp message trace: %v", err)
	}
	out := map[string]time.Time{}
	callID := regexp.MustCompile(`(?mi)^Call-ID:\s*(\S+)`)
	cseq := regexp.MustCompile(`(?mi)^CSeq:\s*\d+\s+BYE`)
	stamp := regexp.MustCompile(`^-+ (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)`)
	var when time.Time
	for _, block := range strings.Split(string(b), "\n----") {
		block = "----" + block
		if m := stamp.FindStringSubmatch(block); m != nil {
			if ts, err := time.ParseInLocation("2006-01-02 15:04:05.000000", m[1], time.Local); err == nil {
				when = ts
			}
		}
		if !strings.Contains(block, "message received") || !strings.Contains(block, "SIP/2.0 200") || !cseq.MatchString(block) {
			continue
		}
		if when.IsZero() {
			t.Fatalf("sipp message trace: no time stamp read before %.80q", block)
		}
		if m := callID.FindStringSubmatch(block); m != nil {
			out[m[1]] = when
		}
	}
	return out
}

func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tandem pid %d did not stop after SIGTERM", cmd.Process.Pid)
}
