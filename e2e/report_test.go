package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/report/reporttest"
	"github.com/tandem-cc/tandem/internal/router"
)

// reportCenter is contactCenter with a third agent (carol, 1003, support
// only), a supervisor for the report API, and the report store given.
// short_call is 1ns so that the test's abandon (a CANCEL right after the
// 180) counts as abandoned rather than as a short call.
func reportCenter(store string) string {
	cfg := strings.Replace(contactCenter(), `  - {user: "1002", password: p1002}`,
		`  - {user: "1002", password: p1002}
  - {user: "1003", password: p1003}`, 1)
	cfg = strings.Replace(cfg, `    - {id: bob, extension: "1002", password: b, skill_groups: [sales, support]}`,
		`    - {id: bob, extension: "1002", password: b, skill_groups: [sales]}
    - {id: carol, extension: "1003", password: c, skill_groups: [support]}`, 1)
	return withCTI(cfg) + `
report:
  short_call: 1ns
` + store
}

// TestReportRecordsFromSIPpCalls runs an abandon in queue, a
// ring-no-answer then answer, and a blind transfer through CTI with SIPp
// callers and phones, then reads the records and interval figures over
// the report API, in SQLite and in PostgreSQL.
func TestReportRecordsFromSIPpCalls(t *testing.T) {
	need(t, "sipp")
	for _, backend := range []struct{ name, store string }{
		{"sqlite", "  driver: sqlite\n"},
		{"postgres", ""},
	} {
		t.Run(backend.name, func(t *testing.T) {
			store := backend.store
			if backend.name == "postgres" {
				pg := reporttest.StartPostgres(t, false)
				store = "  driver: postgres\n  dsn: " + pg.CreateDB("tandem") + "\n"
			}
			reportFlows(t, startTandem(t, reportCenter(store)))
		})
	}
}

