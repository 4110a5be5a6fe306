// Package console runs tandem's web console and agent desktop in a real
// browser: Debian's headless Chromium driven by playwright-core (npm), with
// SIPp as the caller and the agent's phone.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/media"
	tnode "github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/router"
)

const (
	adminUser = "admin"
	adminPass = "console-admin-pw"
	supUser   = "sue"
	supPass   = "sue-secret"
	agentID   = "alice"
	agentPass = "alice-pw"
	agentExt  = "1001"
	// bob is the second agent: the target of the blind transfer and of
	// the consult. He is in support only, so sales calls go to alice.
	agent2ID   = "bob"
	agent2Pass = "bob-pw"
	agent2Ext  = "1002"
	ani        = "5551234"
	dnis       = "3000"
)

// contactCenter: two agents' phones registered to tandem, 3000 queued to
// sales (alice's), wrap-up long enough for the agents to choose a reason.
const contactCenter = `
sip:
  listen: [{transport: udp, address: "127.0.0.1:SIPPORT"}]
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users:
  - {user: "1001", password: p1001}
  - {user: "1002", password: p1002}
server_groups:
  - name: vxml
    destinations: [{address: "127.0.0.1:9"}]
    heartbeat: {up_interval: 0s}
dial_plan: [{pattern: "1XXX", registered: true}]
call_server:
  ring_timeout: 10s
cti:
  supervisors: [{id: sue, password: sue-secret}]
console:
  admin: {user: admin, password: console-admin-pw}
router:
  ring_no_answer: 15s
  wrap_up: 60s
  reason_codes:
    - {code: 1, label: Break, kind: not_ready}
    - {code: 10, label: Sale made, kind: wrap_up}
    - {code: 20, label: End of shift, kind: logout}
  dialed_numbers:
    - {number: "3000", call_type: sales}
    - {number: "6000", call_type: branch}
  call_types:
    - {name: sales, script: sales}
    - {name: branch, script: branch}
  # 6000 reaches the server group "branch" through the dial plan's 6XXX,
  # which the browser test adds in the SIP page (until then: no route).
  labels: [{name: branch, kind: server_group, value: "6000"}]
  skill_groups: [{name: sales}, {name: support}]
  agents:
    - {id: alice, name: Alice, extension: "1001", password: alice-pw, skill_groups: [sales]}
    - {id: bob, name: Bob, extension: "1002", password: bob-pw, skill_groups: [support]}
  scripts:
    - name: sales
      nodes:
        - {id: s, type: start, next: q}
        - {id: q, type: queue, skill_groups: [sales], next: e}
        - {id: e, type: end}
    - name: branch
      nodes:
        - {id: s, type: start, next: l}
        - {id: l, type: label, labels: [branch]}
`

// need skips without a peer program, except under CI, where the test
// command installs it and its absence is a failure.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (scripts/test.sh installs it)", what)
	}
	t.Skipf("%s is missing (scripts/test.sh installs it)", what)
}

func have(prog string) bool { _, err := exec.LookPath(prog); return err == nil }

func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
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

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startTandem runs tandem in process on free ports and returns it with
// its SIP address and data dir.
func startTandem(t *testing.T) (*tnode.Node, string, string) {
	t.Helper()
	cfg, err := config.Parse("console-e2e.yaml", []byte(strings.ReplaceAll(contactCenter, "SIPPORT", strconv.Itoa(freePort(t)))))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Metrics.Listen = ""
	cfg.CTI.Listen, cfg.IVR.Listen, cfg.Console.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.CallServer.DrainTimeout = config.Duration(2 * time.Second)
	lv := slog.LevelWarn
	if os.Getenv("TANDEM_TEST_LOG") != "" {
		lv = slog.LevelDebug
	}
	n, err := tnode.New(cfg, tnode.Deps{Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: lv}))})
	if err != nil {
		t.Fatal(err)
	}
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
	return n, n.Edge.Addr("udp"), cfg.DataDir
}

// proc is a child process (SIPp, node) killed with its group at cleanup.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  string // its output file
}

func start(t *testing.T, dir string, stdout io.Writer, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), out: filepath.Join(dir, "out.txt")}
	if stdout == nil {
		f, err := os.Create(p.out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stdout = f
	}
	cmd.Stdout, cmd.Stderr = stdout, stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s pid %d did not die", name, cmd.Process.Pid)
			}
		}
	})
	return p
}

