package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestHandler(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, StoreConfig{Driver: DriverSQLite, Path: filepath.Join(t.TempDir(), "events.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := newWriter(t, s, WriterConfig{})
	for _, c := range callEvents() {
		for _, e := range c {
			w.Emit(e)
		}
	}
	// c1's caller passed a VoiceXML menu (a wrong key, then 2); c2 ran a
	// micro-app; a1 was ready 10:00-10:25.
	for _, e := range []event.Event{
		{Call: "c1", Time: at(1), Kind: event.IVRStep, Script: "http://gw/menu.vxml#main", Node: "choice", State: "field", Target: "7", Reason: "nomatch"},
		{Call: "c1", Time: at(1), Kind: event.IVRStep, Script: "http://gw/menu.vxml#main", Node: "choice", State: "field", Target: "2", Reason: "filled"},
		{Call: "c2", Time: at(101), Kind: event.IVRResult, Script: "GD", Target: "caller_input=5", Reason: "ok"},
		{Kind: event.AgentState, Agent: "a1", Time: at(0), State: "ready"},
		{Kind: event.AgentState, Agent: "a1", Time: at(25 * 60), State: "not_ready", ReasonCode: 4},
	} {
		w.Emit(e)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	h := Handler(s, Options{
		Now:      func() time.Time { return at(500) },
		Location: time.UTC,
		Live: func(context.Context) (Live, error) {
			return Live{Queues: []LiveQueue{{Name: "sales", Waiting: 3}}}, nil
		},
		Authorize: func(r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer sup" {
				return errors.New("report: supervisor token required")
			}
			return nil
		},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer sup")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	code, body := get("/v1/reports/intervals?kind=call_type&from=2026-03-02T10:00:00Z&to=2026-03-02T11:00:00Z")
	var rows []IntervalRow
	if code != 200 || json.Unmarshal([]byte(body), &rows) != nil || len(rows) != 1 || rows[0].Counters != wantIntervals["call_type/sales"] ||
		rows[0].SLAbandonsPositive != 0.75 {
		t.Errorf("intervals: %d %s", code, body)
	}
	code, body = get("/v1/reports/tcd?call=c1&format=csv")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(recs) != 3 || recs[0][0] != "call_id" || recs[2][1] != "agent-1" || recs[2][13] != "15.000" {
		t.Errorf("tcd csv: %d %v %q", code, err, recs)
	}
	code, body = get("/v1/reports/ivr?call=c1")
	var steps []IVRStep
	if code != 200 || json.Unmarshal([]byte(body), &steps) != nil || len(steps) != 2 || steps[0].Input != "7" || steps[0].Outcome != "nomatch" ||
		steps[1].N != 2 || steps[1].Outcome != "filled" || steps[1].CallType != "sales" || steps[1].Item != "choice" || steps[1].Source != "vxml" {
		t.Errorf("ivr: %d %s", code, body)
	}
	code, body = get("/v1/reports/ivr?format=csv")
	recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(recs) != 4 || recs[0][8] != "input" || recs[3][0] != "c2" || recs[3][4] != "micro_app" ||
		recs[3][8] != "caller_input=5" {
		t.Errorf("ivr csv: %d %v %q", code, err, recs)
	}
	code, body = get("/v1/reports/intervals?kind=agent&name=a1")
	rows = nil
	if code != 200 || json.Unmarshal([]byte(body), &rows) != nil || len(rows) != 1 || rows[0].States == nil ||
		rows[0].States.ReadyNS != int64(25*time.Minute) || rows[0].States.LoggedOnNS != int64(25*time.Minute) || rows[0].RONA != 1 {
		t.Errorf("agent intervals: %d %s", code, body)
	}
	code, body = get("/v1/reports/intervals?kind=agent&name=a1&format=csv")
	recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	col := func(name string) string {
		for i, h := range recs[0] {
			if h == name && len(recs) > 1 {
				return recs[1][i]
			}
		}
		return "?"
	}
	if code != 200 || err != nil || len(recs) != 2 || col("ready_s") != "1500.000" || col("logged_on_s") != "1500.000" || col("not_ready_s") != "0.000" {
		t.Errorf("agent intervals csv: %d %v %q", code, err, recs)
	}
	code, body = get("/v1/reports/calls/c4/journey")
	if code != 200 || !strings.Contains(body, `"Kind":"agent.rona"`) {
		t.Errorf("journey: %d %s", code, body)
	}
	code, body = get("/v1/reports/realtime")
	var rt Realtime
	if code != 200 || json.Unmarshal([]byte(body), &rt) != nil || rt.Now == nil || rt.Now.Queues[0].Waiting != 3 ||
		rt.Today["skill_group/sales"].Handled != 2 || rt.Interval["agent/a1"].RONA != 1 {
		t.Errorf("realtime: %d %s", code, body)
	}
	for _, bad := range []struct {
		path string
		code int
	}{
		{"/v1/reports/tcd?from=yesterday", 400},
		{"/v1/reports/tcd?colour=red", 400},
		{"/v1/reports/intervals?kind=team", 400},
		{"/v1/reports/tcd?limit=0", 400},
		{"/v1/reports/tcd?from=2026-03-02T11:00:00Z&to=2026-03-02T10:00:00Z", 400},
		{"/v1/reports/calls/nosuch/journey", 404},
	} {
		if code, body := get(bad.path); code != bad.code || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d with an error", bad.path, code, body, bad.code)
		}
	}
	res, err := http.Get(srv.URL + "/v1/reports/tcd")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("without a token: %d, want 401", res.StatusCode)
	}
}
