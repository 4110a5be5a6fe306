package vxml

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// ManifestEntry is one row of a W3C IR test manifest (see
// ../shared/testdata/README.md).
type ManifestEntry struct {
	ID        string   `json:"id"`
	File      string   `json:"file"`
	Needs     string   `json:"needs"`
	Features  []string `json:"features"`
	JudgedBy  string   `json:"judged_by"`
	Assertion string   `json:"assertion"`
}

// Result statuses. A companion document is not a test: it is listed with
// why, and counted apart.
const (
	StatusPass      = "PASS"
	StatusFail      = "FAIL"
	StatusSkip      = "SKIP"
	StatusCompanion = "COMPANION"
)

// TestResult is the verdict on one conformance test.
type TestResult struct {
	ID     string
	Status string // StatusPass, StatusFail, StatusSkip or StatusCompanion
	Reason string
	Output string // transcript, for failures
}

func (r TestResult) String() string {
	if r.Reason == "" {
		return r.Status + " " + r.ID
	}
	return r.Status + " " + r.ID + ": " + r.Reason
}

// SuiteOptions tunes RunSuite.
type SuiteOptions struct {
	// Speech runs the tests that need a recogniser too, with the automatic
	// caller's utterances matched as text against the speech grammars.
	Speech bool
	// SimTransfer runs the tests that need a transfer against the text
	// platform's simulated far end (answers after 1 s, hangs up after 10 s).
	SimTransfer bool
	// Timeout is the wall-clock bound per test (default 10 s); the virtual
	// clock bound of the judging rules (30 s) is applied separately.
	Timeout time.Duration
	Logger  *slog.Logger
	// Only restricts the run to these test ids, when not empty.
	Only map[string]bool
}

// judgeLimit is the W3C rule "fails after 30 s of neither pass nor fail",
// measured on the text platform's virtual clock.
const judgeLimit = 30 * time.Second

// Skip reasons; the text before the first " (" or ":" groups skips in the
// summary.
const (
	skipListener = "judged by a listener"
	skipASR      = "needs a speech recogniser (--speech matches the caller's words as text)"
	skipTransfer = "needs a transfer far end (one that answers, is busy or hangs up as the test expects; --sim-transfer uses the text platform's)"
	skipMissing  = "needs documents missing from the suite folder"
)

// LoadManifest reads DIR/manifest.json.
func LoadManifest(dir string) ([]ManifestEntry, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("vxml: manifest: %w", err)
	}
	var m []ManifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("vxml: manifest %s: %w", dir, err)
	}
	return m, nil
}

// RunSuite runs every test of DIR/manifest.json with the automatic caller.
// The documents of the folder decide which entries are companions of a test
// rather than tests (see Role); those are reported, not run. Documents are
// served over HTTP from an httptest server on 127.0.0.1, so submits,
// relative URIs and fetch errors take the real path.
func RunSuite(ctx context.Context, dir string, opt SuiteOptions) ([]TestResult, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	roles := analyzeSuite(abs, m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("vxml: suite server: %w", err)
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(abs)))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	// Fetches that leave the machine (a test names www.tellme.com) must fail
	// quickly rather than hang the suite.
	client := &http.Client{Timeout: 3 * time.Second}
	// The W3C documents address their companions at http://localhost/vxml/,
	// where the IR suite expected to be hosted; map that onto our server.
	fetcher := &prefixFetcher{from: localSuite, to: srv.URL + "/", next: NewHTTPFetcher(client)}
	var out []TestResult
	for _, e := range m {
		if len(opt.Only) > 0 && !opt.Only[e.ID] {
			continue
		}
		out = append(out, RunTest(ctx, e, roles[e.ID], srv.URL+"/", fetcher, opt))
	}
	return out, nil
}

