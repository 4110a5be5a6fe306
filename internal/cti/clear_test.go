package cti

import (
	"context"
	"testing"

	"github.com/tandem-cc/tandem/internal/router"
)

// TestClearCall: a supervisor clears an agent's call: the call server is
// asked to end it (naming the supervisor), the router forgets the call and
// sends the agent to wrap-up; agents may not clear, and an unknown call is
// 404.
func TestClearCall(t *testing.T) {
	e := newEnv(t, Config{})
	sup := e.supervisor()
	t1 := e.login("a1", "p1")
	if code := e.state("a1", t1, "ready", 0); code != 200 {
		t.Fatal(code)
	}
	in, err := e.eng.Route(context.Background(), router.RouteRequest{Call: "c1", DNIS: "1000", ANI: "5551234"})
	if err != nil || in.Agent != "a1" {
		t.Fatalf("route: %+v, %v", in, err)
	}
	if err := e.eng.Answered("c1"); err != nil {
		t.Fatal(err)
	}

	if code := e.do("POST", "/v1/calls/c1/clear", t1, nil, nil); code != 403 {
		t.Fatalf("an agent clearing: %d, want 403", code)
	}
	var res ClearResponse
	if code := e.do("POST", "/v1/calls/c1/clear", sup, nil, &res); code != 200 {
		t.Fatalf("clear: %d", code)
	}
	if res.Call != "c1" || res.ClearedBy != "supervisor sup" {
		t.Fatalf("answer %+v", res)
	}
	if e.calls.last() != "clear c1 by supervisor sup" {
		t.Fatalf("call server asked %q", e.calls.last())
	}
	if st, _ := e.eng.Agent("a1"); st.State != router.WorkReady || st.Call != "" {
		t.Fatalf("a1 is %s on %q, want work_ready on no call", st.State, st.Call)
	}
	if _, err := e.eng.Positions("c1"); err == nil {
		t.Fatal("the router still knows the cleared call")
	}
	var eb ErrorBody
	if code := e.do("POST", "/v1/calls/c1/clear", sup, nil, &eb); code != 404 {
		t.Fatalf("clearing it again: %d (%s), want 404", code, eb.Error)
	}
	if code := e.do("POST", "/v1/calls/nope/clear", sup, nil, nil); code != 404 {
		t.Fatalf("unknown call: %d, want 404", code)
	}
	if code := e.do("POST", "/v1/calls/c1/clear", "", nil, nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
}
