// Command flow is the whole-flow benchmark of tandem: SIPp callers go
// through the demo contact center's flow (IVR menu at the built-in VoiceXML
// gateway, one RFC 4733 key, queue, agent reserved, the agent's phone rung,
// the caller moved off the VRU with a re-INVITE, talk, BYE) at rising call
// rates, answered by SIPp agent phones. It prints, per rate, the calls
// offered, completed and failed, SIPp's retransmissions, tandem's CPU and
// memory and the peak numbers of callers in the IVR and in queue, then the
// highest rate with no failed call and a CPU profile of tandem there.
//
//	go run ./bench/flow                               # 50,100,200,300,400 calls/s, 20 s each
//	go run ./bench/flow -rates 300 -step 30s -report off
//
// It builds tandem from this working tree (or runs -tandem), writes a config
// (the demo's router document with -agents agents, all in both skill groups,
// each registered through one SIPp UAS), starts everything on free loopback
// ports and stops every process it started when it ends, on error or on
// Ctrl-C. See bench/flow/README.md for what each column means. It is a
// benchmark: it prints figures and never judges them.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed caller.xml
var callerXML string

//go:embed register.xml
var registerXML string

//go:embed agent.xml
var agentXML string

// pcapDir holds the RTP pcaps Debian's sip-tester ships (DTMF and G.711).
const pcapDir = "/usr/share/sip-tester"

type options struct {
	rates      []int
	step       time.Duration
	agents     int
	talk       time.Duration
	ivr        time.Duration
	key        string
	audio      string
	wrapUp     time.Duration
	report     string
	tandem     string
	rev        string
	keep       string
	logLevel   string
	sample     time.Duration
	profSecs   int
	goOn       bool
	heap       bool
	settle     time.Duration
	dialed     string
	drainLimit time.Duration
}

func main() { os.Exit(run()) }

func run() int {
	var o options
	rates := flag.String("rates", "50,100,200,300,400", "call rates (calls/s) tried in turn")
	flag.DurationVar(&o.step, "step", 20*time.Second, "how long calls are started at each rate")
	flag.IntVar(&o.agents, "agents", 1000, "agents (each logged in, ready, in both skill groups, its extension registered)")
	flag.DurationVar(&o.talk, "talk", time.Second, "talk time: from the caller's move to the agent to its BYE")
	flag.DurationVar(&o.ivr, "ivr", 2*time.Second, "how long the caller hears the menu before its key (barge-in)")
	flag.StringVar(&o.key, "key", "1", "the key the caller presses: 1 (sales) or 2 (support)")
	flag.StringVar(&o.audio, "audio", "none", "caller RTP while it hears the menu: none (only the key's RFC 4733 packets) or pcap (SIPp plays g711a.pcap, cut at the key)")
	flag.DurationVar(&o.wrapUp, "wrap-up", 0, "router wrap_up (0: agents are ready again as soon as the call ends)")
	flag.StringVar(&o.report, "report", "sqlite", "report.driver: sqlite (the default store) or off")
	flag.StringVar(&o.tandem, "tandem", "", "tandem binary to run (default: go build ./cmd/tandem from this module's working tree); it must match the tree's internal/config/demo.yaml")
	flag.StringVar(&o.rev, "rev", "", "build tandem from this git revision (git archive), untouched by uncommitted edits, and take the demo router document from it")
	flag.StringVar(&o.keep, "keep", "", "copy the run's files (config, logs, SIPp statistics and errors, profiles) to this folder")
	flag.StringVar(&o.logLevel, "log-level", "warn", "tandem's log level")
	flag.DurationVar(&o.sample, "sample", 500*time.Millisecond, "how often tandem's gauges are read during a step")
	flag.IntVar(&o.profSecs, "profile", 10, "seconds of CPU profile taken in each step (0: none)")
	flag.BoolVar(&o.heap, "heap", true, "print tandem's heap in use after the run")
	flag.DurationVar(&o.settle, "settle", 40*time.Second, "idle time before the heap is read (past sipgo's 32 s transaction timers)")
	flag.BoolVar(&o.goOn, "continue", false, "go on to higher rates after a step with failed calls")
	flag.DurationVar(&o.drainLimit, "drain", 60*time.Second, "how long to wait after a step for calls to end and agents to be ready")
	flag.Parse()
	o.dialed = "1000"
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			fmt.Fprintf(os.Stderr, "flow: -rates: %q is not a positive number\n", f)
			return 2
		}
		o.rates = append(o.rates, r)
	}
	switch {
	case o.key != "1" && o.key != "2":
		fmt.Fprintln(os.Stderr, "flow: -key: want 1 or 2")
		return 2
	case o.audio != "none" && o.audio != "pcap":
		fmt.Fprintln(os.Stderr, "flow: -audio: want none or pcap")
		return 2
	case o.report != "sqlite" && o.report != "off":
		fmt.Fprintln(os.Stderr, "flow: -report: want sqlite or off")
		return 2
	case o.agents < 1 || o.agents > 90000:
		fmt.Fprintln(os.Stderr, "flow: -agents: want 1 to 90000")
		return 2
	case o.step < 2*time.Second:
		fmt.Fprintln(os.Stderr, "flow: -step: want at least 2s")
		return 2
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		fmt.Fprintln(os.Stderr, "flow: sipp not found (Debian: apt-get install sip-tester)")
		return 1
	}
	if _, err := os.Stat(filepath.Join(pcapDir, "dtmf_2833_"+o.key+".pcap")); err != nil {
		fmt.Fprintf(os.Stderr, "flow: SIPp's pcaps are missing (%v): apt-get install sip-tester\n", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opt: o}
	err := b.run(ctx)
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flow:", err)
		return 1
	}
	return 0
}

