package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/router"
)

// ctiPost posts v as JSON to the CTI API at addr with a bearer token
// (none for a login) and decodes the answer into out.
func ctiPost(t *testing.T, addr, path, token string, v, out any) int {
	t.Helper()
	b, _ := json.Marshal(v)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// TestClearCallFromLivePage: an admin clears a call from the Live page in
// headless Chromium while the caller talks to alice. Both SIP parties get
// BYE (each SIPp scenario ends only on it), alice goes to wrap-up, the
// router forgets the call, and the call's record says cleared.
func TestClearCallFromLivePage(t *testing.T) {
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

	n, sipAddr, _ := startTandem(t)
	// alice's phone answers and waits for tandem's BYE (SIPp's built-in
	// UAS); the caller waits for BYE too.
	alicePhone := phone(t, sipAddr, agentExt, "p1001", "-sn", "uas", "-m", "1")
	var lr struct{ Token string }
	if code := ctiPost(t, n.CTIAddr(), "/v1/login", "", map[string]string{"id": agentID, "password": agentPass, "extension": agentExt}, &lr); code != 200 {
		t.Fatalf("alice login: %d", code)
	}
	if code := ctiPost(t, n.CTIAddr(), "/v1/agents/"+agentID+"/state", lr.Token, map[string]any{"state": "ready"}, nil); code != 200 {
		t.Fatalf("alice ready: %d", code)
	}
	caller := sipp(t, sipAddr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-s", dnis, "-m", "1",
		"-timeout", "60s", "-timeout_error", "-sf", scenario(t, "uac-caller.xml", "ANI", ani))
	var call router.CallID
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := n.Engine.Agent(agentID)
		if err == nil && st.State == router.Talking {
			call = st.Call
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice never talked: %+v %v\ncaller: %s", st, err, caller.output())
		}
		time.Sleep(20 * time.Millisecond)
	}

	art := artifactDir(t)
	pr, pw := io.Pipe()
	script := start(t, ".", pw, []string{
		"BASE=http://" + n.ConsoleAddr(), "ARTIFACTS=" + art, "CHROMIUM=" + chromium,
		"USER_NAME=" + adminUser, "USER_PASS=" + adminPass, "ROLE=admin", "LANDING=**/health", "CALL=" + string(call),
	}, "node", "clear.mjs")
	go func() { <-script.done; pw.Close() }()
	timeout := time.AfterFunc(2*time.Minute, func() { _ = syscall.Kill(-script.cmd.Process.Pid, syscall.SIGKILL) })
	defer timeout.Stop()
	var steps, shots []string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := lines.Text()
		t.Log("browser: " + line)
		switch {
		case strings.HasPrefix(line, "STEP "):
			steps = append(steps, strings.TrimPrefix(line, "STEP "))
		case strings.HasPrefix(line, "SCREENSHOT "):
			shots = append(shots, strings.TrimPrefix(line, "SCREENSHOT "))
		}
	}
	script.wait(t, 10*time.Second, "the browser script")
	if script.err != nil || len(steps) == 0 || steps[len(steps)-1] != "done" {
		t.Fatalf("the browser script stopped after steps %v: %v", steps, script.err)
	}
	for _, s := range shots {
		if fi, err := os.Stat(s); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", s, err)
		}
	}
	fmt.Printf("clear-call screenshots (%d) in %s\n", len(shots), art)

	caller.wait(t, 20*time.Second, "the caller (BYE)")
	if caller.err != nil {
		t.Errorf("the caller did not get its BYE: %v\n%s", caller.err, caller.output())
	}
	alicePhone.wait(t, 20*time.Second, "alice's phone (BYE)")
	if alicePhone.err != nil {
		t.Errorf("alice's phone did not get its BYE: %v\n%s", alicePhone.err, alicePhone.output())
	}
	if st, _ := n.Engine.Agent(agentID); st.State != router.WorkReady || st.Call != "" {
		t.Errorf("alice is %s on %q after the clear, want work_ready on no call", st.State, st.Call)
	}
	if _, err := n.Engine.Positions(call); err == nil {
		t.Error("the router still holds the cleared call")
	}
	if n.Calls.Active() != 0 {
		t.Errorf("%d calls still up", n.Calls.Active())
	}
	// The record: the caller's leg says cleared.
	deadline = time.Now().Add(30 * time.Second)
	for {
		legs, err := n.Reports.TCDs(context.Background(), report.Filter{Call: string(call)})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range legs {
			if l.LegKind == "caller" && l.Disposition == string(event.OutcomeCleared) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call's record does not say cleared: %+v", legs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
