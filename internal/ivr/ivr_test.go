package ivr

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/contract"
	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// continued is one Continue call the fake router received.
type continued struct {
	call        string
	input, code string
	failed      bool
}

// fakeRouter records Continue calls and answers from a script of Nexts;
// past the script it says Release.
type fakeRouter struct {
	mu   sync.Mutex // guards got, maps and next
	got  []continued
	maps []map[string]string // each whole result
	next []Next
	err  error
}

func (f *fakeRouter) Continue(res contract.ScriptResult) (Next, error) {
	call, result, failed := string(res.Call), res.Values, res.Failed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, continued{call, result["caller_input"], result["error"], failed})
	f.maps = append(f.maps, maps.Clone(result))
	if f.err != nil {
		return Next{}, f.err
	}
	if len(f.next) == 0 {
		return Next{Kind: Release}, nil
	}
	n := f.next[0]
	f.next = f.next[1:]
	return n, nil
}

func (f *fakeRouter) results() []continued {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *fakeRouter) resultMaps() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.maps)
}

// fakeQueue is the router's queue figures, as the test sets them.
type fakeQueue struct {
	mu   sync.Mutex // guards the fields below
	pos  int
	wait time.Duration
	ok   bool
	asks int
}

func (q *fakeQueue) Position(string) (int, time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asks++
	return q.pos, q.wait, q.ok
}

func (q *fakeQueue) set(pos int, wait time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pos, q.wait, q.ok = pos, wait, true
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	srv    *Server
	router *fakeRouter
	queue  *fakeQueue
	ts     *httptest.Server
	clock  *clock
}

