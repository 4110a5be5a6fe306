package cti

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestCallOfferedAndControlled queues a call in the real router, makes the
// agent ready over the API and follows the call over the WebSocket: the
// offer with all its data, hold and retrieve, call data, transfer.
func TestCallOfferedAndControlled(t *testing.T) {
	e := newEnv(t, Config{})
	t1 := e.login("a1", "p1")
	t2 := e.login("a2", "p2")
	sup := e.supervisor()
	ws1, ws2, wsSup := e.dial(t1), e.dial(t2), e.dial(sup)
	eventually(t, "three subscribers", func() bool {
		return e.srv.hub.count("a1") == 1 && e.srv.hub.count("a2") == 1 && e.srv.hub.count("") == 1
	})

	in, err := e.eng.Route(context.Background(), router.RouteRequest{Call: "c1", DNIS: "1000", ANI: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != router.RunScript {
		t.Fatalf("route: %s, want run_script (queued with music)", in.Kind)
	}
	var pos []PositionView
	if code := e.do("GET", "/v1/calls/c1/positions", sup, nil, &pos); code != 200 || len(pos) != 1 || pos[0].Position != 1 {
		t.Fatalf("positions: %d %+v", code, pos)
	}

	if code := e.state("a1", t1, "ready", 0); code != 200 {
		t.Fatal(code)
	}
	seen := next(t, ws1, func(ev Event) bool { return ev.Type == EventCallOffered })
	// The snapshot sent on connect (not ready after login), then ready.
	if len(seen) < 3 || seen[0].Type != EventAgentState || seen[0].State != "not_ready" ||
		seen[1].Type != EventAgentState || seen[1].State != "ready" || seen[1].Agent != "a1" {
		t.Errorf("first events %+v, want a1's snapshot (not_ready) then agent_state ready", seen)
	}
	offer := seen[len(seen)-1]
	if offer.Call != "c1" || offer.Agent != "a1" || offer.Data == nil {
		t.Fatalf("offer %+v", offer)
	}
	d := offer.Data
	if d.ANI != "5551234" || d.DNIS != "1000" || d.CallType != "sales" ||
		d.Variables["pv1"] != "gold" || len(d.Variables) != router.NumCallVars || d.ECC["user.account"] != "A5551234" {
		t.Errorf("offer data %+v", *d)
	}
	next(t, wsSup, func(ev Event) bool { return ev.Type == EventCallOffered && ev.Call == "c1" })

	// Ringing: the agent is reserved, so hold is refused at once.
	if code := e.do("POST", "/v1/agents/a1/calls/c1/hold", t1, nil, nil); code != 409 {
		t.Errorf("hold while ringing: %d, want 409", code)
	}
	if err := e.eng.Answered("c1"); err != nil { // the call server's part
		t.Fatal(err)
	}
	e.srv.Publish(Event{Type: EventCallAnswered, Agent: "a1", Call: "c1"})
	next(t, ws1, func(ev Event) bool { return ev.Type == EventCallAnswered })

	calls := []struct {
		name, agent, token, path string
		body                     any
		code                     int
		state                    router.State // a1's state afterwards
		op                       string       // call server's last request
	}{
		{"hold", "a1", t1, "c1/hold", nil, 202, router.Hold, "hold c1"},
		{"hold again", "a1", t1, "c1/hold", nil, 409, router.Hold, "hold c1"},
		{"retrieve", "a1", t1, "c1/retrieve", nil, 202, router.Talking, "retrieve c1"},
		{"another agent's call", "a2", t2, "c1/hold", nil, 403, router.Talking, "retrieve c1"},
		{"unknown call", "a1", t1, "c9/hold", nil, 404, router.Talking, "retrieve c1"},
		{"unknown action", "a1", t1, "c1/park", nil, 404, router.Talking, "retrieve c1"},
		{"set data", "a1", t1, "c1/data", CallDataRequest{Variables: map[string]string{"pv2": "x", "user.account": "B1"}}, 202, router.Talking, "retrieve c1"},
		{"bad call variable", "a1", t1, "c1/data", CallDataRequest{Variables: map[string]string{"pv11": "x"}}, 400, router.Talking, "retrieve c1"},
		{"ECC too long", "a1", t1, "c1/data", CallDataRequest{Variables: map[string]string{"user.account": strings.Repeat("x", 11)}}, 400, router.Talking, "retrieve c1"},
		{"transfer without dest", "a1", t1, "c1/transfer", TransferRequest{To: "number"}, 400, router.Talking, "retrieve c1"},
		{"transfer to what", "a1", t1, "c1/transfer", TransferRequest{To: "moon", Dest: "x"}, 400, router.Talking, "retrieve c1"},
		{"transfer to unknown queue", "a1", t1, "c1/transfer", TransferRequest{To: "queue", Dest: "nope"}, 404, router.Talking, "retrieve c1"},
		{"transfer to agent", "a1", t1, "c1/transfer", TransferRequest{To: "agent", Dest: "a2"}, 202, router.Talking, "blind c1 102"},
		{"transfer to number", "a1", t1, "c1/transfer", TransferRequest{To: "number", Dest: "5000"}, 202, router.Talking, "blind c1 5000"},
	}
	for _, tt := range calls {
		var eb ErrorBody
		code := e.do("POST", "/v1/agents/"+tt.agent+"/calls/"+tt.path, tt.token, tt.body, &eb)
		if code != tt.code {
			t.Errorf("%s: status %d (%s), want %d", tt.name, code, eb.Error, tt.code)
		}
		if st, _ := e.eng.Agent("a1"); st.State != tt.state {
			t.Errorf("%s: a1 is %s, want %s", tt.name, st.State, tt.state)
		}
		if got := e.calls.last(); got != tt.op {
			t.Errorf("%s: call server's last request %q, want %q", tt.name, got, tt.op)
		}
		if tt.code == 400 && eb.Field == "" {
			t.Errorf("%s: 400 names no field (%s)", tt.name, eb.Error)
		}
	}
	next(t, ws1, func(ev Event) bool { return ev.Type == EventAgentState && ev.State == "hold" })
	next(t, ws1, func(ev Event) bool { return ev.Type == EventAgentState && ev.State == "talking" })

	// A blind transfer to a skill group goes back through the router: a2,
	// ready in support, is offered the call with the data a1 set.
	if code := e.state("a2", t2, "ready", 0); code != 200 {
		t.Fatal(code)
	}
	var tr TransferResponse
	if code := e.do("POST", "/v1/agents/a1/calls/c1/transfer", t1, TransferRequest{To: "queue", Dest: "support"}, &tr); code != 200 {
		t.Fatalf("transfer to support: %d", code)
	}
	if tr.Instruction != "connect" || tr.Agent != "a2" || e.calls.last() != "follow c1 connect a2" {
		t.Errorf("transfer answer %+v, call server %q", tr, e.calls.last())
	}
	ev := next(t, ws2, func(ev Event) bool { return ev.Type == EventCallOffered })
	if got := ev[len(ev)-1].Data; got.Variables["pv2"] != "x" || got.ECC["user.account"] != "B1" {
		t.Errorf("transferred call data %+v", got)
	}
	next(t, ws1, func(ev Event) bool { return ev.Type == EventAgentState && ev.State == "work_ready" })
	// End wrap-up with a wrap-up reason.
	if code := e.state("a1", t1, "ready", 3); code != 200 {
		t.Errorf("end wrap-up: %d", code)
	}
	next(t, ws1, func(ev Event) bool { return ev.Type == EventAgentState && ev.State == "ready" })
}

// TestEventsAuth: the WebSocket needs a token, in the query or a header.
func TestEventsAuth(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.login("a1", "p1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/v1/events"
	_, resp, err := websocket.Dial(ctx, url+"?token=bad", &websocket.DialOptions{HTTPClient: e.hc})
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("bad token: %v %v, want 401", err, resp)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: e.hc,
		HTTPHeader: map[string][]string{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatalf("header token: %v", err)
	}
	defer c.CloseNow()
	eventually(t, "subscriber", func() bool { return e.srv.hub.count("a1") == 1 })
	e.srv.Publish(Event{Type: EventCallRinging, Agent: "a1", Call: "c7"})
	e.srv.Publish(Event{Type: EventCallRinging, Agent: "a2", Call: "c8"}) // not a1's
	e.srv.Publish(Event{Type: EventCallEnded, Agent: "a1", Call: "c7"})
	seen := next(t, c, func(ev Event) bool { return ev.Type == EventCallEnded })
	if len(seen) != 3 || seen[0].Type != EventAgentState || seen[1].Call != "c7" || seen[1].Time.IsZero() {
		t.Errorf("a1 saw %+v, want its state snapshot then only its own two events, timed", seen)
	}
}

// TestSlowClientDisconnected: a client that does not read is dropped once
// its queue is full, and Publish never waits for it.
func TestSlowClientDisconnected(t *testing.T) {
	e := newEnv(t, Config{SendQueue: 2, WriteTimeout: field.Duration(200 * time.Millisecond)})
	tok := e.login("a1", "p1")
	slow := e.dial(tok)
	eventually(t, "subscriber", func() bool { return e.srv.hub.count("a1") == 1 })
	// Events of 1 MB fill the socket buffers within a few dozen, so the
	// writer blocks and the queue behind it fills.
	big := &CallData{ECC: map[string]string{"user.blob": strings.Repeat("x", 1<<20)}}
	var worst time.Duration
	for i := 0; i < 500 && e.srv.hub.count("a1") > 0; i++ {
		t0 := time.Now()
		e.srv.Publish(Event{Type: EventCallRinging, Agent: "a1", Call: "c1", Data: big})
		worst = max(worst, time.Since(t0))
	}
	if n := e.srv.hub.count("a1"); n != 0 {
		t.Fatalf("slow client still subscribed after 500 MB of events")
	}
	if worst > 100*time.Millisecond {
		t.Errorf("Publish took %s: it must never wait for a client", worst)
	}
	// The client, reading at last, finds its connection closed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var ev Event
		if err := wsjson.Read(ctx, slow, &ev); err != nil {
			if ctx.Err() != nil {
				t.Fatal("connection still open")
			}
			break
		}
	}
}

// TestShutdownClosesEverything: Shutdown closes every WebSocket with
// "going away", refuses new ones, and leaves no goroutine behind.
func TestShutdownClosesEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		e := newEnv(t, Config{})
		tok := e.login("a1", "p1")
		sup := e.supervisor()
		conns := []*websocket.Conn{e.dial(tok), e.dial(tok), e.dial(sup)}
		eventually(t, "subscribers", func() bool { return e.srv.hub.count("a1") == 2 && e.srv.hub.count("") == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		for i, c := range conns {
			var ev Event
			err := wsjson.Read(ctx, c, &ev)
			if err == nil && ev.Type == EventAgentState {
				err = wsjson.Read(ctx, c, &ev) // past an agent's state snapshot
			}
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Errorf("conn %d: %v, want close 1001", i, err)
			}
			_ = c.CloseNow()
		}
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/v1/events?token="+tok,
			&websocket.DialOptions{HTTPClient: e.hc})
		if err == nil || resp == nil || resp.StatusCode != 503 {
			t.Errorf("dial after shutdown: %v, want 503", err)
		}
		e.ts.Close()
	}()
	var now int
	deadline := time.Now().Add(5 * time.Second)
	for now = runtime.NumGoroutine(); now > before && time.Now().Before(deadline); now = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if now > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after shutdown:\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}
