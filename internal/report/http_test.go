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
