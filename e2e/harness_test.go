// Package e2e runs tandem against real SIP peers (SIPp) over loopback.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/callserver"
	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/event"
	tnode "github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// need skips the test when a peer program is missing, except under CI,
// where the test command installs it and its absence is a failure.
func need(t *testing.T, prog string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (the test command installs it)", prog)
		}
		t.Skipf("%s is not installed", prog)
	}
}

// freePort returns a UDP port free on 127.0.0.1 that is also free for TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// node is a tandem running in the test process on real sockets.
type node struct {
	*tnode.Node
	edge   *sipedge.Edge
	cs     *callserver.Server
	engine *router.Engine // nil with the static routing table
	events *event.Recorder
	addr   string // UDP host:port
	port   int
	cti    string // CTI API host:port, when the config has a router
}

// startTandem runs tandem on the YAML config text; "SIPPORT" in it is
// replaced by a free port. Metrics are off and the CTI API listens on a
// free port.
func startTandem(t *testing.T, yaml string) *node {
	t.Helper()
	port := freePort(t)
	yaml = strings.ReplaceAll(yaml, "SIPPORT", strconv.Itoa(port))
	cfg, err := config.Parse(t.Name()+".yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return startNode(t, cfg, port)
}

// startDemo starts the demo contact center of config.Default() (dial 1000)
// with every port moved to a free one.
func startDemo(t *testing.T, edit ...func(*config.Config)) *node {
	t.Helper()
	cfg := config.Default()
	for _, f := range edit {
		f(cfg)
	}
	port := freePort(t)
	for i := range cfg.SIP.Listen {
		cfg.SIP.Listen[i].Address = "127.0.0.1:" + strconv.Itoa(port)
	}
	gw := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.VXMLGateway.Listen = gw
	for i := range cfg.ServerGroups {
		if cfg.ServerGroups[i].Name == "vxml" {
			cfg.ServerGroups[i].Destinations[0].Address = gw
		}
	}
	cfg.IVR.Listen = "127.0.0.1:0"
	// The conference bridge too, so two demo nodes never meet on a port.
	bridge := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.Conference.Listen = bridge
	for i := range cfg.ServerGroups {
		if cfg.ServerGroups[i].Name == "conference" {
			cfg.ServerGroups[i].Destinations[0].Address = bridge
		}
	}
	return startNode(t, cfg, port)
}

// startNode runs cfg in process with its data in a temporary folder, no
// metrics listener and CTI on a free port; port is its SIP port.
func startNode(t *testing.T, cfg *config.Config, port int) *node {
	t.Helper()
	var err error
	cfg.DataDir = t.TempDir()
	cfg.Metrics.Listen = ""
	cfg.CTI.Listen = "127.0.0.1:0"
	if cfg.Console.Listen != "off" {
		cfg.Console.Listen = "127.0.0.1:0"
	}
	if cfg.IVR.Listen == "127.0.0.1:8081" { // the default: take a free port
		cfg.IVR.Listen = "127.0.0.1:0"
	}
	cfg.CallServer.DrainTimeout = config.Duration(2 * time.Second)
	lv := slog.LevelWarn
	if os.Getenv("TANDEM_TEST_LOG") != "" {
		lv = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: lv}))
	n := &node{events: &event.Recorder{}, port: port}
	n.Node, err = tnode.New(cfg, tnode.Deps{Log: log, Events: n.events})
	if err != nil {
		t.Fatal(err)
	}
	n.edge, n.cs, n.engine = n.Edge, n.Calls, n.Engine
	n.addr = n.edge.Addr("udp")
	n.cti = n.CTIAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Error("tandem did not stop")
		}
	})
	return n
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// scenario writes testdata/name with {{KEY}} placeholders filled in and
// returns its path.
func scenario(t *testing.T, name string, kv ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{{"+kv[i]+"}}", kv[i+1])
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sipp is one SIPp process.
type sipp struct {
	t    *testing.T
	cmd  *exec.Cmd
	dir  string
	done chan struct{} // closed when SIPp exits
	err  error
}

// startSIPp starts SIPp with args (plus its control port, no stdin and
// statistics in its own folder) and stops it when the test ends.
func startSIPp(t *testing.T, args ...string) *sipp {
	t.Helper()
	need(t, "sipp")
	dir := t.TempDir()
	all := append([]string{}, args...)
	all = append(all, "-nostdin", "-cp", strconv.Itoa(freePort(t)), "-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd := exec.Command("sipp", all...)
	cmd.Dir = dir
	// Output goes to a file, not a pipe: a pipe makes Wait hang on
	// whatever still holds its write end.
	out, err := os.Create(filepath.Join(dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sipp{t: t, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				t.Errorf("sipp pid %d did not die", cmd.Process.Pid)
			}
		}
	})
	return s
}

// output returns what SIPp printed.
func (s *sipp) output() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "out.txt"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startUAS starts a SIPp UAS on port with the built-in scenario (name "")
// or a scenario file, and waits until its socket is bound.
func startUAS(t *testing.T, port int, scenarioFile string, extra ...string) *sipp {
	t.Helper()
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}
	if scenarioFile == "" {
		args = append(args, "-sn", "uas")
	} else {
		args = append(args, "-sf", scenarioFile)
	}
	s := startSIPp(t, append(args, extra...)...)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return s // bound by SIPp
		}
		pc.Close()
		select {
		case <-s.done:
			t.Fatalf("sipp uas exited: %v\n%s", s.err, s.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("sipp uas did not bind port %d", port)
	return nil
}

// runUAC runs a SIPp UAC to completion (bounded) and returns its counts.
func runUAC(t *testing.T, target string, args ...string) (ok, failed int) {
	t.Helper()
	all := append([]string{target, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-timeout", "20s", "-timeout_error"}, args...)
	s := startSIPp(t, all...)
	select {
	case <-s.done:
	case <-time.After(90 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatalf("sipp uac did not finish\n%s", s.output())
	}
	return s.counts()
}

// wait waits for SIPp to exit by itself.
func (s *sipp) wait(d time.Duration) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("sipp did not finish in %s", d)
	}
}

// counts reads the successful and failed call counters of the last line of
// the statistics file.
func (s *sipp) counts() (ok, failed int) {
	s.t.Helper()
	f, err := os.Open(filepath.Join(s.dir, "stat.csv"))
	if err != nil {
		s.t.Fatalf("sipp wrote no statistics: %v\n%s", err, s.output())
	}
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), ";")
		if header == nil {
			header = cols
			continue
		}
		last = cols
	}
	for i, h := range header {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			ok, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			failed, _ = strconv.Atoi(last[i])
		}
	}
	if failed > 0 || ok == 0 {
		s.t.Logf("sipp output:\n%s", s.output())
		if b, err := os.ReadFile(filepath.Join(s.dir, "errors.log")); err == nil {
			s.t.Logf("sipp errors:\n%.3000s", b)
		}
	}
	return ok, failed
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countKind(evs []event.Event, k event.Kind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func outcomes(evs []event.Event) map[event.Outcome]int {
	m := map[event.Outcome]int{}
	for _, e := range evs {
		if e.Kind == event.CallEnded {
			m[e.Outcome]++
		}
	}
	return m
}