// bench is one run: its folder, ports, processes and clients.
type bench struct {
	opt  options
	dir  string
	bin  string
	src  string // the source tandem is built from (its demo.yaml is read)
	port struct {
		sip, gw, ivr, cti, console, metrics int
		uas, uasMedia, uasCtl               int
		uac, uacMedia, uacCtl               int
		reg, regCtl                         int
	}
	mu    sync.Mutex
	procs []*proc // every process started, stopped by cleanup

	tandem, uas *proc
	web         *http.Client // CTI and metrics
	console     *http.Client // with the admin's session cookie
	supToken    string
	tokens      []string // each agent's CTI token, by index
	rows        []row
}

func (b *bench) run(ctx context.Context) error {
	var err error
	if b.dir, err = os.MkdirTemp("", "tandem-bench-flow-"); err != nil {
		return err
	}
	b.web = &http.Client{Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	b.console = &http.Client{Timeout: 5 * time.Second, Jar: jar}

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	b.src = root
	if b.opt.rev != "" {
		// A committed revision, built apart from the working tree that
		// others may be editing.
		b.src = filepath.Join(b.dir, "src")
		if err := os.MkdirAll(b.src, 0o755); err != nil {
			return err
		}
		archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, b.opt.rev, b.src)
		if out, err := archive.CombinedOutput(); err != nil {
			return fmt.Errorf("git archive %s: %w\n%s", b.opt.rev, err, out)
		}
	}
	if b.bin = b.opt.tandem; b.bin == "" {
		b.bin = filepath.Join(b.dir, "tandem")
		what := gitDescribe(root)
		if b.opt.rev != "" {
			what = b.opt.rev + " = " + gitRev(root, b.opt.rev)
		}
		fmt.Printf("# building tandem (%s)\n", what)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/tandem")
		cmd.Dir, cmd.Stdout, cmd.Stderr = b.src, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build tandem: %w", err)
		}
	}
	if err := b.pickPorts(); err != nil {
		return err
	}
	if err := b.writeFiles(); err != nil {
		return err
	}
	o := b.opt
	fmt.Printf("# tandem whole-flow benchmark, %s, %d cores, load %s\n", time.Now().UTC().Format(time.RFC3339), numCPU(), loadavg())
	fmt.Printf("# flow: dial %s -> VRU menu (caller listens %s, audio %s) -> key %s (RFC 4733) -> queue -> agent rung -> re-INVITE move -> talk %s -> caller BYE\n",
		o.dialed, o.ivr, o.audio, o.key, o.talk)
	fmt.Printf("# %d agents (one SIPp UAS), wrap_up %s, report.driver %s, log %s; %s of calls per rate\n",
		o.agents, o.wrapUp, o.report, o.logLevel, o.step)

	if err := b.startTandem(ctx); err != nil {
		return err
	}
	if err := b.startAgents(ctx); err != nil {
		return err
	}
	fmt.Printf("# tandem pid %d, sip udp 127.0.0.1:%d; %d agents registered, logged in and ready; RSS %.1f MB\n",
		b.tandem.pid(), b.port.sip, o.agents, mb(rssKB(b.tandem.pid())))
	fmt.Println("# (cpu%: of one core, 200% is this whole machine; 'steady' is the window after the first calls reach an agent until the last call is sent)")
	fmt.Println()
	printHeader()
	for _, rate := range o.rates {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := b.step(ctx, rate)
		if err != nil {
			return fmt.Errorf("rate %d: %w", rate, err)
		}
		b.rows = append(b.rows, r)
		r.print()
		if (r.failed != 0 || r.agentFailed != 0) && !o.goOn {
			fmt.Println("# stopping: this step had failed calls (-continue goes on)")
			break
		}
	}
	b.summary(ctx)
	return nil
}

// ---- files and ports ----------------------------------------------------

func (b *bench) pickPorts() error {
	// SIPp binds its media port p and p+2 (audio, video) and its control
	// port on all addresses, so every port is taken with p+1 and p+2 free.
	ps, err := freePorts(13)
	if err != nil {
		return err
	}
	p := &b.port
	for i, dst := range []*int{&p.sip, &p.gw, &p.ivr, &p.cti, &p.console, &p.metrics,
		&p.uas, &p.uasMedia, &p.uasCtl, &p.uac, &p.uacMedia, &p.uacCtl, &p.reg} {
		*dst = ps[i]
	}
	p.regCtl = p.reg + 1
	return nil
}

// freePorts returns n ports each with the two above it free, for UDP and
// TCP on all addresses; the sockets are held until all are found.
func freePorts(n int) ([]int, error) {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	var out []int
	for try := 0; try < 500 && len(out) < n; try++ {
		pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			return nil, err
		}
		held = append(held, pc)
		p := pc.LocalAddr().(*net.UDPAddr).Port
		if p > 65000 || slices.ContainsFunc(out, func(q int) bool { return p > q-3 && p < q+3 }) {
			continue
		}
		ok := true
		for q := p; q <= p+2 && ok; q++ {
			if q != p {
				u, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", q))
				if err != nil {
					ok = false
					break
				}
				held = append(held, u)
			}
			t, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", q))
			if err != nil {
				ok = false
				break
			}
			held = append(held, t)
		}
		if ok {
			out = append(out, p)
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("found only %d of %d free ports", len(out), n)
	}
	return out, nil
}

func ext(i int) string { return strconv.Itoa(20000 + i) }

