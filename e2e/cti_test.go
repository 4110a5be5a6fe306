package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/router"
)

// ctiCall makes one CTI API request and decodes a JSON answer into out.
func ctiCall(t *testing.T, n *node, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, "http://"+n.cti+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s -> %d %s", method, path, res.StatusCode, data)
	}
	return res.StatusCode
}

// desktop is an agent's desktop: its token and its event stream.
type desktop struct {
	token  string
	events chan cti.Event
}

func login(t *testing.T, n *node, id, pass, ext string) *desktop {
	t.Helper()
	var lr cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: router.AgentID(id), Password: pass, Extension: ext}, &lr); code != 200 {
		t.Fatalf("login %s: %d", id, code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws://"+n.cti+"/v1/events?token="+lr.Token, nil)
	if err != nil {
		t.Fatalf("events socket: %v", err)
	}
	d := &desktop{token: lr.Token, events: make(chan cti.Event, 100)}
	go func() {
		defer c.CloseNow()
		for {
			var ev cti.Event
			if err := wsjson.Read(ctx, c, &ev); err != nil {
				return
			}
			d.events <- ev
		}
	}()
	// The first event is the agent's state snapshot: once it is here the
	// subscription is live and no later event can be missed.
	d.await(t, cti.EventAgentState)
	return d
}

// await waits for the first event of type typ.
func (d *desktop) await(t *testing.T, typ cti.EventType) cti.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-d.events:
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", typ)
		}
	}
}

func withCTI(cfg string) string {
	return cfg + `
cti:
  supervisors: [{id: sue, password: s3cret}]
`
}

// TestAgentDesktopOverCTI: an agent logs in and goes ready over the CTI
// API; the call's data pops on its WebSocket; hold and retrieve from the
// desktop re-offer the caller's and the phone's media; a supervisor changes
// the router's configuration mid-call without dropping the call; the agent
// lands in wrap-up when the caller hangs up.
func TestAgentDesktopOverCTI(t *testing.T) {
	n := startTandem(t, withCTI(contactCenter()))
	agentPhone := phone(t, n, "1001", "p1001", scenario(t, "uas-held.xml"), "-m", "1")
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("ready: %d", code)
	}
	if ev := alice.await(t, cti.EventAgentState); ev.State != "ready" {
		t.Fatalf("alice's desktop shows %q, want ready", ev.State)
	}
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-held.xml"), "-s", "3000", "-m", "1", "-timeout", "40s", "-timeout_error")

	offer := alice.await(t, cti.EventCallOffered)
	if offer.Data == nil || offer.Data.ANI != "sipp" || offer.Data.DNIS != "3000" || offer.Data.CallType != "sales" {
		t.Fatalf("call data popped: %+v", offer.Data)
	}
	alice.await(t, cti.EventCallAnswered)
	call := "/v1/agents/alice/calls/" + string(offer.Call)

	// Another agent may not touch alice's call.
	bob := login(t, n, "bob", "b", "1002")
	if code := ctiCall(t, n, "POST", call+"/hold", bob.token, nil, nil); code != 403 {
		t.Fatalf("bob holding alice's call: %d, want 403", code)
	}

	// A supervisor changes the router's configuration during the call.
	var sup cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/supervisor/login", "", map[string]string{"id": "sue", "password": "s3cret"}, &sup); code != 200 {
		t.Fatalf("supervisor login: %d", code)
	}
	if code := ctiCall(t, n, "PUT", "/v1/config/router", sup.Token, []byte("dialed_numbers: [{number: x}]\n"), nil); code != 400 {
		t.Fatalf("invalid router config: %d, want 400", code)
	}
	newCfg := strings.Replace(routerSection(contactCenter()), "wrap_up: 3s", "wrap_up: 4s", 1)
	var ver cti.ConfigVersion
	if code := ctiCall(t, n, "PUT", "/v1/config/router", sup.Token, []byte(newCfg), &ver); code != 200 || ver.Version != 2 {
		t.Fatalf("router config change: %d version %d", code, ver.Version)
	}

	if code := ctiCall(t, n, "POST", call+"/hold", alice.token, nil, nil); code/100 != 2 {
		t.Fatalf("hold: %d", code)
	}
	alice.await(t, cti.EventCallHeld)
	if code := ctiCall(t, n, "POST", call+"/retrieve", alice.token, nil, nil); code/100 != 2 {
		t.Fatalf("retrieve: %d", code)
	}
	alice.await(t, cti.EventCallRetrieved)

	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("caller: %d ok, %d failed", ok, failed)
	}
	agentPhone.wait(10 * time.Second)
	if ok, failed := agentPhone.counts(); ok != 1 || failed != 0 {
		t.Fatalf("agent phone: %d ok, %d failed", ok, failed)
	}
	alice.await(t, cti.EventCallEnded)
	// The caller hung up: alice is in wrap-up, as her desktop shows.
	waitFor(t, 5*time.Second, "alice in wrap-up", func() bool {
		var v cti.AgentView
		return ctiCall(t, n, "GET", "/v1/agents/alice", alice.token, nil, &v) == 200 && v.State == "work_ready"
	})
}

// routerSection returns the router: block of a tandem config, unindented.
func routerSection(cfg string) string {
	_, after, _ := strings.Cut(cfg, "\nrouter:\n")
	var b strings.Builder
	for _, l := range strings.Split(after, "\n") {
		if l != "" && !strings.HasPrefix(l, "  ") {
			break
		}
		b.WriteString(strings.TrimPrefix(l, "  ") + "\n")
	}
	return b.String()
}