func (p *proc) wait(t *testing.T, d time.Duration, what string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s did not finish in %s", what, d)
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

// scenario fills the {{KEY}}s of SIPp scenario name and returns the new
// file's path. The scenarios are e2e's (../testdata); the few this test
// needs in a variant of its own are in testdata.
func scenario(t *testing.T, name string, kv ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join("..", "testdata", name))
	}
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

func sipp(t *testing.T, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	args = append(args, "-nostdin", "-cp", strconv.Itoa(freePort(t)), "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	return start(t, dir, nil, nil, "sipp", args...)
}

// phone registers extension ext (password pass) for a SIPp UAS started
// with uasArgs (a scenario and its -m), once SIPp has bound its port. The
// newest registration is tried first, so each call of the test can have a
// phone that expects exactly its SIP flow.
func phone(t *testing.T, sipAddr, ext, pass string, uasArgs ...string) *proc {
	t.Helper()
	port := freePort(t)
	uas := sipp(t, append([]string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}, uasArgs...)...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			break // bound by SIPp
		}
		pc.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the phone's SIPp did not bind %d:\n%s", port, uas.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	reg := sipp(t, sipAddr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-m", "1", "-timeout", "10s", "-timeout_error",
		"-sf", scenario(t, "register.xml", "USER", ext, "PASS", pass, "CODE", "200", "CONTACT", "127.0.0.1:"+strconv.Itoa(port)))
	reg.wait(t, 20*time.Second, "register")
	if reg.err != nil {
		t.Fatalf("register %s: %v\n%s", ext, reg.err, reg.output())
	}
	return uas
}

