package cti

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/router"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"ok", LoginRequest{ID: "a1", Password: "p1"}, 200, ""},
		{"ok with extension", LoginRequest{ID: "a2", Password: "p2", Extension: "202"}, 200, ""},
		{"bad password", LoginRequest{ID: "a1", Password: "nope"}, 401, ""},
		{"unknown agent looks like a bad password", LoginRequest{ID: "zz", Password: "p1"}, 401, ""},
		{"missing id", LoginRequest{Password: "p1"}, 400, "id"},
		{"unknown field", `{"id":"a1","password":"p1","pin":1}`, 400, "pin"},
		{"wrong type", `{"id":"a1","password":5}`, 400, "password"},
		{"extension in use", LoginRequest{ID: "a1", Password: "p1", Extension: "202"}, 409, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				LoginResponse
				ErrorBody
			}
			code := e.do("POST", "/v1/login", "", tt.body, &out)
			if code != tt.code {
				t.Fatalf("status %d (%q), want %d", code, out.Error, tt.code)
			}
			if out.Field != tt.field {
				t.Errorf("field %q, want %q", out.Field, tt.field)
			}
			if code == 200 {
				if len(out.Token) != 43 { // 32 bytes, unpadded base64url
					t.Errorf("token %q: want 43 characters", out.Token)
				}
				if out.Agent == nil || out.Agent.State != "not_ready" {
					t.Errorf("agent %+v: want not_ready", out.Agent)
				}
			}
		})
	}
	if st, _ := e.eng.Agent("a2"); st.Extension != "202" {
		t.Errorf("a2 extension %q, want the one given at login", st.Extension)
	}
}

func TestTokenRequired(t *testing.T) {
	e := newEnv(t, Config{TokenTTL: field.Duration(time.Hour)})
	good := e.login("a1", "p1")
	revoked := e.login("a1", "p1")
	if code := e.do("DELETE", "/v1/session", revoked, nil, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	tests := []struct {
		name, token string
		code        int
	}{
		{"valid", good, 200},
		{"none", "", 401},
		{"garbage", "not-a-token", 401},
		{"well formed but unknown", strings.Repeat("A", 43), 401},
		{"revoked", revoked, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := e.do("GET", "/v1/agents/a1", tt.token, nil, nil); code != tt.code {
				t.Errorf("GET agent: %d, want %d", code, tt.code)
			}
			if tt.code == 401 {
				if code := e.state("a1", tt.token, "ready", 0); code != 401 {
					t.Errorf("state: %d, want 401", code)
				}
			}
		})
	}
	e.clk.add(time.Hour)
	if code := e.do("GET", "/v1/agents/a1", good, nil, nil); code != 401 {
		t.Errorf("expired token: %d, want 401", code)
	}
}

func TestAgentActsOnlyOnItself(t *testing.T) {
	e := newEnv(t, Config{})
	t1 := e.login("a1", "p1")
	e.login("a2", "p2")
	tests := []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/agents/a2", nil},
		{"POST", "/v1/agents/a2/state", StateRequest{State: "ready"}},
		{"POST", "/v1/agents/a2/calls/c1/hold", nil},
		{"POST", "/v1/agents/a2/calls/c1/transfer", TransferRequest{To: "number", Dest: "5000"}},
		{"GET", "/v1/agents", nil},
		{"GET", "/v1/calls/c1/positions", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var eb ErrorBody
			if code := e.do(tt.method, tt.path, t1, tt.body, &eb); code != 403 {
				t.Errorf("status %d (%s), want 403", code, eb.Error)
			}
		})
	}
	if st, _ := e.eng.Agent("a2"); st.State != router.NotReady {
		t.Errorf("a2 is %s after a1's attempts, want not_ready", st.State)
	}
	if e.calls.last() != "" {
		t.Errorf("call server asked %q", e.calls.last())
	}
}

func TestStateChanges(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.login("a1", "p1")
	// Steps run in order on one agent; each says what the router must do.
	steps := []struct {
		name   string
		state  string
		reason int
		code   int
		after  string // agent state afterwards
		errHas string
	}{
		{"ready", "ready", 0, 200, "ready", ""},
		{"logout from ready is illegal", "logout", 0, 409, "ready", "illegal agent state change"},
		{"not ready with a logout reason", "not_ready", 2, 400, "ready", "unknown reason code"},
		{"not ready with break", "not_ready", 1, 200, "not_ready", ""},
		{"cannot ask for talking", "talking", 0, 400, "not_ready", "cannot be requested"},
		{"missing state", "", 0, 400, "not_ready", "state: required"},
		{"unknown reason", "not_ready", 99, 400, "not_ready", "unknown reason code"},
		{"logout with shift end", "logged_out", 2, 200, "logged_out", ""},
		{"logged out agent is unknown to the router", "ready", 0, 404, "logged_out", "unknown agent"},
	}
	for _, st := range steps {
		var out struct {
			AgentView
			ErrorBody
		}
		code := e.do("POST", "/v1/agents/a1/state", tok, StateRequest{State: st.state, Reason: st.reason}, &out)
		if code != st.code {
			t.Fatalf("%s: status %d (%s), want %d", st.name, code, out.Error, st.code)
		}
		if !strings.Contains(out.Error, st.errHas) {
			t.Errorf("%s: error %q, want it to contain %q", st.name, out.Error, st.errHas)
		}
		if code == 200 && out.State != st.after {
			t.Errorf("%s: response state %s, want %s", st.name, out.State, st.after)
		}
		if a, _ := e.eng.Agent("a1"); a.State.String() != st.after {
			t.Errorf("%s: router has %s, want %s", st.name, a.State, st.after)
		}
	}
}

