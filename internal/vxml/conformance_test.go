package vxml

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
)

const w3cDir = "../../../shared/testdata/vxml-w3c/"

// Floors on the W3C IR suites, set at what the interpreter reaches so that a
// regression fails the build. CONFORMANCE.md explains every remaining failure.
var w3cFloors = []struct {
	suite   string
	speech  bool
	minPass int
}{
	{suite: "vxml20", minPass: 85},
	{suite: "vxml21", minPass: 11},
	{suite: "vxml20", speech: true, minPass: 93},
	{suite: "vxml21", speech: true, minPass: 15},
}

func TestW3CSuites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the W3C suites")
	}
	for _, f := range w3cFloors {
		name := f.suite
		if f.speech {
			name += "-speech"
		}
		t.Run(name, func(t *testing.T) {
			rs, err := RunSuite(context.Background(), w3cDir+f.suite, SuiteOptions{Speech: f.speech})
			if err != nil {
				t.Fatal(err)
			}
			pass := 0
			for _, r := range rs {
				switch r.Status {
				case "PASS":
					pass++
				case "SKIP":
					if f.speech && !strings.Contains(r.Reason, "listener") {
						t.Errorf("%s skipped in speech mode: %s", r.ID, r.Reason)
					}
				}
			}
			t.Logf("%s: %d of %d pass", name, pass, len(rs))
			if pass < f.minPass {
				for _, r := range rs {
					if r.Status == "FAIL" {
						t.Log(r)
					}
				}
				t.Errorf("%s: %d passed, floor is %d", name, pass, f.minPass)
			}
		})
	}
}

// TestW3CDebug runs one test with a transcript and debug log, and fails
// unless it passes: VXML_TEST=vxml20/1026 go test -run W3CDebug -v.
func TestW3CDebug(t *testing.T) {
	id := os.Getenv("VXML_TEST")
	if id == "" {
		t.Skip("set VXML_TEST=suite/id")
	}
	suite, tid, _ := strings.Cut(id, "/")
	rs, err := RunSuite(context.Background(), w3cDir+suite, SuiteOptions{Only: map[string]bool{tid: true}, Speech: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatalf("no test %q in %s", tid, suite)
	}
	for _, r := range rs {
		t.Logf("%s\n%s", r, r.Output)
		if r.Status != "PASS" {
			t.Errorf("%s", r)
		}
	}
}