func (b *bench) writeFiles() error {
	o := b.opt
	// The demo's router document, as `tandem serve` runs it with no config,
	// with the agents replaced: all in both skill groups, so whichever key
	// the callers press, every agent can take the call.
	demo, err := os.ReadFile(filepath.Join(b.src, "internal", "config", "demo.yaml"))
	if err != nil {
		return fmt.Errorf("demo router document: %w", err)
	}
	var router map[string]any
	if err := yaml.Unmarshal(demo, &router); err != nil {
		return fmt.Errorf("demo router document: %w", err)
	}
	agents := make([]map[string]any, o.agents)
	users := make([]map[string]any, o.agents)
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for i := range agents {
		e := ext(i)
		agents[i] = map[string]any{"id": e, "extension": e, "password": "pw" + e, "skill_groups": []string{"sales", "support"}}
		users[i] = map[string]any{"user": e, "password": "pw" + e}
		// SIPp expands keywords in a field, not fields in a keyword:
		// the authentication keyword is the field.
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=pw%s]\n", e, e, e)
	}
	router["agents"] = agents
	router["wrap_up"] = o.wrapUp.String()
	loop := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	cfg := map[string]any{
		"data_dir": filepath.Join(b.dir, "data"),
		"log":      map[string]any{"level": o.logLevel},
		"sip":      map[string]any{"listen": []any{map[string]any{"transport": "udp", "address": loop(b.port.sip)}}},
		"trunks":   []any{map[string]any{"name": "bench", "networks": []string{"127.0.0.1/32"}}},
		"users":    users,
		"server_groups": []any{map[string]any{"name": "vxml",
			"destinations": []any{map[string]any{"address": loop(b.port.gw)}}}},
		"dial_plan": []any{
			map[string]any{"pattern": "2XXXX", "registered": true},
			map[string]any{"pattern": "7777!", "server_group": "vxml"}, // the demo's network VRU label + correlation id
		},
		// Sessions and calls are bounded far above what the run needs, so
		// that the limits measured are tandem's work, not its guards.
		"vxml_gateway": map[string]any{"listen": loop(b.port.gw), "max_sessions": 50000,
			"apps": []any{map[string]any{"pattern": "7777!", "url": "builtin:ivr"}}}, // config.IVRApp: this process's IVR service
		"ivr":         map[string]any{"listen": loop(b.port.ivr)},
		"cti":         map[string]any{"listen": loop(b.port.cti), "supervisors": []any{map[string]any{"id": "bench", "password": "bench-supervisor"}}},
		"console":     map[string]any{"listen": loop(b.port.console), "admin": map[string]any{"user": "admin", "password": "bench-admin"}},
		"report":      map[string]any{"driver": o.report},
		"metrics":     map[string]any{"listen": loop(b.port.metrics), "pprof": true},
		"call_server": map[string]any{"max_calls": 100000},
		"router":      router,
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	files := map[string]string{
		"tandem.yaml": "# written by bench/flow\n" + string(y),
		"users.csv":   csv.String(),
		"agent.xml":   agentXML,
		"register.xml": strings.NewReplacer("{{CONTACT}}", loop(b.port.uas),
			"{{EXPIRES}}", "7200").Replace(registerXML),
		"caller.xml": b.callerScenario(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) callerScenario() string {
	o := b.opt
	audio, action := "no RTP but the key", ""
	if o.audio == "pcap" {
		audio = "SIPp plays g711a.pcap until the key"
		action = `  <nop><action><exec play_pcap_audio="` + pcapDir + `/g711a.pcap"/></action></nop>`
	}
	// The move must come within the IVR reply, the queue wait and the ring;
	// it is bounded so that a lost call ends as a failure, not a hang.
	return strings.NewReplacer(
		"{{AUDIO}}", audio, "{{AUDIO_ACTION}}", action,
		"{{IVR_MS}}", strconv.FormatInt(o.ivr.Milliseconds(), 10),
		"{{TALK_MS}}", strconv.FormatInt(o.talk.Milliseconds(), 10),
		"{{KEY}}", o.key, "{{PCAP_DIR}}", pcapDir,
		"{{MOVE_TIMEOUT_MS}}", "30000",
	).Replace(callerXML)
}

// ---- processes ------------------------------------------------------------

// proc is one child process, in its own process group so that stopping it
// stops whatever it started (SIPp's pcap players are threads, but tandem
// may run espeak-ng).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start runs name with args in dir, its output in dir/<log>.
func (b *bench) start(log, dir string, name string, args ...string) (*proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, log))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	return p, nil
}

// stop ends p's process group: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		fmt.Fprintf(os.Stderr, "flow: %s (pid %d) did not die\n", p.name, p.pid())
	}
}

// cleanup stops every process started, keeps the files when asked, and
// removes the run's folder.
func (b *bench) cleanup() {
	b.mu.Lock()
	procs := slices.Clone(b.procs)
	b.mu.Unlock()
	for _, p := range slices.Backward(procs) {
		p.stop(5 * time.Second)
	}
	if b.dir == "" {
		return
	}
	if b.opt.keep != "" {
		if err := copyTree(b.dir, b.opt.keep); err != nil {
			fmt.Fprintln(os.Stderr, "flow: keep:", err)
		} else {
			fmt.Printf("# files kept in %s\n", b.opt.keep)
		}
	}
	os.RemoveAll(b.dir)
}

// copyTree copies the run's small files (not the tandem binary, not the
// data folder's databases) to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "data" || rel == "src" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if rel == "tandem" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