func TestSupervisor(t *testing.T) {
	e := newEnv(t, Config{})
	var eb ErrorBody
	if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: "sup", Password: "wrong"}, &eb); code != 401 {
		t.Fatalf("bad supervisor password: %d", code)
	}
	if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: "a1", Password: "p1"}, nil); code != 401 {
		t.Fatalf("agent credential as supervisor: %d", code)
	}
	sup := e.supervisor()
	t1 := e.login("a1", "p1")
	if code := e.state("a1", t1, "ready", 0); code != 200 {
		t.Fatal(code)
	}

	var agents []AgentView
	if code := e.do("GET", "/v1/agents", sup, nil, &agents); code != 200 {
		t.Fatal(code)
	}
	got := map[router.AgentID]string{}
	for _, a := range agents {
		got[a.ID] = a.State
	}
	if got["a1"] != "ready" || got["a2"] != "logged_out" || len(got) != 2 {
		t.Errorf("agents %v, want a1 ready and a2 logged_out", got)
	}

	var queues []QueueView
	if code := e.do("GET", "/v1/queues", sup, nil, &queues); code != 200 {
		t.Fatal(code)
	}
	if len(queues) != 2 || queues[0].Name != "sales" || queues[0].Agents["ready"] != 1 {
		t.Errorf("queues %+v, want sales with one ready agent first", queues)
	}

	tests := []struct {
		name, agent, state string
		code               int
		after              router.State
	}{
		{"force ready is not a supervisor's", "a1", "ready", 400, router.Ready},
		{"force not ready", "a1", "not_ready", 200, router.NotReady},
		{"force logout", "a1", "logout", 200, router.LoggedOut},
		{"unknown agent", "zz", "not_ready", 404, router.LoggedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := e.state(tt.agent, sup, tt.state, 0); code != tt.code {
				t.Fatalf("status %d, want %d", code, tt.code)
			}
			if st, _ := e.eng.Agent(router.AgentID(tt.agent)); st.State != tt.after {
				t.Errorf("router has %s, want %s", st.State, tt.after)
			}
		})
	}
	// Logging out a ready agent is one request for a supervisor.
	e.login("a1", "p1")
	if code := e.state("a1", t1, "ready", 0); code != 200 {
		t.Fatal(code)
	}
	if code := e.state("a1", sup, "logged_out", 0); code != 200 {
		t.Fatalf("force logout of a ready agent: %d", code)
	}
	if code := e.do("GET", "/v1/queues/nope", sup, nil, nil); code != 404 {
		t.Errorf("unknown queue: %d", code)
	}
	// A supervisor does not control agents' calls.
	if code := e.do("POST", "/v1/agents/a1/calls/c1/release", sup, nil, nil); code != 403 {
		t.Errorf("supervisor release: %d, want 403", code)
	}
}

// TestLoginSlowsGuessing: past loginFailures wrong passwords for an
// account (or from an address) within the window, its logins get 429 with
// Retry-After, even with the right password, until the window passes.
// Agent and supervisor ids are counted apart.
func TestLoginSlowsGuessing(t *testing.T) {
	e := newEnv(t, Config{})
	for i := 0; i < loginFailures; i++ {
		if code := e.do("POST", "/v1/login", "", LoginRequest{ID: "a1", Password: "guess"}, nil); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code := e.do("POST", "/v1/login", "", LoginRequest{ID: "a1", Password: "p1"}, nil); code != 429 {
		t.Fatalf("after %d failures: %d, want 429", loginFailures, code)
	}
	// Another account from the same address is not held by a1's count...
	if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: "sup", Password: "secret"}, nil); code != 200 {
		t.Fatalf("a supervisor from the same address: %d, want 200", code)
	}
	// ...until the address itself has failed loginSourceFactor times as
	// often, at whatever accounts (the test client is one address).
	for i := 0; i < loginFailures*(loginSourceFactor-1); i++ {
		id := fmt.Sprintf("guess%d", i)
		if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: id, Password: "x"}, nil); code != 401 {
			t.Fatalf("guess at %s: %d, want 401", id, code)
		}
	}
	if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: "sup", Password: "secret"}, nil); code != 429 {
		t.Fatalf("a supervisor from an address that failed %d times: %d, want 429", loginFailures*loginSourceFactor, code)
	}
	e.clk.add(loginWindow + time.Second)
	if tok := e.login("a1", "p1"); tok == "" {
		t.Fatal("no token after the window")
	}
}