func newRig(t *testing.T, cfg Config, next ...Next) *rig {
	t.Helper()
	fr := &fakeRouter{next: next}
	ck := &clock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	if cfg.MediaBase == "" {
		cfg.MediaBase = "http://media.test/en-us/"
	}
	if cfg.HoldRounds == 0 {
		cfg.HoldRounds = 3
	}
	fq := &fakeQueue{}
	s, err := New(cfg, Deps{Router: fr, Queue: fq, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler()) // binds 127.0.0.1
	t.Cleanup(ts.Close)
	return &rig{srv: s, router: fr, queue: fq, ts: ts, clock: ck}
}

func dtmf(keys string) vxml.ScriptedInput {
	return vxml.ScriptedInput{Kind: vxml.InputDTMF, Value: keys}
}

var silence = vxml.ScriptedInput{Kind: vxml.InputNoInput}

// run plays one call through the real interpreter on the text platform,
// starting at the gateway's bootstrap URL.
func (r *rig) run(t *testing.T, call string, inputs ...vxml.ScriptedInput) (*vxml.TextPlatform, vxml.Outcome, []string) {
	t.Helper()
	var audio []string
	tp := &vxml.TextPlatform{Inputs: inputs, Limit: 30 * time.Minute, MaxSilences: 5,
		AudioExists: func(uri string) bool { audio = append(audio, uri); return false }}
	var transcript strings.Builder
	tp.Out = &transcript
	sess, err := vxml.NewSession(vxml.Config{Platform: tp, Fetcher: vxml.NewHTTPFetcher(r.ts.Client()),
		Session: vxml.SessionInfo{CallID: event.CallID(call)}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Run(context.Background(), r.ts.URL+"/ivr/start?call="+url.QueryEscape(call))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, transcript.String())
	}
	t.Logf("transcript:\n%s", transcript.String())
	return tp, out, audio
}

func TestCallFlows(t *testing.T) {
	tests := []struct {
		name   string
		script string
		params map[string]string
		next   []Next
		inputs []vxml.ScriptedInput
		want   []continued
		reason string   // outcome
		played []string // prompts heard, each must appear
		audio  []string // audio URIs asked for
	}{
		{
			name: "menu then digits then leave", script: "M,main_menu,12",
			params: map[string]string{"tts": "Press 1 for sales, 2 for support."},
			next:   []Next{{Kind: RunScript, Script: "GD,-,4,8", Params: map[string]string{"tts": "Enter your account."}}, {Kind: Leave}},
			inputs: []vxml.ScriptedInput{dtmf("2"), dtmf("1234#")},
			want:   []continued{{"c1", "2", "none", false}, {"c1", "1234", "none", false}},
			reason: "exit", // the bounded hold loop ends
			played: []string{"Press 1 for sales, 2 for support.", "Enter your account."},
			audio:  []string{"http://media.test/en-us/main_menu.wav"},
		},
		{
			name: "digits noinput until too many", script: "GD,-,4,8",
			params: map[string]string{"tts": "Enter your account.", "retries": "2"},
			inputs: []vxml.ScriptedInput{silence, silence, silence},
			want:   []continued{{"c1", "", "noinput", true}},
			reason: "hangup", played: []string{"Sorry, I did not hear anything.", "Enter your account."},
		},
		{
			name: "digits too many invalid", script: "GD,-,4,8",
			params: map[string]string{"tts": "Enter your account.", "retries": "1"},
			inputs: []vxml.ScriptedInput{dtmf("12#"), dtmf("1#")},
			want:   []continued{{"c1", "", "nomatch", true}},
			reason: "hangup", played: []string{"Sorry, that is not a valid entry."},
		},
		{
			name: "digits after a noinput and a nomatch", script: "GD,-,4,8,*",
			params: map[string]string{"tts": "Enter your account."},
			inputs: []vxml.ScriptedInput{silence, dtmf("1*"), dtmf("5678*")},
			want:   []continued{{"c1", "5678", "none", false}},
			reason: "hangup",
		},
		{
			name: "digits with no retries", script: "GD,-,1,2",
			params: map[string]string{"tts": "Enter a code.", "retries": "0"},
			inputs: []vxml.ScriptedInput{silence},
			want:   []continued{{"c1", "", "noinput", true}},
			reason: "hangup",
		},
		{
			name: "menu invalid then valid", script: "M,-,13*",
			params: map[string]string{"tts": "Make a choice."},
			inputs: []vxml.ScriptedInput{dtmf("2"), dtmf("*")},
			want:   []continued{{"c1", "*", "none", false}},
			reason: "hangup",
		},
		{
			name: "play media escapes tts", script: "PM,-",
			params: map[string]string{"tts": `Tom <&"Jerry'> & co`},
			want:   []continued{{"c1", "", "none", false}},
			reason: "hangup", played: []string{`Tom <&"Jerry'> & co`},
		},
		{
			name: "play media audio falls back to tts", script: "PM,prompts/welcome",
			params: map[string]string{"tts": "Welcome."},
			next:   []Next{{Kind: RunScript, Script: "CAP"}},
			want:   []continued{{"c1", "", "none", false}, {"c1", "", "none", false}},
			reason: "hangup", played: []string{"Welcome."},
			audio: []string{"http://media.test/en-us/prompts/welcome.wav"},
		},
		{
			name: "play data", script: "PD,currency,USD12.50",
			want:   []continued{{"c1", "", "none", false}},
			reason: "hangup", played: []string{"USD12.50"},
		},
		{
			name: "get speech by dtmf", script: "GS,-,builtin:grammar/boolean",
			params: map[string]string{"tts": "Say or key your number."},
			inputs: []vxml.ScriptedInput{dtmf("42#")},
			want:   []continued{{"c1", "42", "none", false}},
			reason: "hangup",
		},
		{
			name: "get speech by voice", script: "GS,-,builtin:grammar/boolean",
			params: map[string]string{"tts": "Yes or no?"},
			inputs: []vxml.ScriptedInput{{Kind: vxml.InputVoice, Value: "yes"}},
			want:   []continued{{"c1", "true", "none", false}},
			reason: "hangup",
		},
		{
			name: "capture", script: "CAP,snap",
			want:   []continued{{"c1", "", "none", false}},
			reason: "hangup",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{}, tc.next...)
			if err := r.srv.Expect("c1", tc.script, tc.params); err != nil {
				t.Fatal(err)
			}
			tp, out, audio := r.run(t, "c1", tc.inputs...)
			if out.Reason != tc.reason {
				t.Errorf("outcome %v, want %s", out, tc.reason)
			}
			if got := r.router.results(); !slices.Equal(got, tc.want) {
				t.Errorf("router got %+v, want %+v", got, tc.want)
			}
			heard := strings.Join(tp.Played, "\n")
			for _, p := range tc.played {
				if !strings.Contains(heard, p) {
					t.Errorf("prompt %q not heard in %q", p, heard)
				}
			}
			for _, a := range tc.audio {
				if !slices.Contains(audio, a) {
					t.Errorf("audio %q not asked for (got %q)", a, audio)
				}
			}
		})
	}
}

