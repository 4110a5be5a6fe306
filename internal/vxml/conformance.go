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

// TestResult is the verdict on one conformance test.
type TestResult struct {
	ID     string
	Status string // PASS, FAIL or SKIP
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
// Companion documents are served over HTTP from an httptest server on
// 127.0.0.1, so submits, relative URIs and fetch errors take the real path.
func RunSuite(ctx context.Context, dir string, opt SuiteOptions) ([]TestResult, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
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
	fetcher := &prefixFetcher{from: "http://localhost/vxml/", to: srv.URL + "/", next: NewHTTPFetcher(client)}
	var out []TestResult
	for _, e := range m {
		if len(opt.Only) > 0 && !opt.Only[e.ID] {
			continue
		}
		r := RunTest(ctx, e, srv.URL+"/", fetcher, opt)
		if r.Status == "FAIL" {
			if by := referencedBy(abs, e.File); by != "" {
				r.Reason += " (companion document, loaded by " + by + ")"
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// RunTest runs one manifest entry; base is the URL the manifest's files are
// served under.
func RunTest(ctx context.Context, e ManifestEntry, base string, f Fetcher, opt SuiteOptions) TestResult {
	r := TestResult{ID: e.ID}
	switch {
	case e.JudgedBy == "listener":
		r.Status, r.Reason = "SKIP", "judged by a listener"
		return r
	case e.Needs == "needs_ASR_or_speech" && !opt.Speech:
		r.Status, r.Reason = "SKIP", "needs a speech recogniser"
		return r
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var transcript strings.Builder
	tp := &TextPlatform{Out: &transcript, Auto: true, Limit: judgeLimit}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewSession(Config{Platform: tp, Fetcher: f, Logger: logger,
		Session: SessionInfo{CallID: event.CallID("w3c-" + e.ID), LocalURI: "sip:test@127.0.0.1", RemoteURI: "sip:caller@127.0.0.1", RequestURI: "sip:test@127.0.0.1"}})
	if err != nil {
		r.Status, r.Reason = "FAIL", err.Error()
		return r
	}
	uri := base + strings.TrimPrefix(filepath.ToSlash(e.File), "/")
	out, err := s.Run(ctx, uri)
	r.Output = transcript.String()
	r.Status, r.Reason = Judge(tp.Played, out, err)
	if r.Status == "FAIL" && tp.TimedOut {
		r.Reason = "no verdict within 30 s (virtual clock)"
	}
	return r
}

// Judge applies the W3C rules to a finished session: pass when "pass" was
// played and the session ended normally; fail on "fail", an uncaught error,
// the time limit, or no verdict.
func Judge(played []string, out Outcome, err error) (status, reason string) {
	norm := func(p string) string {
		return strings.Trim(strings.ToLower(strings.TrimSpace(p)), ".!")
	}
	passed := false
	for i, p := range played {
		switch norm(p) {
		case "fail":
			why := ""
			if i+1 < len(played) {
				why = ": " + played[i+1]
			}
			return "FAIL", "fail prompt played" + why
		case "pass":
			passed = true
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "FAIL", "wall-clock timeout"
	case err != nil:
		return "FAIL", err.Error()
	case out.Reason == "error":
		return "FAIL", "uncaught " + out.Event + ": " + out.Message
	case passed:
		return "PASS", ""
	}
	return "FAIL", "ended (" + out.Reason + ") without a pass prompt"
}

// WriteResults prints one line per test and the summary line.
func WriteResults(w io.Writer, rs []TestResult) (passed, failed, skipped int) {
	for _, r := range rs {
		fmt.Fprintln(w, r.String())
		switch r.Status {
		case "PASS":
			passed++
		case "FAIL":
			failed++
		default:
			skipped++
		}
	}
	if skipped > 0 {
		fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	} else {
		fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	}
	return
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

// referencedBy names another document of the suite that refers to file: the
// manifests list companion documents (application roots, subdialogs, goto
// targets) as tests of their own, and a failure to say so would mislead.
func referencedBy(dir, file string) string {
	base := filepath.Base(file)
	var hits []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".vxml") || filepath.Base(p) == base {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), `"`+base) {
			hits = append(hits, filepath.Base(p))
		}
		return nil
	})
	return strings.Join(hits, ", ")
}
