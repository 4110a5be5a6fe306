package cti

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tandem-cc/tandem/internal/router"
)

// routerYAML is a small deployment: dialed number 1000 runs a script that
// sets call data and queues to sales, then plays music while waiting.
const routerYAML = `
ring_no_answer: 60s
wrap_up: 30s
dialed_numbers: [{number: "1000", call_type: sales}]
call_types: [{name: sales, script: sales}]
skill_groups: [{name: sales}, {name: support}]
agents:
  - {id: a1, name: Ann, extension: "101", password: p1, skill_groups: [sales]}
  - {id: a2, name: Bob, extension: "102", password: p2, skill_groups: [support]}
reason_codes:
  - {code: 1, label: Break, kind: not_ready}
  - {code: 2, label: Shift end, kind: logout}
  - {code: 3, label: Sale, kind: wrap_up}
labels:
  - {name: vru, kind: network_vru, value: "7777"}
ecc_variables:
  - {name: user.account, max_length: 10}
scripts:
  - name: sales
    nodes:
      - {id: s, type: start, next: acct}
      - {id: acct, type: set, variable: user.account, value: "'A' + ani", next: pv}
      - {id: pv, type: set, variable: pv1, value: "'gold'", next: q}
      - {id: q, type: queue, skill_groups: [sales], next: music}
      - {id: music, type: run_vru_script, vru_script: "PM,holdmusic", label: vru, next: w}
      - {id: w, type: wait, wait: 30s, next: music}
`

// recorder is the call server as CTI sees it: it records each request and,
// like the real call server once the SIP side is done, reports hold,
// retrieve and release to the router so the router's state stays real.
type recorder struct {
	eng *router.Engine
	mu  sync.Mutex
	ops []string
}

func (r *recorder) note(s string) {
	r.mu.Lock()
	r.ops = append(r.ops, s)
	r.mu.Unlock()
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ops) == 0 {
		return ""
	}
	return r.ops[len(r.ops)-1]
}

func (r *recorder) Hold(_ context.Context, c router.CallID) error {
	r.note("hold " + string(c))
	return r.eng.Hold(c)
}

func (r *recorder) Retrieve(_ context.Context, c router.CallID) error {
	r.note("retrieve " + string(c))
	return r.eng.Retrieve(c)
}

func (r *recorder) Release(_ context.Context, c router.CallID) error {
	r.note("release " + string(c))
	return r.eng.End(c)
}

// Clear ends the call in the router, as the call server's Ended does
// (an unknown call is the router's ErrUnknownCall, a 404).
func (r *recorder) Clear(_ context.Context, c router.CallID, by string) error {
	r.note("clear " + string(c) + " by " + by)
	return r.eng.End(c)
}

func (r *recorder) BlindTransfer(_ context.Context, c router.CallID, dest string) error {
	r.note("blind " + string(c) + " " + dest)
	return nil
}

func (r *recorder) Follow(_ context.Context, c router.CallID, in router.Instruction) error {
	r.note("follow " + string(c) + " " + in.Kind.String() + " " + string(in.Agent))
	return nil
}

func (r *recorder) Consult(_ context.Context, c router.CallID, to ConsultTarget) (router.AgentID, error) {
	r.note("consult " + string(c) + " " + string(to.Agent) + to.Queue + to.Number)
	if to.Number != "" {
		return "", nil
	}
	in, err := r.eng.Consult(c, router.ConsultTarget{Agent: to.Agent, Queue: router.QueueName(to.Queue)})
	if err != nil {
		return "", err
	}
	return in.Agent, r.eng.ConsultAnswered(c)
}

func (r *recorder) CompleteConsult(_ context.Context, c router.CallID) error {
	r.note("complete " + string(c))
	return r.eng.ConsultEnd(c, true)
}

func (r *recorder) CancelConsult(_ context.Context, c router.CallID) error {
	r.note("cancel " + string(c))
	return r.eng.ConsultEnd(c, false)
}

func (r *recorder) Conference(_ context.Context, c router.CallID) error {
	r.note("conference " + string(c))
	return r.eng.Conference(c)
}

// clock is a settable clock for token expiry.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }

type env struct {
	t     *testing.T
	eng   *router.Engine
	srv   *Server
	ts    *httptest.Server
	calls *recorder
	clk   *clock
	hc    *http.Client
	// devices are the phones: 101, 102, 201 and 202, all registered
	// unless a test unregisters one.
	devices *fakeDevices
}

// newEnv starts the real router and a CTI server on 127.0.0.1, wired as
// cmd/tandem wires them: the router's Notify feeds Server.Notify.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	rc, err := router.ParseConfig([]byte(routerYAML))
	if err != nil {
		t.Fatal(err)
	}
	var srvp atomic.Pointer[Server]
	eng, err := router.New(rc, router.Deps{Notify: func(n router.Notice) {
		if s := srvp.Load(); s != nil {
			s.Notify(n)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	agents, queues := DirectoryOf(rc)
	if cfg.Supervisors == nil {
		cfg.Supervisors = []Supervisor{{ID: "sup", Password: "secret"}}
	}
	e := &env{t: t, eng: eng, calls: &recorder{eng: eng}, clk: newClock(),
		hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	e.devices = newFakeDevices("101", "102", "201", "202")
	srv, err := New(cfg, Deps{Engine: eng, Calls: e.calls, Now: e.clk.now, Devices: e.devices, Agents: agents, Queues: queues})
	if err != nil {
		t.Fatal(err)
	}
	srvp.Store(srv)
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		e.ts.Close()
	})
	return e
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (e *env) do(method, path, token string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (e *env) login(id, pw string) string {
	e.t.Helper()
	var lr LoginResponse
	if code := e.do("POST", "/v1/login", "", LoginRequest{ID: router.AgentID(id), Password: pw}, &lr); code != 200 {
		e.t.Fatalf("login %s: status %d", id, code)
	}
	return lr.Token
}

func (e *env) supervisor() string {
	e.t.Helper()
	var lr LoginResponse
	if code := e.do("POST", "/v1/supervisor/login", "", SupervisorLoginRequest{ID: "sup", Password: "secret"}, &lr); code != 200 {
		e.t.Fatalf("supervisor login: status %d", code)
	}
	return lr.Token
}

func (e *env) state(id, token, state string, reason int) int {
	e.t.Helper()
	return e.do("POST", "/v1/agents/"+id+"/state", token, StateRequest{State: state, Reason: reason}, nil)
}

func (e *env) dial(token string) *websocket.Conn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/v1/events?token="+token,
		&websocket.DialOptions{HTTPClient: e.hc})
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetReadLimit(4 << 20)
	e.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// next reads events until one satisfies want, returning those read.
func next(t *testing.T, c *websocket.Conn, want func(Event) bool) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var seen []Event
	for {
		var ev Event
		if err := wsjson.Read(ctx, c, &ev); err != nil {
			t.Fatalf("reading events (seen %+v): %v", seen, err)
		}
		seen = append(seen, ev)
		if want(ev) {
			return seen
		}
	}
}

// eventually waits for cond with a deadline instead of sleeping.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