func TestUnknownCall(t *testing.T) {
	r := newRig(t, Config{})
	tp, out, _ := r.run(t, "nobody")
	if out.Reason != "exit" {
		t.Errorf("outcome %v, want exit", out)
	}
	if len(tp.Logs) != 1 || !strings.Contains(tp.Logs[0], "unknown call") {
		t.Errorf("logs %q, want one about the unknown call", tp.Logs)
	}
	if got := r.router.results(); len(got) != 0 {
		t.Errorf("router got %+v, want nothing", got)
	}
}

func TestIdleCallExpires(t *testing.T) {
	r := newRig(t, Config{IdleTimeout: field.Duration(10 * time.Minute)})
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(10*time.Minute + time.Second)
	tp, out, _ := r.run(t, "c1")
	if out.Reason != "exit" || len(tp.Logs) == 0 || !strings.Contains(tp.Logs[0], "unknown call") {
		t.Errorf("outcome %v, logs %q: want an unknown call", out, tp.Logs)
	}
	if ids := r.srv.callIDs(); len(ids) != 0 {
		t.Errorf("table holds %q after expiry", ids)
	}
}

func TestTableCap(t *testing.T) {
	r := newRig(t, Config{MaxCalls: 2, IdleTimeout: field.Duration(time.Minute)})
	for _, id := range []string{"a", "b"} {
		if err := r.srv.Expect(id, "CAP", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.srv.Expect("a", "PM,-", map[string]string{"tts": "again"}); err != nil {
		t.Errorf("expect for a call already in the table: %v", err)
	}
	if err := r.srv.Expect("c", "CAP", nil); !errors.Is(err, ErrTableFull) {
		t.Errorf("third call: %v, want ErrTableFull", err)
	}
	r.clock.Add(2 * time.Minute)
	if err := r.srv.Expect("c", "CAP", nil); err != nil {
		t.Errorf("after the others went idle: %v", err)
	}
	if ids := r.srv.callIDs(); !slices.Equal(ids, []string{"c"}) {
		t.Errorf("table %q, want [c]", ids)
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: %s cache-control %q", u, resp.Status, resp.Header.Get("Cache-Control"))
	}
	return string(b)
}

func post(t *testing.T, u string, v url.Values) string {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestStaleResultNotContinued posts the same result twice (a gateway retry):
// the router must see it once.
func TestStaleResultNotContinued(t *testing.T) {
	r := newRig(t, Config{}, Next{Kind: RunScript, Script: "GD,-,1,4", Params: map[string]string{"tts": "Digits."}})
	if err := r.srv.Expect("c1", "M,-,12", map[string]string{"tts": "Menu."}); err != nil {
		t.Fatal(err)
	}
	get(t, r.ts.URL+"/ivr/start?call=c1")
	res := url.Values{"caller_input": {"1"}, "error": {"none"}}
	first := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", res)
	second := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", res)
	if n := len(r.router.results()); n != 1 {
		t.Errorf("router continued %d times, want 1", n)
	}
	for _, doc := range []string{first, second} {
		if !strings.Contains(doc, "Digits.") || !strings.Contains(doc, "seq=2") {
			t.Errorf("answer is not the GD micro-app:\n%s", doc)
		}
	}
}

// TestHoldServesNewMicroApp: after Leave the caller holds; an Expect (the
// router requeued the call) is served at the next hold round.
func TestHoldServesNewMicroApp(t *testing.T) {
	r := newRig(t, Config{HoldRounds: 100}, Next{Kind: Leave})
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	doc := post(t, r.ts.URL+"/ivr/result?call=c1&seq=1", url.Values{"error": {"none"}})
	if !strings.Contains(doc, `<goto next="hold?call=c1&amp;seq=2"/>`) {
		t.Fatalf("leave answer is not a hold round:\n%s", doc)
	}
	if doc := get(t, r.ts.URL+"/ivr/hold?call=c1&seq=2"); !strings.Contains(doc, "<break") {
		t.Fatalf("second round is not a hold round:\n%s", doc)
	}
	if err := r.srv.Expect("c1", "PM,-", map[string]string{"tts": "You are caller 3."}); err != nil {
		t.Fatal(err)
	}
	if doc := get(t, r.ts.URL+"/ivr/hold?call=c1&seq=2"); !strings.Contains(doc, "You are caller 3.") {
		t.Fatalf("hold did not serve the new micro-app:\n%s", doc)
	}
}

func TestRouterErrorEndsSession(t *testing.T) {
	r := newRig(t, Config{})
	r.router.err = errors.New("router: continue c1: unknown call")
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	tp, out, _ := r.run(t, "c1")
	if out.Reason != "exit" || len(tp.Logs) == 0 || !strings.Contains(tp.Logs[0], "router error") {
		t.Errorf("outcome %v logs %q: want an exit logging the router error", out, tp.Logs)
	}
	if ids := r.srv.callIDs(); len(ids) != 0 {
		t.Errorf("table still holds %q", ids)
	}
}

func TestHoldAudioAndRelease(t *testing.T) {
	r := newRig(t, Config{HoldAudio: "music/hold", HoldRounds: 2},
		Next{Kind: Leave})
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	_, out, audio := r.run(t, "c1")
	if out.Reason != "exit" {
		t.Errorf("outcome %v, want exit after the hold rounds", out)
	}
	if n := strings.Count(strings.Join(audio, " "), "http://media.test/en-us/music/hold.wav"); n != 2 {
		t.Errorf("hold audio played %d times, want 2 (%q)", n, audio)
	}
}

func TestRunSweepsIdleCalls(t *testing.T) {
	r := newRig(t, Config{IdleTimeout: field.Duration(20 * time.Millisecond)})
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.srv.Run(ctx) }()
	r.clock.Add(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for len(r.srv.callIDs()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not sweep the idle call")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{MediaBase: "media/", HoldRounds: -1, MaxCalls: -1}, Deps{Router: &fakeRouter{}})
	for _, want := range []string{"ivr.media_base", "ivr.hold_rounds", "ivr.max_calls"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want an error naming %s", err, want)
		}
	}
	if _, err := New(Config{}, Deps{}); !errors.Is(err, ErrNoRouter) {
		t.Errorf("New without router: %v, want ErrNoRouter", err)
	}
	r := newRig(t, Config{})
	if err := r.srv.Expect("c1", "GD,a,9,2", nil); !errors.Is(err, ErrBadScript) || !strings.Contains(err.Error(), "c1") {
		t.Errorf("Expect of a bad script: %v, want ErrBadScript naming the call", err)
	}
}

// TestBadNextScriptEndsSession: a RunScript the service cannot parse is the
// router's error; the caller is not left waiting on a broken document.
func TestBadNextScriptEndsSession(t *testing.T) {
	r := newRig(t, Config{}, Next{Kind: RunScript, Script: "ZZ"})
	if err := r.srv.Expect("c1", "CAP", nil); err != nil {
		t.Fatal(err)
	}
	tp, out, _ := r.run(t, "c1")
	if out.Reason != "exit" || len(tp.Logs) == 0 || !strings.Contains(tp.Logs[0], "router error") {
		t.Errorf("outcome %v logs %q: want an exit logging the router error", out, tp.Logs)
	}
}