// artifactDir is where screenshots go: $TANDEM_ARTIFACTS, or a fresh
// folder under the system's temp dir that outlives the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TANDEM_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "tandem-console-artifacts-"); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writePrompt writes half a second of a 440 Hz tone as 8 kHz WAV.
func writePrompt(t *testing.T, path string) {
	t.Helper()
	pcm := make([]int16, media.SampleRate/2)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	if err := media.WriteWAVFile(path, pcm); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleInBrowser(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err := os.Stat(chromium)
	need(t, "chromium", err == nil)
	need(t, "node", have("node"))
	need(t, "sipp", have("sipp"))
	_, err = os.Stat("node_modules/playwright-core")
	need(t, "playwright-core (npm ci in e2e/console)", err == nil)

	n, sipAddr, dataDir := startTandem(t)
	base := "http://" + n.ConsoleAddr()
	// The first call: alice's phone answers and hangs up after 6 s.
	phones := map[string]*proc{"alice's phone, call 1": phone(t, sipAddr, agentExt, "p1001", "-sf", scenario(t, "uas-bye.xml", "HOLD", "6000"), "-m", "1")}
	callers := map[string]*proc{}

	work := t.TempDir()
	prompt, bad := filepath.Join(work, "welcome.wav"), filepath.Join(work, "bad.wav")
	writePrompt(t, prompt)
	if err := os.WriteFile(bad, []byte("this is text, not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	art := artifactDir(t)
	// The destination the SIP page adds: a SIPp UAS for one call.
	branchPort := freePort(t)
	branchAddr := "127.0.0.1:" + strconv.Itoa(branchPort)
	branchUAS := sipp(t, "-i", "127.0.0.1", "-p", strconv.Itoa(branchPort), "-sn", "uas", "-m", "1")
	var branchCaller *proc

	// Refusals straight over HTTP too, so they are checked without the
	// page's script in the way.
	forged(t, base)

	// The script's output is read line by line: it says when to place the
	// call, and names its screenshots.
	pr, pw := io.Pipe()
	script := start(t, ".", pw, []string{
		"BASE=" + base, "ARTIFACTS=" + art, "CHROMIUM=" + chromium,
		"ADMIN_USER=" + adminUser, "ADMIN_PASS=" + adminPass, "SUP=" + supUser, "SUP_PASS=" + supPass,
		"AGENT=" + agentID, "AGENT_PASS=" + agentPass, "AGENT_EXT=" + agentExt,
		"AGENT2=" + agent2ID, "AGENT2_PASS=" + agent2Pass, "AGENT2_EXT=" + agent2Ext,
		"ANI=" + ani, "DNIS=" + dnis, "SCRIPT=sales", "PROMPT=" + prompt, "BAD_PROMPT=" + bad,
		"BRANCH_ADDR=" + branchAddr, "BRANCH_RULE=6XXX",
	}, "node", "console.mjs")
	go func() { <-script.done; pw.Close() }()
	// call places a SIPp caller to the sales number with scenario name.
	call := func(name string) *proc {
		return sipp(t, sipAddr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-s", dnis, "-m", "1",
			"-timeout", "90s", "-timeout_error", "-sf", scenario(t, name, "ANI", ani))
	}
	var steps, shots []string
	lines := bufio.NewScanner(pr)
	timeout := time.AfterFunc(5*time.Minute, func() { _ = syscall.Kill(-script.cmd.Process.Pid, syscall.SIGKILL) })
	defer timeout.Stop()
	for lines.Scan() {
		line := lines.Text()
		t.Log("browser: " + line)
		switch {
		case strings.HasPrefix(line, "STEP "):
			steps = append(steps, strings.TrimPrefix(line, "STEP "))
			// Each call's phones are registered before its caller
			// dials, and each SIPp checks its side's SIP flow: the
			// re-INVITEs of hold, retrieve, transfer and consult with
			// the SDP directions they must carry.
			switch line {
			case "STEP need-call":
				callers["call 1"] = call("uac-caller.xml")
			case "STEP need-transfer-call":
				// Hold, retrieve, then a blind transfer to bob: alice's
				// phone is re-INVITEd sendonly then sendrecv, then sent
				// BYE; bob's late-offer INVITE is answered by SIPp's
				// built-in UAS; the caller sees three re-INVITEs.
				phones["alice's phone, call 2"] = phone(t, sipAddr, agentExt, "p1001", "-sf", scenario(t, "uas-held.xml"), "-m", "1")
				phones["bob's phone, call 2"] = phone(t, sipAddr, agent2Ext, "p1002", "-sn", "uas", "-m", "1")
				callers["call 2"] = call("uac-held-transfer.xml")
			case "STEP need-consult-call":
				// A consult to bob, completed (the scenarios of
				// e2e/consult_test.go).
				phones["alice's phone, call 3"] = phone(t, sipAddr, agentExt, "p1001", "-sf", scenario(t, "uas-consult-agent-complete.xml"), "-m", "1")
				phones["bob's phone, call 3"] = phone(t, sipAddr, agent2Ext, "p1002", "-sf", scenario(t, "uas-consult-target-complete.xml"), "-m", "1")
				callers["call 3"] = call("uac-consult.xml")
			case "STEP need-consult-cancel-call":
				// A consult to bob, cancelled: bob's phone is sent BYE,
				// alice's is re-INVITEd to reconnect the caller.
				phones["alice's phone, call 4"] = phone(t, sipAddr, agentExt, "p1001", "-sf", scenario(t, "uas-consult-agent-cancel.xml"), "-m", "1")
				phones["bob's phone, call 4"] = phone(t, sipAddr, agent2Ext, "p1002", "-sf", scenario(t, "uas-consult-target-cancel.xml"), "-m", "1")
				callers["call 4"] = call("uac-consult.xml")
			case "STEP need-branch-call":
				// The dial-plan rule and server group saved in the SIP
				// page: 6000 → label branch → 6XXX → the UAS.
				branchCaller = sipp(t, sipAddr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sn", "uac", "-s", "6000", "-m", "1",
					"-timeout", "30s", "-timeout_error")
			}
		case strings.HasPrefix(line, "SCREENSHOT "):
			shots = append(shots, strings.TrimPrefix(line, "SCREENSHOT "))
		}
	}
	script.wait(t, 10*time.Second, "the browser script")
	if script.err != nil {
		t.Fatalf("the browser script failed after steps %v: %v", steps, script.err)
	}
	if len(steps) == 0 || steps[len(steps)-1] != "done" {
		t.Fatalf("the browser script stopped after steps %v", steps)
	}
	for _, s := range shots {
		if fi, err := os.Stat(s); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", s, err)
		}
	}
	fmt.Printf("console screenshots (%d) in %s\n", len(shots), art)

	// What the pages did is what tandem now has: every SIP party saw the
	// flow its scenario expects.
	if len(callers) != 4 {
		t.Fatalf("the script asked for %d calls, want 4", len(callers))
	}
	for name, p := range callers {
		p.wait(t, 30*time.Second, name+"'s caller")
		if p.err != nil {
			t.Errorf("%s: the caller's SIPp failed: %v\n%s", name, p.err, p.output())
		}
	}
	for name, p := range phones {
		p.wait(t, 10*time.Second, name)
		if p.err != nil {
			t.Errorf("%s: SIPp failed: %v\n%s", name, p.err, p.output())
		}
	}
	if branchCaller == nil {
		t.Fatal("the script never asked for the call to the SIP page's new rule")
	}
	branchCaller.wait(t, 40*time.Second, "the caller to 6000")
	if branchCaller.err != nil {
		t.Errorf("the call to the rule added in the SIP page failed: %v\n%s", branchCaller.err, branchCaller.output())
	}
	branchUAS.wait(t, 10*time.Second, "the UAS at the new destination")
	if branchUAS.err != nil {
		t.Errorf("the UAS at the destination added in the SIP page: %v\n%s", branchUAS.err, branchUAS.output())
	}
	reportsAccess(t, base)
	if _, err := n.Engine.Stats("billing"); err != nil {
		t.Errorf("the skill group added in the browser is not in the router: %v", err)
	}
	st, err := n.Engine.Agent(agentID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != router.Ready || !slices.Contains(st.Queues, "billing") {
		t.Errorf("agent after the desktop's wrap-up: %s in %v, want ready in billing too", st.State, st.Queues)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "media", "welcome.wav")); err != nil {
		t.Errorf("the uploaded prompt is not kept: %v", err)
	}
}

// forged sends requests a forger could: none may pass.
func forged(t *testing.T, base string) {
	t.Helper()
	cases := []struct {
		name, method, path, body, origin string
		withSession, withCSRF            bool
		want                             int
	}{
		{"no session", "PUT", "/api/config/sections/skill_groups", `{"version":0,"items":[]}`, "", false, false, http.StatusUnauthorized},
		{"no session, a page", "GET", "/api/health", "", "", false, false, http.StatusUnauthorized},
		{"session without CSRF token", "PUT", "/api/config/sections/skill_groups", `{"version":0,"items":[]}`, "", true, false, http.StatusForbidden},
		{"session with CSRF token from another origin", "PUT", "/api/config/sections/skill_groups", `{"version":0,"items":[]}`, "http://evil.example", true, true, http.StatusForbidden},
		{"cross-origin sign-in", "POST", "/api/login", `{"user":"admin","password":"` + adminPass + `"}`, "http://evil.example", false, false, http.StatusForbidden},
	}
	csrf, jar := signIn(t, base, adminUser, adminPass)
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.withCSRF {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		cl := &http.Client{}
		if tc.withSession {
			cl.Jar = jar
		}
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %s %s: got %d, want %d", tc.name, tc.method, tc.path, res.StatusCode, tc.want)
		}
	}
}

// signIn signs user in over plain HTTP and returns the CSRF token and
// the cookie jar holding the session.
func signIn(t *testing.T, base, user, pass string) (string, http.CookieJar) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"user": user, "password": pass})
	res, err := cl.Post(base+"/api/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var me struct{ CSRF string }
	if err := json.NewDecoder(res.Body).Decode(&me); err != nil || res.StatusCode != 200 || me.CSRF == "" {
		t.Fatalf("%s sign-in: %d %v", user, res.StatusCode, err)
	}
	return me.CSRF, jar
}

// reportsAccess reads the reporting API through the console as the admin
// (no CTI identity) and the supervisor (its CTI token): both see the
// day's four sales calls handled; a write is refused.
func reportsAccess(t *testing.T, base string) {
	t.Helper()
	for _, who := range [][2]string{{adminUser, adminPass}, {supUser, supPass}} {
		csrf, jar := signIn(t, base, who[0], who[1])
		cl := &http.Client{Jar: jar}
		res, err := cl.Get(base + "/v1/reports/intervals?kind=call_type&name=sales")
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			Name    string `json:"name"`
			Handled int    `json:"handled"`
		}
		err = json.NewDecoder(res.Body).Decode(&rows)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("%s: GET /v1/reports/intervals: %d %v", who[0], res.StatusCode, err)
		}
		handled := 0
		for _, r := range rows {
			handled += r.Handled
		}
		if handled != 4 {
			t.Errorf("%s: sales calls handled in the reports: %d, want 4 (%+v)", who[0], handled, rows)
		}
		req, _ := http.NewRequest("POST", base+"/v1/reports/tcd", nil)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err = cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: POST /v1/reports/tcd: %d, want 405", who[0], res.StatusCode)
		}
	}
}
