package report

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/event"
)

func TestCSVSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"5551234", "5551234"},
		{"=1+2", "'=1+2"},
		{"+33123456789", "'+33123456789"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		// Numbers tandem computes (a negative duration, a reason code)
		// stay numbers: they cannot be formulas.
		{"-1", "-1"},
		{"-0.250", "-0.250"},
		{"-", "'-"},
		{"-.5", "'-.5"},
		{"-1.", "'-1."},
		{"-1e5", "'-1e5"},
		{"-1.2.3", "'-1.2.3"},
	}
	for _, tt := range tests {
		if got := csvSafe(tt.in); got != tt.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCSVInjection sends a call whose caller-controlled fields (ANI, call
// variables, a VoiceXML input) are spreadsheet formulas through the store
// and reads every CSV the API writes: no cell starts a formula.
func TestCSVInjection(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, StoreConfig{Driver: DriverSQLite, Path: filepath.Join(t.TempDir(), "events.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := newWriter(t, s, WriterConfig{})
	data := &event.Data{ANI: "=1+2", DNIS: "+1800", SIPCallID: "@x"}
	data.PV[0] = "-2+3+cmd|' /C calc'!A0"
	for _, e := range flow("c1", answeredByA1(
		step{20, event.AgentCallEnd, agentF("a1", "sales", "")},
		step{20, event.CallEnded, outcomeF(event.OutcomeAnswered)})...) {
		if e.Kind == event.RouteRequest {
			e.Data = data
		}
		w.Emit(e)
	}
	w.Emit(event.Event{Call: "c1", Time: at(1), Kind: event.IVRStep, Script: "=HYPERLINK(\"http://x\")", Node: "n", State: "field", Target: "\t=1", Reason: "filled"})
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(s, Options{Authorize: func(*http.Request) error { return nil }}))
	defer srv.Close()
	for _, path := range []string{"tcd", "rcd", "ivr", "agent_state", "intervals?kind=call_type", "calls/c1/journey"} {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		res, err := http.Get(srv.URL + "/v1/reports/" + path + sep + "format=csv")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		// rcd and agent_state have no rows for this call: their header
		// still goes through.
		if res.StatusCode != 200 || err != nil || len(recs) < 1 || (len(recs) < 2 && path != "rcd" && path != "agent_state") {
			t.Fatalf("%s: %d %v %q", path, res.StatusCode, err, body)
		}
		for _, rec := range recs[1:] {
			for i, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !plainNumber(cell) {
					t.Errorf("%s: column %s is %q: a spreadsheet would run it", path, recs[0][i], cell)
				}
			}
		}
		if path == "tcd" && !strings.Contains(string(body), "'=1+2") {
			t.Errorf("tcd: the ANI is not there as text: %s", body)
		}
	}
}