// RunTest runs one manifest entry in its role; base is the URL the
// manifest's files are served under.
func RunTest(ctx context.Context, e ManifestEntry, role Role, base string, f Fetcher, opt SuiteOptions) TestResult {
	r := TestResult{ID: e.ID}
	switch {
	case role.Companion != "":
		r.Status, r.Reason = StatusCompanion, role.Companion
		return r
	case e.JudgedBy == "listener" || role.Listener:
		r.Status, r.Reason = StatusSkip, skipListener
		return r
	case e.Needs == "needs_ASR_or_speech" && !opt.Speech:
		r.Status, r.Reason = StatusSkip, skipASR
		return r
	case e.Needs == "transfer" && !opt.SimTransfer:
		r.Status, r.Reason = StatusSkip, skipTransfer
		return r
	case len(role.Missing) > 0:
		r.Status, r.Reason = StatusSkip, skipMissing+": "+strings.Join(role.Missing, ", ")
		return r
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var transcript strings.Builder
	tp := &TextPlatform{Out: &transcript, Auto: true, Limit: judgeLimit,
		// An audio file plays only if the suite's server has it, so a
		// missing one takes the <audio> fallback as it would on a call.
		AudioExists: func(uri string) bool {
			_, err := f.Fetch(ctx, FetchRequest{URI: uri, Timeout: 3 * time.Second})
			return err == nil
		}}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewSession(Config{Platform: tp, Fetcher: f, Logger: logger,
		Session: SessionInfo{CallID: event.CallID("w3c-" + e.ID), LocalURI: "sip:test@127.0.0.1", RemoteURI: "sip:caller@127.0.0.1", RequestURI: "sip:test@127.0.0.1"}})
	if err != nil {
		r.Status, r.Reason = StatusFail, err.Error()
		return r
	}
	uri := base + strings.TrimPrefix(filepath.ToSlash(e.File), "/")
	out, err := s.Run(ctx, uri)
	r.Output = transcript.String()
	r.Status, r.Reason = judge(tp.Played, out, err, role.NoPassPrompt)
	if r.Status == StatusFail && tp.TimedOut {
		r.Reason = "no verdict within 30 s (virtual clock)"
	}
	return r
}

// Judge applies the W3C rules to a finished session: pass when "pass" was
// played and the session ended normally; fail on "fail", an uncaught error,
// the time limit, or no verdict.
func Judge(played []string, out Outcome, err error) (status, reason string) {
	return judge(played, out, err, false)
}

// judge is Judge; with noPassPrompt (the test has no "pass" prompt at all:
// it asserts that <exit> or the end of a form stops the FIA before a "fail")
// a normal end without "fail" passes.
func judge(played []string, out Outcome, err error, noPassPrompt bool) (status, reason string) {
	passed := false
	for i, p := range played {
		switch verdict(p) {
		case "fail":
			why := ""
			if i+1 < len(played) {
				why = ": " + played[i+1]
			}
			return StatusFail, "fail prompt played" + why
		case "pass":
			passed = true
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return StatusFail, "wall-clock timeout"
	case err != nil:
		return StatusFail, err.Error()
	case out.Reason == "error":
		return StatusFail, "uncaught " + out.Event + ": " + out.Message
	case passed:
		return StatusPass, ""
	case noPassPrompt && (out.Reason == "exit" || out.Reason == "end"):
		return StatusPass, "no pass prompt in the test: ended (" + out.Reason + ") without fail"
	}
	return StatusFail, "ended (" + out.Reason + ") without a pass prompt"
}

// Summary counts a suite's results. Companion documents are not tests.
type Summary struct {
	Passed, Failed, Skipped, Companions int
	// SkippedWhy counts skips by reason (the text before its first colon).
	SkippedWhy map[string]int
}

// Runnable is the number of tests that ran to a verdict.
func (s Summary) Runnable() int { return s.Passed + s.Failed }

// Summarize counts results.
func Summarize(rs []TestResult) Summary {
	s := Summary{SkippedWhy: map[string]int{}}
	for _, r := range rs {
		switch r.Status {
		case StatusPass:
			s.Passed++
		case StatusFail:
			s.Failed++
		case StatusCompanion:
			s.Companions++
		default:
			s.Skipped++
			why, _, _ := strings.Cut(r.Reason, ":")
			why, _, _ = strings.Cut(why, " (")
			s.SkippedWhy[why]++
		}
	}
	return s
}

// String is the summary line: tests by outcome, skips by reason, and the
// companion documents left out of the count.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d passed, %d failed", s.Passed, s.Failed)
	if s.Runnable() > 0 {
		fmt.Fprintf(&b, " (%.1f%% of %d run)", 100*float64(s.Passed)/float64(s.Runnable()), s.Runnable())
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
		whys := make([]string, 0, len(s.SkippedWhy))
		for w := range s.SkippedWhy {
			whys = append(whys, w)
		}
		sort.Slice(whys, func(i, j int) bool {
			if s.SkippedWhy[whys[i]] != s.SkippedWhy[whys[j]] {
				return s.SkippedWhy[whys[i]] > s.SkippedWhy[whys[j]]
			}
			return whys[i] < whys[j]
		})
		parts := make([]string, len(whys))
		for i, w := range whys {
			parts[i] = fmt.Sprintf("%s: %d", w, s.SkippedWhy[w])
		}
		b.WriteString(" (" + strings.Join(parts, "; ") + ")")
	}
	if s.Companions > 0 {
		fmt.Fprintf(&b, "; %d companion documents not counted", s.Companions)
	}
	return b.String()
}

// WriteResults prints one line per manifest entry and the summary line.
func WriteResults(w io.Writer, rs []TestResult) Summary {
	for _, r := range rs {
		fmt.Fprintln(w, r.String())
	}
	s := Summarize(rs)
	fmt.Fprintln(w, s.String())
	return s
}

// prefixFetcher rewrites a URI prefix before fetching: the suite's documents
// name the host they were written for.
type prefixFetcher struct {
	from, to string
	next     Fetcher
}

func (p *prefixFetcher) Fetch(ctx context.Context, req FetchRequest) (*FetchResult, error) {
	if rest, ok := strings.CutPrefix(req.URI, p.from); ok {
		req.URI = p.to + rest
	}
	return p.next.Fetch(ctx, req)
}