func (b *bench) sippArgs(dir string, ctl int, extra ...string) []string {
	args := []string{"-i", "127.0.0.1", "-nostdin", "-cp", strconv.Itoa(ctl),
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-max_log_size", "20000000"}
	return append(args, extra...)
}

func (b *bench) startTandem(ctx context.Context) error {
	p, err := b.start("tandem.log", b.dir, b.bin, "serve", "-c", filepath.Join(b.dir, "tandem.yaml"))
	if err != nil {
		return err
	}
	b.tandem = p
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("tandem exited: %v\n%s", p.err, tail(filepath.Join(b.dir, "tandem.log"), 2000))
		}
		if resp, err := b.web.Get(b.metricsURL("/healthz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && udpBound(b.port.gw) {
				return nil
			}
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("tandem not ready in 30s\n%s", tail(filepath.Join(b.dir, "tandem.log"), 2000))
}

// startAgents starts the agents' SIPp UAS, registers every extension to it,
// logs every agent in through CTI and makes it ready.
func (b *bench) startAgents(ctx context.Context) error {
	o := b.opt
	dir := filepath.Join(b.dir, "agents")
	uas, err := b.start("sipp.out", dir, "sipp", b.sippArgs(dir, b.port.uasCtl,
		"-sf", filepath.Join(b.dir, "agent.xml"), "-p", strconv.Itoa(b.port.uas), "-mp", strconv.Itoa(b.port.uasMedia))...)
	if err != nil {
		return err
	}
	b.uas = uas
	for i := 0; !udpBound(b.port.uas); i++ {
		if i > 100 || uas.exited() {
			return fmt.Errorf("agents' SIPp UAS did not bind port %d\n%s", b.port.uas, tail(filepath.Join(dir, "sipp.out"), 2000))
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}

	rdir := filepath.Join(b.dir, "register")
	reg, err := b.start("sipp.out", rdir, "sipp", b.sippArgs(rdir, b.port.regCtl,
		fmt.Sprintf("127.0.0.1:%d", b.port.sip), "-sf", filepath.Join(b.dir, "register.xml"),
		"-inf", filepath.Join(b.dir, "users.csv"), "-p", strconv.Itoa(b.port.reg),
		"-m", strconv.Itoa(o.agents), "-r", "200", "-l", "200", "-timeout", "120s")...)
	if err != nil {
		return err
	}
	select {
	case <-reg.done:
	case <-time.After(150 * time.Second):
		reg.stop(time.Second)
		return errors.New("registering the agents' extensions did not end in 150s")
	case <-ctx.Done():
		return ctx.Err()
	}
	st, _ := readStats(filepath.Join(rdir, "stat.csv"))
	if ok := st.last().int("SuccessfulCall(C)"); ok != o.agents {
		return fmt.Errorf("registered %d of %d extensions\n%s\n%s", ok, o.agents,
			tail(filepath.Join(rdir, "sipp.out"), 1500), tail(filepath.Join(rdir, "errors.log"), 1500))
	}
	if n := b.metric("tandem_registered_extensions"); n < float64(o.agents) {
		return fmt.Errorf("tandem counts %v registered extensions, want %d", n, o.agents)
	}

	// CTI: the supervisor reads the queues; every agent logs in and goes
	// ready. A few at a time, as desktops signing in at a shift's start.
	var sup struct{ Token string }
	if err := b.post(ctx, "/v1/supervisor/login", "", map[string]string{"id": "bench", "password": "bench-supervisor"}, &sup); err != nil {
		return err
	}
	b.supToken = sup.Token
	b.tokens = make([]string, o.agents)
	work := make(chan int)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				e := ext(i)
				var lr struct{ Token string }
				if err := b.post(ctx, "/v1/login", "", map[string]string{"id": e, "password": "pw" + e, "extension": e}, &lr); err != nil {
					errc <- err
					return
				}
				b.tokens[i] = lr.Token
				if err := b.post(ctx, "/v1/agents/"+e+"/state", lr.Token, map[string]string{"state": "ready"}, nil); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var ferr error
feed:
	for i := range o.agents {
		select {
		case work <- i:
		case ferr = <-errc:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ferr == nil {
		select {
		case ferr = <-errc:
		default:
		}
	}
	if ferr != nil {
		return fmt.Errorf("agent login: %w", ferr)
	}
	// The console's health page is where the VoiceXML gateway's session
	// count is published.
	if err := b.consoleLogin(ctx); err != nil {
		return err
	}
	if ready := b.readyAgents(ctx); ready != o.agents {
		return fmt.Errorf("%d of %d agents ready after login", ready, o.agents)
	}
	return nil
}

// ---- HTTP -------------------------------------------------------------------

func (b *bench) metricsURL(p string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", b.port.metrics, p)
}
func (b *bench) ctiURL(p string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", b.port.cti, p) }

func (b *bench) post(ctx context.Context, path, token string, body, out any) error {
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", b.ctiURL(path), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.web.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(rb))
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

func (b *bench) consoleLogin(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("http://127.0.0.1:%d/api/login", b.port.console),
		strings.NewReader(`{"user":"admin","password":"bench-admin"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.console.Do(req)
	if err != nil {
		return fmt.Errorf("console login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("console login: %s", resp.Status)
	}
	return nil
}

// gatewaySessions is the VoiceXML gateway's live session count (callers at
// the VRU: in the menu or hearing queue treatment), or -1.
func (b *bench) gatewaySessions(ctx context.Context) int {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d/api/health", b.port.console), nil)
	resp, err := b.console.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var h struct {
		GatewaySessions int `json:"gateway_sessions"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&h) != nil {
		return -1
	}
	return h.GatewaySessions
}

type queueStats struct {
	Name    string         `json:"name"`
	Waiting int            `json:"waiting"`
	Agents  map[string]int `json:"agents"`
}

func (b *bench) queues(ctx context.Context) ([]queueStats, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", b.ctiURL("/v1/queues"), nil)
	req.Header.Set("Authorization", "Bearer "+b.supToken)
	resp, err := b.web.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /v1/queues: %s", resp.Status)
	}
	var qs []queueStats
	return qs, json.NewDecoder(resp.Body).Decode(&qs)
}

// queueFigures returns the calls waiting in queue (a call is queued to one
// skill group, so the sum counts each once) and the agents logged in but
// not ready (reserved, talking, in wrap-up: every agent is in sales), or
// -1s.
func (b *bench) queueFigures(ctx context.Context) (waiting, busy int) {
	qs, err := b.queues(ctx)
	if err != nil {
		return -1, -1
	}
	busy = -1
	for _, q := range qs {
		waiting += q.Waiting
		if q.Name == "sales" {
			busy = 0
			for state, n := range q.Agents {
				if state != "ready" {
					busy += n
				}
			}
		}
	}
	return waiting, busy
}

// agentStates returns every agent's state name, by index (supervisor's
// GET /v1/agents).
func (b *bench) agentStates(ctx context.Context) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", b.ctiURL("/v1/agents"), nil)
	req.Header.Set("Authorization", "Bearer "+b.supToken)
	resp, err := b.web.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /v1/agents: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /v1/agents: %s", resp.Status)
	}
	var list []struct{ ID, State string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /v1/agents: %w", err)
	}
	out := make([]string, b.opt.agents)
	for _, a := range list {
		if i, err := strconv.Atoi(a.ID); err == nil && i >= 20000 && i-20000 < len(out) {
			out[i-20000] = a.State
		}
	}
	return out, nil
}

// readyAgents is the number of agents ready in the sales skill group (all
// agents are in it), or -1.
func (b *bench) readyAgents(ctx context.Context) int {
	qs, err := b.queues(ctx)
	if err != nil {
		return -1
	}
	for _, q := range qs {
		if q.Name == "sales" {
			return q.Agents["ready"]
		}
	}
	return -1
}

// metrics reads tandem's Prometheus text: the first sample of each name,
// and sums by name for labelled series.
func (b *bench) metrics() map[string]float64 {
	resp, err := b.web.Get(b.metricsURL("/metrics"))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		name := line[:i]
		out[name] = v
		if j := strings.IndexByte(name, '{'); j > 0 {
			out[name[:j]+"{*}"] += v
		}
	}
	return out
}

func (b *bench) metric(name string) float64 {
	m := b.metrics()
	if v, ok := m[name]; ok {
		return v
	}
	return -1
}

// ---- one step --------------------------------------------------------------

// sample is what is read every -sample during a step.
type sample struct {
	t                                   time.Time
	tandemTicks, uacTicks, uasTicks     int64
	selfTicks, machineBusy, machineIdle int64
	rssKB                               int64
	active, vru, waiting, busy          int
	sipRxQ, sipDrops, gwDrops           int64
}

type row struct {
	rate, offered, completed, failed, unfinished int
	agentFailed                                  int
	answerMS, moveMS                             float64
	gotRate                                      float64
	retrans, uacRetrans                          int
	cpuAll, cpuSteady, sippSteady, othersSteady  float64
	cpuSec, msPerCall                            float64
	rssMB, peakMB                                float64
	peakVRU, peakMenu, peakQueue, peakActive     int
	peakBusy                                     int
	peakRxQ, sipDrops, gwDrops                   int64
	notes                                        []string
	profile                                      string
}

func printHeader() {
	fmt.Printf("%5s %6s %7s %7s %6s %6s %7s %6s %6s  %7s %7s %7s  %6s %6s  %5s %5s %5s %6s %6s  %6s %6s  %s\n",
		"rate", "got/s", "offered", "complet", "failed", "agtfail", "retrans", "ansMs", "moveMs",
		"cpu%st", "ms/call", "cpu_s", "rssMB", "hwmMB",
		"vru", "menu", "queue", "active", "agents",
		"sipp%", "other%", "notes")
}

func (r row) print() {
	fmt.Printf("%5d %6.0f %7d %7d %6d %7d %7d %6.0f %6.0f  %7.0f %7.2f %7.1f  %6.1f %6.1f  %5d %5d %5d %6d %6d  %6.0f %6.0f  %s\n",
		r.rate, r.gotRate, r.offered, r.completed, r.failed, r.agentFailed, r.retrans, r.answerMS, r.moveMS,
		r.cpuSteady, r.msPerCall, r.cpuSec, r.rssMB, r.peakMB,
		r.peakVRU, r.peakMenu, r.peakQueue, r.peakActive, r.peakBusy,
		r.sippSteady, max(r.othersSteady, 0), strings.Join(r.notes, " "))
}

func (b *bench) step(ctx context.Context, rate int) (row, error) {
	o := b.opt
	r := row{rate: rate}
	calls := rate * int(o.step/time.Second)
	if calls < 1 {
		calls = 1
	}
	dir := filepath.Join(b.dir, fmt.Sprintf("rate-%d", rate))
	uasBefore, _ := readStats(filepath.Join(b.dir, "agents", "stat.csv"))
	// -timeout bounds the run: the sending time, the longest call (menu,
	// a 30 s wait for the move, talk) and a margin.
	timeout := o.step + o.ivr + o.talk + 60*time.Second
	t0 := time.Now()
	uac, err := b.start("sipp.out", dir, "sipp", b.sippArgs(dir, b.port.uacCtl,
		fmt.Sprintf("127.0.0.1:%d", b.port.sip), "-sf", filepath.Join(b.dir, "caller.xml"), "-s", o.dialed,
		"-p", strconv.Itoa(b.port.uac), "-mp", strconv.Itoa(b.port.uacMedia),
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-l", strconv.Itoa(max(20000, 4*calls)),
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-max_recv_loops", "10000")...)
	if err != nil {
		return r, err
	}

	// The profile covers the steady part of the step: it starts once the
	// first calls have gone through the menu to an agent.
	warm := o.ivr + o.talk + 2*time.Second
	if warm > o.step/2 {
		warm = o.step / 2
	}
	var profWG sync.WaitGroup
	if o.profSecs > 0 {
		secs := min(o.profSecs, int((o.step-warm)/time.Second))
		if secs >= 1 {
			r.profile = filepath.Join(dir, "cpu.pprof")
			profWG.Add(1)
			go func() {
				defer profWG.Done()
				if sleep(ctx, warm) != nil {
					return
				}
				if err := b.fetchProfile(ctx, secs, r.profile); err != nil {
					fmt.Fprintf(os.Stderr, "flow: rate %d: profile: %v\n", rate, err)
					r.profile = ""
				}
			}()
		}
	}

	var samples []sample
	tick := time.NewTicker(o.sample)
	defer tick.Stop()
	hardStop := time.After(timeout + 30*time.Second)
	sampleNow := func() {
		s := sample{t: time.Now(), tandemTicks: cpuTicks(b.tandem.pid()), uacTicks: cpuTicks(uac.pid()),
			uasTicks: cpuTicks(b.uas.pid()), selfTicks: cpuTicks(os.Getpid()), rssKB: rssKB(b.tandem.pid())}
		s.machineBusy, s.machineIdle = machineTicks()
		m := b.metrics()
		s.active = int(m["tandem_calls_active"])
		s.vru = b.gatewaySessions(ctx)
		s.waiting, s.busy = b.queueFigures(ctx)
		s.sipRxQ, s.sipDrops = udpSocket(b.port.sip)
		_, s.gwDrops = udpSocket(b.port.gw)
		samples = append(samples, s)
	}
	sampleNow()
wait:
	for {
		select {
		case <-uac.done:
			break wait
		case <-tick.C:
			sampleNow()
		case <-hardStop:
			r.notes = append(r.notes, "sipp-killed-at-hard-timeout")
			uac.stop(time.Second)
			break wait
		case <-ctx.Done():
			uac.stop(time.Second)
			profWG.Wait()
			return r, ctx.Err()
		}
	}
	sampleNow()
	wall := time.Since(t0)
	profWG.Wait()

	st, err := readStats(filepath.Join(dir, "stat.csv"))
	if err != nil {
		return r, fmt.Errorf("caller statistics: %w\n%s", err, tail(filepath.Join(dir, "sipp.out"), 1500))
	}
	last := st.last()
	r.offered = last.int("TotalCallCreated")
	r.completed = last.int("SuccessfulCall(C)")
	r.failed = calls - r.completed
	r.unfinished = r.offered - r.completed - last.int("FailedCall(C)")
	r.uacRetrans = last.int("Retransmissions(C)")
	uasAfter, _ := readStats(filepath.Join(b.dir, "agents", "stat.csv"))
	r.retrans = r.uacRetrans + uasAfter.last().int("Retransmissions(C)") - uasBefore.last().int("Retransmissions(C)")
	r.gotRate = st.sendRate(calls)
	r.answerMS = durMS(last["ResponseTime1(C)"])
	r.moveMS = durMS(last["ResponseTime2(C)"])
	r.agentFailed = uasAfter.last().int("FailedCall(C)") - uasBefore.last().int("FailedCall(C)")
	r.notes = append(r.notes, failureCounters(last)...)
	for _, c := range failureCounters(uasAfter.last().minus(uasBefore.last())) {
		r.notes = append(r.notes, "agent:"+c)
	}
	if r.unfinished > 0 {
		r.notes = append(r.notes, fmt.Sprintf("unfinished=%d", r.unfinished))
	}
	if code := uac.cmd.ProcessState; code != nil && code.ExitCode() > 1 {
		r.notes = append(r.notes, fmt.Sprintf("sipp-exit=%d", code.ExitCode()))
	}
	if r.retrans > 0 {
		r.notes = append(r.notes, fmt.Sprintf("retrans(callers %d, agents %d)", r.uacRetrans, r.retrans-r.uacRetrans))
	}

	// Figures over the whole run and over the steady window.
	first, lastS := samples[0], samples[len(samples)-1]
	clk := float64(clkTck)
	r.cpuSec = float64(lastS.tandemTicks-first.tandemTicks) / clk
	r.cpuAll = 100 * r.cpuSec / wall.Seconds()
	if r.offered > 0 {
		r.msPerCall = 1000 * r.cpuSec / float64(r.offered)
	}
	a, z := window(samples, t0.Add(warm), t0.Add(o.step))
	if dt := z.t.Sub(a.t).Seconds(); dt > 0.5 {
		r.cpuSteady = 100 * float64(z.tandemTicks-a.tandemTicks) / clk / dt
		r.sippSteady = 100 * float64(z.uacTicks-a.uacTicks+z.uasTicks-a.uasTicks) / clk / dt
		ours := z.tandemTicks - a.tandemTicks + z.uacTicks - a.uacTicks + z.uasTicks - a.uasTicks + z.selfTicks - a.selfTicks
		r.othersSteady = 100 * float64(z.machineBusy-a.machineBusy-ours) / clk / dt
	}
	for _, s := range samples {
		r.peakVRU = max(r.peakVRU, s.vru)
		r.peakQueue = max(r.peakQueue, s.waiting)
		if s.vru >= 0 && s.waiting >= 0 {
			r.peakMenu = max(r.peakMenu, s.vru-s.waiting)
		}
		r.peakActive = max(r.peakActive, s.active)
		r.peakBusy = max(r.peakBusy, s.busy)
		r.peakRxQ = max(r.peakRxQ, s.sipRxQ)
	}
	r.rssMB = mb(lastS.rssKB)
	r.sipDrops, r.gwDrops = lastS.sipDrops-first.sipDrops, lastS.gwDrops-first.gwDrops
	if r.peakRxQ > 0 || r.sipDrops > 0 || r.gwDrops > 0 {
		r.notes = append(r.notes, fmt.Sprintf("sip-socket(rxq-peak=%dkB,drops=%d) gateway-socket(drops=%d)", r.peakRxQ>>10, r.sipDrops, r.gwDrops))
	}
	r.peakMB = mb(hwmKB(b.tandem.pid()))

	// Let the calls end and the agents come back before the next rate.
	deadline := time.Now().Add(o.drainLimit)
	for {
		m := b.metrics()
		active, vru := int(m["tandem_calls_active"]), b.gatewaySessions(ctx)
		agents, err := b.agentStates(ctx)
		if err != nil {
			return r, err
		}
		var notReady []int
		busy := 0
		for i, a := range agents {
			switch a {
			case "ready":
			case "not_ready":
				notReady = append(notReady, i)
			default:
				busy++
			}
		}
		if active == 0 && vru == 0 && busy == 0 {
			// Agents whose phone did not answer in time were made not
			// ready by the router (ring-no-answer); their desk puts them
			// back, as a person would, so each rate starts with all.
			if len(notReady) > 0 {
				r.notes = append(r.notes, fmt.Sprintf("rona-not-ready=%d(made-ready-again)", len(notReady)))
				for _, i := range notReady {
					e := ext(i)
					if err := b.post(ctx, "/v1/agents/"+e+"/state", b.tokens[i], map[string]string{"state": "ready"}, nil); err != nil {
						return r, err
					}
				}
			}
			break
		}
		if time.Now().After(deadline) {
			r.notes = append(r.notes, fmt.Sprintf("not-drained(active=%d,vru=%d,agents-busy=%d)", active, vru, busy))
			if r.failed == 0 {
				r.failed = -1 // a leak is a failure of the step even if SIPp saw none
			}
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return r, err
		}
	}
	if b.tandem.exited() {
		return r, fmt.Errorf("tandem exited: %v\n%s", b.tandem.err, tail(filepath.Join(b.dir, "tandem.log"), 2000))
	}
	return r, nil
}

// window returns the samples closest to the start and end of [from, to].
func window(ss []sample, from, to time.Time) (sample, sample) {
	a, z := ss[0], ss[len(ss)-1]
	for _, s := range ss {
		if !s.t.Before(from) {
			a = s
			break
		}
	}
	for _, s := range slices.Backward(ss) {
		if !s.t.After(to) {
			z = s
			break
		}
	}
	if z.t.Before(a.t) {
		return ss[0], ss[len(ss)-1]
	}
	return a, z
}

func (b *bench) fetchProfile(ctx context.Context, secs int, path string) error {
	return b.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), time.Duration(secs+15)*time.Second, path)
}

// fetch saves what the metrics listener serves at urlPath to path.
func (b *bench) fetch(ctx context.Context, urlPath string, timeout time.Duration, path string) error {
	c := &http.Client{Timeout: timeout}
	req, _ := http.NewRequestWithContext(ctx, "GET", b.metricsURL(urlPath), nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", urlPath, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func (b *bench) summary(ctx context.Context) {
	fmt.Println()
	var best *row
	for i := range b.rows {
		if r := &b.rows[i]; r.failed == 0 && r.agentFailed == 0 && (best == nil || r.rate > best.rate) {
			best = r
		}
	}
	if best == nil {
		fmt.Println("highest rate with 0 failed calls: none of the rates tried")
	} else {
		fmt.Printf("highest rate with 0 failed calls: %d calls/s (achieved %.0f/s), tandem %.0f%% CPU steady, peak %d callers at the VRU (%d in the menu, %d queued), %d agents busy\n",
			best.rate, best.gotRate, best.cpuSteady, best.peakVRU, best.peakMenu, best.peakQueue, best.peakBusy)
	}
	m := b.metrics()
	var outs []string
	for k, v := range m {
		if strings.HasPrefix(k, "tandem_calls_total{") && k != "tandem_calls_total{*}" {
			outs = append(outs, fmt.Sprintf("%s=%.0f", strings.TrimSuffix(strings.TrimPrefix(k, `tandem_calls_total{outcome="`), `"}`), v))
		}
	}
	slices.Sort(outs)
	fmt.Printf("# tandem calls by outcome after the run: %s; RSS %.1f MB, peak %.1f MB; load %s\n",
		strings.Join(outs, " "), mb(rssKB(b.tandem.pid())), mb(hwmKB(b.tandem.pid())), loadavg())
	// Memory: what the heap holds once every call has ended.
	if b.opt.heap {
		// sipgo keeps each transaction for its RFC 3261 timers (32 s over
		// UDP): the heap is read after they have fired, so what remains
		// is what tandem holds for good.
		if b.opt.settle > 0 {
			fmt.Printf("# RSS %.1f MB when the last step drained; waiting %s for SIP transaction timers\n", mb(rssKB(b.tandem.pid())), b.opt.settle)
			if sleep(ctx, b.opt.settle) != nil {
				return
			}
		}
		heap := filepath.Join(b.dir, "heap.pprof")
		if err := b.fetch(ctx, "/debug/pprof/heap?gc=1", 30*time.Second, heap); err != nil {
			fmt.Fprintln(os.Stderr, "flow: heap profile:", err)
		} else {
			fmt.Printf("\n## tandem heap in use %s after the run (every call ended; GC run first); RSS now %.1f MB\n", b.opt.settle, mb(rssKB(b.tandem.pid())))
			b.pprofTop(ctx, heap, "-top", "-sample_index=inuse_space", "-nodecount=15")
		}
	}
	// Profile: the highest step run (where the limit shows), else none.
	var top *row
	for i := range b.rows {
		if b.rows[i].profile != "" {
			top = &b.rows[i]
		}
	}
	if top == nil {
		return
	}
	fmt.Printf("\n## tandem CPU profile at %d calls/s (%ds, during the steady window; pprof's own cost included)\n", top.rate, b.opt.profSecs)
	b.pprofTop(ctx, top.profile, "-top", "-nodecount=25")
	b.pprofTop(ctx, top.profile, "-top", "-cum", "-nodecount=30")
}

// pprofTop prints go tool pprof's report of a profile of tandem.
func (b *bench) pprofTop(ctx context.Context, profile string, flags ...string) {
	args := append([]string{"tool", "pprof"}, flags...)
	out, err := exec.CommandContext(ctx, "go", append(args, b.bin, profile)...).CombinedOutput()
	if err != nil {
		fmt.Printf("go tool pprof: %v\n%s\n", err, out)
		return
	}
	fmt.Printf("%s\n", out)
}

// ---- SIPp statistics -----------------------------------------------------------

type statRow map[string]string

func (r statRow) int(col string) int {
	v, _ := strconv.Atoi(strings.TrimSpace(r[col]))
	return v
}

// minus returns r with its cumulative counters less those of o.
func (r statRow) minus(o statRow) statRow {
	out := statRow{}
	for k, v := range r {
		a, err1 := strconv.Atoi(v)
		c, err2 := strconv.Atoi(o[k])
		if err1 == nil && err2 == nil {
			out[k] = strconv.Itoa(a - c)
		} else if err1 == nil {
			out[k] = v
		}
	}
	return out
}

type stats []statRow

func (s stats) last() statRow {
	if len(s) == 0 {
		return statRow{}
	}
	return s[len(s)-1]
}

// sendRate is calls over the time SIPp took to create them (its stat lines
// are one a second, so the time is known to a second).
func (s stats) sendRate(calls int) float64 {
	if len(s) == 0 {
		return 0
	}
	start := epoch(s[0]["StartTime"])
	for _, r := range s {
		if r.int("TotalCallCreated") >= calls {
			if d := epoch(r["CurrentTime"]) - start; d > 0 {
				return float64(calls) / d
			}
		}
	}
	return 0
}

// durMS reads SIPp's HH:MM:SS:microseconds response times, in ms.
func durMS(v string) float64 {
	f := strings.Split(strings.TrimSpace(v), ":")
	if len(f) != 4 {
		return 0
	}
	var n [4]float64
	for i, x := range f {
		n[i], _ = strconv.ParseFloat(x, 64)
	}
	return n[0]*3600e3 + n[1]*60e3 + n[2]*1e3 + n[3]/1e3
}

// epoch reads the seconds since 1970 SIPp writes after a tab in its times.
func epoch(v string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(v[strings.LastIndexByte(v, '\t')+1:]), 64)
	return f
}

func readStats(path string) (stats, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: no statistics yet", path)
	}
	head := strings.Split(lines[0], ";")
	var out stats
	for _, l := range lines[1:] {
		cols := strings.Split(l, ";")
		r := statRow{}
		for i, h := range head {
			if i < len(cols) {
				r[h] = cols[i]
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// failureCounters names SIPp's non-zero failure counters of r.
func failureCounters(r statRow) []string {
	var out []string
	for k, v := range r {
		if !strings.HasSuffix(k, "(C)") || k == "FailedCall(C)" {
			continue
		}
		name := strings.TrimSuffix(k, "(C)")
		if strings.HasPrefix(name, "Failed") || name == "OutOfCallMsgs" || name == "DeadCallMsgs" || name == "FatalErrors" || strings.HasPrefix(name, "Watchdog") {
			if n, _ := strconv.Atoi(v); n > 0 {
				out = append(out, fmt.Sprintf("%s=%d", name, n))
			}
		}
	}
	slices.Sort(out)
	return out
}

// ---- /proc ------------------------------------------------------------------------

const clkTck = 100 // USER_HZ: Linux reports /proc times in 1/100 s on every platform Go supports

func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// machineTicks is the machine's busy and idle time from /proc/stat.
func machineTicks() (busy, idle int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch i {
		case 3, 4: // idle, iowait
			idle += n
		case 8, 9: // guest time is already in user
		default:
			busy += n
		}
	}
	return busy, idle
}

func procStatus(pid int, key string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func rssKB(pid int) int64 { return procStatus(pid, "VmRSS") }
func hwmKB(pid int) int64 { return procStatus(pid, "VmHWM") }
func mb(kb int64) float64 { return float64(kb) / 1024 }

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return n
}

// udpSocket reads the receive queue (bytes waiting to be read) and the
// drop count (datagrams lost to a full receive buffer) of the UDP socket
// bound to 127.0.0.1:port, from /proc/net/udp.
func udpSocket(port int) (rxQueue, drops int64) {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, 0
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 13 || f[1] != local {
			continue
		}
		if _, rx, ok := strings.Cut(f[4], ":"); ok {
			rxQueue, _ = strconv.ParseInt(rx, 16, 64)
		}
		drops, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		return rxQueue, drops
	}
	return 0, 0
}

// udpBound reports whether something listens on 127.0.0.1:port (UDP).
func udpBound(port int) bool {
	pc, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return true
	}
	pc.Close()
	return false
}

// ---- small helpers -----------------------------------------------------------------

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the tandem module (go run ./bench/flow)")
	}
	return filepath.Dir(mod), nil
}

func gitRev(root, rev string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", rev).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "?"
	}
	dirty := "clean"
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		dirty = "dirty: others' uncommitted changes included"
	}
	return strings.TrimSpace(string(out)) + ", tree " + dirty
}