func reportFlows(t *testing.T, n *node) {
	phone(t, n, "1001", "p1001", "")                          // alice answers
	phone(t, n, "1002", "p1002", scenario(t, "uas-ring.xml")) // bob never does
	carolPhone := phone(t, n, "1003", "p1003", "", "-m", "1")

	// 1. Nobody is ready: the caller abandons while queued.
	if ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-cancel.xml"), "-s", "3000", "-m", "1"); ok != 1 || failed != 0 {
		t.Fatalf("abandoning caller: %d ok, %d failed", ok, failed)
	}
	waitFor(t, 5*time.Second, "the abandoned call to end", func() bool { return n.cs.Active() == 0 })

	// 2. Only bob is ready: his phone rings past ring_timeout (RONA),
	// the call is requeued, alice comes ready and answers.
	ready(t, n, "bob", "b", "1002")
	done := make(chan [2]int, 1)
	go func() {
		ok, failed := runUAC(t, n.addr, "-sn", "uac", "-s", "3000", "-m", "1")
		done <- [2]int{ok, failed}
	}()
	waitFor(t, 15*time.Second, "bob not ready after RONA", func() bool {
		st := agentState(t, n, "bob")
		return st.State == router.NotReady && st.Reason == router.RONAReason
	})
	alice := login(t, n, "alice", "a", "1001")
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/state", alice.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("alice ready: %d", code)
	}
	select {
	case r := <-done:
		if r[0] != 1 || r[1] != 0 {
			t.Fatalf("RONA caller: %d ok, %d failed", r[0], r[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the RONA call never reached alice")
	}
	alice.await(t, cti.EventCallOffered)

	// 3. Once alice's wrap-up ends she takes the next call and blind
	// transfers it to support, where carol answers.
	caller := startSIPp(t, n.addr, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-sf", scenario(t, "uac-move.xml"), "-s", "3000", "-m", "1", "-timeout", "30s", "-timeout_error")
	offer := alice.await(t, cti.EventCallOffered)
	alice.await(t, cti.EventCallAnswered)
	carol := login(t, n, "carol", "c", "1003")
	if code := ctiCall(t, n, "POST", "/v1/agents/carol/state", carol.token, map[string]any{"state": "ready"}, nil); code/100 != 2 {
		t.Fatalf("carol ready: %d", code)
	}
	if code := ctiCall(t, n, "POST", "/v1/agents/alice/calls/"+string(offer.Call)+"/transfer", alice.token,
		cti.TransferRequest{To: "queue", Dest: "support"}, nil); code/100 != 2 {
		t.Fatalf("transfer: %d", code)
	}
	caller.wait(30 * time.Second)
	if ok, failed := caller.counts(); ok != 1 || failed != 0 {
		t.Fatalf("transferred caller: %d ok, %d failed", ok, failed)
	}
	carolPhone.wait(10 * time.Second)

	// The records, over the report API with a supervisor's token.
	var sup cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/supervisor/login", "", cti.SupervisorLoginRequest{ID: "sue", Password: "s3cret"}, &sup); code != 200 {
		t.Fatalf("supervisor login: %d", code)
	}
	if code := ctiCall(t, n, "GET", "/v1/reports/tcd", alice.token, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("an agent's token read the reports: %d, want 401", code)
	}
	type fig struct{ offered, handled, abandoned, short, rona, slOffered, inSL, abInSL int64 }
	want := map[string]fig{
		// Three calls: abandoned, RONA then answered, answered then
		// transferred. All waited well under the 20 s service level.
		"call_type/sales":   {offered: 3, handled: 2, abandoned: 1, rona: 1, slOffered: 3, inSL: 2, abInSL: 1},
		"skill_group/sales": {offered: 3, handled: 2, abandoned: 1, rona: 1, slOffered: 3, inSL: 2, abInSL: 1},
		// The transferred call, queued to support and answered by carol.
		"skill_group/support": {offered: 1, handled: 1, slOffered: 1, inSL: 1},
		"agent/alice":         {offered: 2, handled: 2},
		"agent/bob":           {offered: 1, rona: 1},
		"agent/carol":         {offered: 1, handled: 1},
	}
	got := map[string]fig{}
	waitReport(t, 30*time.Second, "interval figures", func() bool {
		var rows []report.IntervalRow
		if code := ctiCall(t, n, "GET", "/v1/reports/intervals", sup.Token, nil, &rows); code != 200 {
			return false
		}
		got = map[string]fig{}
		by := map[string][]report.IntervalRow{}
		for _, r := range rows {
			by[r.Kind+"/"+r.Name] = append(by[r.Kind+"/"+r.Name], r) // the calls may straddle an interval boundary
		}
		for k, rs := range by {
			c := report.Sum(rs).Counters
			got[k] = fig{c.Offered, c.Handled, c.Abandoned, c.ShortAbandoned, c.RONA, c.SLOffered, c.AnsweredInSL, c.AbandonedInSL}
		}
		return fmt.Sprint(got) == fmt.Sprint(want)
	}, func() string { return fmt.Sprintf("got  %v\nwant %v", got, want) })

	// Termination call detail of the transferred call: alice's leg ends
	// transferred, carol's handled; wrap-up is recorded for both.
	var legs []report.TCD
	waitReport(t, 15*time.Second, "the transferred call's wrap-ups", func() bool {
		legs = nil
		ctiCall(t, n, "GET", "/v1/reports/tcd?call="+string(offer.Call), sup.Token, nil, &legs)
		agents := 0
		for _, l := range legs {
			if l.LegKind == "agent" && l.WrapUp > 0 {
				agents++
			}
		}
		return agents == 2
	}, func() string { return fmt.Sprintf("%+v", legs) })
	disp := map[string]string{}
	for _, l := range legs {
		if l.LegKind == "agent" {
			disp[string(l.Agent)] = l.Disposition
		}
		if l.LegKind == "caller" && (l.Data.SIPCallID == "" || l.Data.DNIS != "3000" || l.Talk <= 0) {
			t.Errorf("caller leg %+v: want the SIP Call-ID, DNIS 3000 and talk time", l)
		}
	}
	if disp["alice"] != "transferred" || disp["carol"] != "handled" {
		t.Errorf("agent legs of the transferred call: %v", disp)
	}
	// Its journey reads in order and holds the transfer.
	var journey []json.RawMessage
	if code := ctiCall(t, n, "GET", "/v1/reports/calls/"+string(offer.Call)+"/journey", sup.Token, nil, &journey); code != 200 ||
		!containsKind(journey, "route.request") || !containsKind(journey, "agent.transfer") || !containsKind(journey, "call.ended") {
		t.Errorf("journey: %d events, code %d", len(journey), code)
	}
	// Agent state detail has bob's RONA not-ready.
	var states []report.AgentState
	ctiCall(t, n, "GET", "/v1/reports/agent_state?agent=bob", sup.Token, nil, &states)
	rona := false
	for _, s := range states {
		rona = rona || (s.State == "not_ready" && s.ReasonCode == router.RONAReason)
	}
	if !rona {
		t.Errorf("bob's agent state detail has no RONA not-ready: %+v", states)
	}
}

func containsKind(evs []json.RawMessage, kind string) bool {
	for _, e := range evs {
		if strings.Contains(string(e), `"Kind":"`+kind+`"`) {
			return true
		}
	}
	return false
}

// waitReport polls cond every 200 ms (records are derived about a second
// after a call's last event) and fails with detail() at the deadline.
func waitReport(t *testing.T, d time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, detail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
