package vxml

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// memFetcher serves documents from memory under mem:/ URIs for tests.
type memFetcher map[string]string

func (m memFetcher) Fetch(_ context.Context, req FetchRequest) (*FetchResult, error) {
	key := strings.TrimPrefix(stripFragment(req.URI), "http://app.test/")
	body, ok := m[key]
	if !ok {
		return nil, &HTTPStatusError{URI: req.URI, Code: 404}
	}
	if len(req.Values) > 0 {
		body = strings.ReplaceAll(body, "$QUERY", req.Values.Encode())
	}
	return &FetchResult{Body: []byte(body), URI: stripFragment(req.URI)}, nil
}

type run struct {
	out    Outcome
	err    error
	tp     *TextPlatform
	played string
}

// runDocs runs main.vxml from docs with the scripted inputs.
func runDocs(t *testing.T, docs map[string]string, inputs ...ScriptedInput) run {
	t.Helper()
	var transcript strings.Builder
	tp := &TextPlatform{Out: &transcript, Inputs: inputs, Limit: time.Minute}
	s, err := NewSession(Config{Platform: tp, Fetcher: memFetcher(docs), Session: SessionInfo{
		CallID: "t1", LocalURI: "sip:ivr@gw", RemoteURI: "sip:alice@pstn", RequestURI: "sip:ivr@gw;corr=42",
		Headers: map[string]string{"X-Tandem-Call": "abc"}, AAI: "acct=7",
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Run(ctx, "http://app.test/main.vxml")
	t.Logf("transcript:\n%s", transcript.String())
	return run{out: out, err: err, tp: tp, played: strings.Join(tp.Played, "|")}
}

func dtmf(v string) ScriptedInput { return ScriptedInput{Kind: InputDTMF, Value: v} }
func say(v string) ScriptedInput  { return ScriptedInput{Kind: InputVoice, Value: v} }

var silence = ScriptedInput{Kind: InputNoInput}

func vx(body string) string {
	return `<?xml version="1.0"?><vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">` + body + `</vxml>`
}

func TestFIA(t *testing.T) {
	tests := []struct {
		name   string
		docs   map[string]string
		inputs []ScriptedInput
		played string // exact joined prompt texts
		reason string
	}{
		{
			name: "digits field with length and filled",
			docs: map[string]string{"main.vxml": vx(`<form><field name="pin" type="digits?length=4">
				<prompt>Enter your PIN.</prompt><filled>You said <value expr="pin"/>.</filled></field></form>`)},
			inputs: []ScriptedInput{dtmf("12"), dtmf("1234#")},
			played: "Enter your PIN.|Enter your PIN.|You said 1234.",
			reason: "end",
		},
		{
			name: "nomatch counts and catch selection",
			docs: map[string]string{"main.vxml": vx(`<form><field name="b" type="boolean">
				<prompt>Yes or no?</prompt>
				<nomatch>Bad one.</nomatch><nomatch count="2">Bad two.<exit/></nomatch></field></form>`)},
			inputs: []ScriptedInput{dtmf("7"), dtmf("8")},
			// A catch without reprompt suppresses the next prompt queueing.
			played: "Yes or no?|Bad one.|Bad two.",
			reason: "exit",
		},
		{
			name: "default noinput handler reprompts with counter",
			docs: map[string]string{"main.vxml": vx(`<form><field name="b" type="boolean">
				<prompt count="1">First.</prompt><prompt count="2">Second.</prompt>
				<filled><if cond="b">Yes.<else/>No.</if></filled></field></form>`)},
			inputs: []ScriptedInput{silence, dtmf("2")},
			played: "First.|Second.|No.",
			reason: "end",
		},
		{
			name: "event bubbles to document and application root",
			docs: map[string]string{
				"root.vxml": vx(`<var name="r" expr="'root'"/><catch event="my.event">Root caught <value expr="_event + ' ' + _message + ' ' + r"/>.</catch>`),
				"main.vxml": `<?xml version="1.0"?><vxml version="2.1" xmlns="http://www.w3.org/2001/vxml" application="root.vxml">
					<form><block><throw event="my.event.sub" message="hi"/></block></form></vxml>`,
			},
			played: "Root caught my.event.sub hi root.",
			reason: "end",
		},
		{
			name:   "uncaught error ends the session with a reason",
			docs:   map[string]string{"main.vxml": vx(`<form><block><assign name="nope" expr="1"/></block></form>`)},
			reason: "error",
		},
		{
			name: "goto nextitem and clear",
			docs: map[string]string{"main.vxml": vx(`<form><var name="n" expr="0"/>
				<block name="a"><assign name="n" expr="n+1"/>A<value expr="n"/></block>
				<block name="b"><if cond="n &lt; 2"><clear namelist="a b"/><goto nextitem="a"/></if>B</block></form>`)},
			played: "A1|A2|B",
			reason: "end",
		},
		{
			name: "menu with dtmf numbering and enumerate",
			docs: map[string]string{"main.vxml": vx(`<menu dtmf="true"><prompt>Say one of <enumerate/></prompt>
				<choice next="#news">News</choice><choice next="#sports">Sports</choice></menu>
				<form id="news"><block>News desk.</block></form><form id="sports"><block>Sports desk.</block></form>`)},
			inputs: []ScriptedInput{dtmf("2")},
			played: "Say one of News; Sports;|Sports desk.",
			reason: "end",
		},
		{
			name: "menu voice choice",
			docs: map[string]string{"main.vxml": vx(`<menu><prompt>Which?</prompt>
				<choice next="#a">customer service</choice><choice event="go.b">billing</choice></menu>
				<form id="a"><block>A.</block></form><catch event="go.b">B.<exit/></catch>`)},
			inputs: []ScriptedInput{say("Billing")},
			played: "Which?|B.",
			reason: "exit",
		},
		{
			name: "subdialog params and return",
			docs: map[string]string{
				"main.vxml": vx(`<form><subdialog name="r" src="sub.vxml#get"><param name="x" expr="20"/>
					<filled>Got <value expr="r.y"/>.</filled></subdialog></form>`),
				"sub.vxml": vx(`<form id="get"><var name="x"/><block><var name="y" expr="x + 1"/><return namelist="y"/></block></form>`),
			},
			played: "Got 21.",
			reason: "end",
		},
		{
			name: "application scope survives leaf to leaf",
			docs: map[string]string{
				"root.vxml": vx(`<var name="hits" expr="0"/>`),
				"main.vxml": `<vxml version="2.1" application="root.vxml"><form><block><assign name="application.hits" expr="hits+1"/><goto next="two.vxml"/></block></form></vxml>`,
				"two.vxml":  `<vxml version="2.1" application="root.vxml"><form><block>Hits <value expr="application.hits"/>.</block></form></vxml>`,
			},
			played: "Hits 1.",
			reason: "end",
		},
		{
			name: "missing document raises error.badfetch.http.404 in the caller",
			docs: map[string]string{"main.vxml": vx(`<catch event="error.badfetch.http.404">Not found.</catch>
				<form><block><goto next="gone.vxml"/></block></form>`)},
			played: "Not found.",
			reason: "end",
		},
		{
			name: "malformed target document is error.badfetch",
			docs: map[string]string{
				"main.vxml": vx(`<error>Bad <value expr="_event"/>.</error><form><block><goto next="bad.vxml"/></block></form>`),
				"bad.vxml":  `<vxml><form><block>unclosed</form></vxml>`,
			},
			played: "Bad error.badfetch.",
			reason: "end",
		},
		{
			name: "unknown element makes a document invalid",
			docs: map[string]string{
				"main.vxml": vx(`<catch event="error.badfetch">Invalid.</catch><form><block><goto next="bad.vxml"/></block></form>`),
				"bad.vxml":  vx(`<form><blink/></form>`),
			},
			played: "Invalid.",
			reason: "end",
		},
		{
			name:   "object is unsupported",
			docs:   map[string]string{"main.vxml": vx(`<form><object name="o" classid="x"/><catch event="error.unsupported.objecttype">No objects.<exit/></catch></form>`)},
			played: "No objects.",
			reason: "exit",
		},
		{
			name: "session variables",
			docs: map[string]string{"main.vxml": vx(`<form><block><value expr="session.connection.remote.uri + ' ' + session.connection.local.uri + ' ' +
				session.connection.protocol.name + ' ' + session.connection.protocol.sip.requesturi + ' ' +
				session.connection.protocol.sip.headers['x-tandem-call'] + ' ' + session.connection.aai"/></block></form>`)},
			played: "sip:alice@pstn sip:ivr@gw sip sip:ivr@gw;corr=42 abc acct=7",
			reason: "end",
		},
		{
			name: "mixed initiative initial fills several fields from a form grammar",
			docs: map[string]string{"main.vxml": vx(`<form>
				<grammar mode="dtmf" root="r"><rule id="r"><item><ruleref uri="#d"/><tag>out.from = rules.d;</tag></item>
					<item>*</item><item><ruleref uri="#d"/><tag>out.to = rules.latest();</tag></item></rule>
					<rule id="d"><one-of><item>1<tag>out='BOS'</tag></item><item>2<tag>out='SFO'</tag></item></one-of></rule></grammar>
				<initial name="start"><prompt>From and to?</prompt></initial>
				<field name="from" type="digits"><prompt>From?</prompt></field>
				<field name="to" type="digits"><prompt>To?</prompt></field>
				<filled mode="all">From <value expr="from"/> to <value expr="to"/>.</filled></form>`)},
			inputs: []ScriptedInput{dtmf("1*2")},
			played: "From and to?|From BOS to SFO.",
			reason: "end",
		},
		{
			name: "speech grammar matched as text with SISR tags",
			docs: map[string]string{"main.vxml": vx(`<form><field name="city">
				<grammar root="c" xml:lang="en-US"><rule id="c"><one-of>
					<item>new york<tag>out = "NYC";</tag></item><item>chicago<tag>out = "CHI";</tag></item></one-of>
					<item repeat="0-1">please</item></rule></grammar>
				<prompt>City?</prompt><filled><value expr="city + ' ' + city$.utterance + ' ' + application.lastresult$.inputmode"/></filled></field></form>`)},
			inputs: []ScriptedInput{say("New York, please")},
			played: "City?|NYC new york please voice",
			reason: "end",
		},
		{
			name: "foreach and script functions",
			docs: map[string]string{"main.vxml": vx(`<script>function sq(x) { return x * x; } var list = [1, 2, 3];</script>
				<form><block><foreach item="i" array="list"><value expr="sq(i)"/></foreach></block></form>`)},
			played: "1|4|9",
			reason: "end",
		},
		{
			name: "data exposes a DOM",
			docs: map[string]string{
				"main.vxml": vx(`<form><block><data name="d" src="acct.xml"/>
					<var name="acct" expr="d.documentElement.getElementsByTagName('balance').item(0)"/>
					Balance <value expr="acct.firstChild.nodeValue + ' ' + acct.getAttribute('currency') + ' ' + d.documentElement.childNodes.length"/>.</block></form>`),
				"acct.xml": `<account><balance currency="EUR">12.50</balance><owner>Ann</owner></account>`,
			},
			played: "Balance 12.50 EUR 2.",
			reason: "end",
		},
		{
			name: "disconnect throws a catchable hangup",
			docs: map[string]string{"main.vxml": vx(`<catch event="connection.disconnect.hangup">Bye.<exit/></catch>
				<form><block><disconnect/>Not reached.</block></form>`)},
			played: "Bye.",
			reason: "exit",
		},
		{
			name: "record fills shadow variables",
			docs: map[string]string{"main.vxml": vx(`<form><record name="msg" maxtime="10s"><prompt>Speak.</prompt>
				<filled><value expr="msg$.duration + ' ' + msg$.size"/></filled></record></form>`)},
			inputs: []ScriptedInput{say("hello")},
			played: "Speak.|1000 8000",
			reason: "end",
		},
		{
			name: "bridge transfer result",
			docs: map[string]string{"main.vxml": vx(`<form><transfer name="x" dest="sip:agent@cc" bridge="true" maxtime="5s">
				<filled><value expr="x + ' ' + x$.duration"/></filled></transfer></form>`)},
			played: "maxtime_disconnect 5",
			reason: "end",
		},
		{
			name:   "blind transfer ends the session",
			docs:   map[string]string{"main.vxml": vx(`<form><transfer name="x" dest="sip:agent@cc"/><block>Not reached.</block></form>`)},
			reason: "transfer",
		},
		{
			name: "submit sends the namelist",
			docs: map[string]string{
				"main.vxml": vx(`<form><var name="a" expr="'x y'"/><block><submit next="next.vxml" namelist="a"/></block></form>`),
				"next.vxml": vx(`<form><block>$QUERY</block></form>`),
			},
			played: "a=x+y",
			reason: "end",
		},
		{
			name:   "caller hang-up",
			docs:   map[string]string{"main.vxml": vx(`<form><field name="f" type="digits"><prompt>Digits?</prompt></field></form>`)},
			inputs: []ScriptedInput{{Kind: InputHangup}},
			played: "Digits?",
			reason: "hangup",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runDocs(t, tc.docs, tc.inputs...)
			if r.err != nil {
				t.Fatalf("run: %v", r.err)
			}
			if r.out.Reason != tc.reason {
				t.Errorf("outcome %v, want reason %q", r.out, tc.reason)
			}
			if tc.played != "" && r.played != tc.played {
				t.Errorf("played %q\nwant   %q", r.played, tc.played)
			}
		})
	}
}

func TestRunawayScriptIsSemanticError(t *testing.T) {
	for name, tc := range map[string]struct {
		script  string
		timeout time.Duration
	}{
		"loop": {`while (true) {}`, 200 * time.Millisecond},
		// With a long time limit only the heap watchdog can stop this one
		// within the test's 5 s.
		"memory": {`var a = []; while (true) { a.push(new Array(100000).fill(1)); }`, 30 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			docs := map[string]string{"main.vxml": vx(`<catch event="error.semantic">Stopped.</catch><form><block><script>` + tc.script + `</script></block></form>`)}
			tp := &TextPlatform{}
			s, err := NewSession(Config{Platform: tp, Fetcher: memFetcher(docs), ScriptTimeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := s.Run(context.Background(), "http://app.test/main.vxml")
			if err != nil || out.Reason != "end" {
				t.Fatalf("outcome %v, %v", out, err)
			}
			if got := strings.Join(tp.Played, "|"); got != "Stopped." {
				t.Errorf("played %q", got)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	e := newEngine()
	app := e.NewScope("application", e.NewScope("session", nil))
	doc := e.NewScope("document", app)
	dlg := e.NewScope("dialog", doc)
	anon := e.NewScope("anonymous", dlg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Declare(doc, "x", e.rt.ToValue(1)))
	must(e.Declare(dlg, "x", e.rt.ToValue(2)))
	must(e.Exec(anon, "var y = x + 10; function f() { return y; }"))
	if v, _ := e.EvalString(anon, "y + ' ' + f() + ' ' + document.x + ' ' + dialog.x"); v != "12 12 1 2" {
		t.Errorf("got %q", v)
	}
	if hasOwn(dlg.Obj, "y") || !hasOwn(anon.Obj, "y") || !hasOwn(anon.Obj, "f") {
		t.Error("script variables must live in the scope that ran the script")
	}
	must(e.Assign(anon, "x", e.rt.ToValue(3)))
	if v, _ := e.EvalString(doc, "x"); v != "1" {
		t.Errorf("assign changed the outer x: %s", v)
	}
	if v, _ := e.EvalString(dlg, "x"); v != "3" {
		t.Errorf("assign missed the inner x: %s", v)
	}
	if err := e.Assign(anon, "undeclared", e.rt.ToValue(1)); err == nil {
		t.Error("assign to an undeclared variable must fail")
	}
	if err := e.Assign(anon, "document.undeclared", e.rt.ToValue(1)); err == nil {
		t.Error("assign to an undeclared document variable must fail")
	}
	must(e.Assign(anon, "document.x", e.rt.ToValue(5)))
	if v, _ := e.EvalString(doc, "x"); v != "5" {
		t.Errorf("document.x = %s", v)
	}
	must(e.Exec(anon, "var o = {a: 1};"))
	must(e.Assign(anon, "o.b", e.rt.ToValue(2)))
	if _, err := e.Eval(anon, "nosuch + 1"); err == nil {
		t.Error("reading an undeclared variable must fail")
	}
	if _, err := e.Eval(doc, "y"); err == nil {
		t.Error("an inner variable must not be visible outside")
	}
}

func TestBuiltinGrammars(t *testing.T) {
	tests := []struct {
		spec, mode, in string
		want           any // nil = no match
	}{
		{"digits", "dtmf", "12345", "12345"},
		{"digits?length=4", "dtmf", "123", nil},
		{"digits?minlength=2;maxlength=3", "dtmf", "123", "123"},
		{"digits?minlength=2;maxlength=3", "dtmf", "1234", nil},
		{"builtin:dtmf/digits?length=4", "dtmf", "1234", "1234"},
		{"digits", "voice", "one two three", "123"},
		{"boolean", "dtmf", "1", true},
		{"boolean", "dtmf", "2", false},
		{"boolean?y=7;n=9", "dtmf", "9", false},
		{"boolean", "voice", "yes", true},
		{"number", "dtmf", "12*5", "12.5"},
		{"currency", "dtmf", "1999", "1999.00"},
		{"date", "dtmf", "20260131", "20260131"},
		{"date", "dtmf", "20261331", nil},
		{"time", "dtmf", "0930", "0930h"},
		{"phone", "dtmf", "5551234*12", "5551234x12"},
		{"digits", "dtmf", "12#", nil},
	}
	for _, tc := range tests {
		g, err := ParseBuiltin(tc.spec, tc.mode)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		r, err := g.Match(nil, tc.mode, tc.in)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%s %q: matched %v, want no match", tc.spec, tc.in, r.Interp)
		case tc.want != nil && err != nil:
			t.Errorf("%s %q: %v", tc.spec, tc.in, err)
		case tc.want != nil && r.Interp != tc.want:
			t.Errorf("%s %q: got %#v want %#v", tc.spec, tc.in, r.Interp, tc.want)
		}
	}
	for _, bad := range []string{"digits?length=x", "colour", "builtin:nope/digits", "digits?minlength=5;maxlength=2"} {
		if _, err := ParseBuiltin(bad, "dtmf"); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestSRGS(t *testing.T) {
	src := `<grammar xmlns="http://www.w3.org/2001/06/grammar" root="main" mode="voice">
		<rule id="main"><item repeat="0-1">i want</item><ruleref uri="#drink"/><item repeat="0-1">please</item>
			<tag>out.drink = rules.drink; out.size = rules.size ? rules.size : 'medium';</tag></rule>
		<rule id="drink"><item repeat="0-1"><ruleref uri="#size"/></item><one-of><item>coffee</item><item>tea<tag>out = "TEA"</tag></item></one-of></rule>
		<rule id="size"><one-of><item>small</item><item>large</item></one-of></rule></grammar>`
	root, err := ParseXML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseSRGS(root, "voice")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	r, err := g.Match(e, tokenize("voice", "I want large coffee, please"))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := r.Interp.(map[string]any)
	if !ok || m["drink"] != "large coffee" {
		t.Errorf("interp %#v", r.Interp)
	}
	r, err = g.Match(e, tokenize("voice", "tea"))
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Interp.(map[string]any); m["drink"] != "TEA" || m["size"] != "medium" {
		t.Errorf("interp %#v", r.Interp)
	}
	if _, err := g.Match(e, tokenize("voice", "beer")); err == nil {
		t.Error("beer matched")
	}
	if ph := g.Phrases(3); len(ph) == 0 {
		t.Error("no phrases")
	}
	for _, bad := range []string{
		`<grammar root="x"><rule id="a">a</rule></grammar>`,
		`<grammar root="a"><rule id="a"><ruleref uri="#missing"/></rule></grammar>`,
		`<grammar root="a"><rule id="a"><item repeat="3-1">a</item></rule></grammar>`,
		`<grammar root="a" mode="smell"><rule id="a">a</rule></grammar>`,
	} {
		n, err := ParseXML([]byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSRGS(n, "voice"); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
}

func TestSRGSPathologicalRepeatTerminates(t *testing.T) {
	n, _ := ParseXML([]byte(`<grammar root="a" mode="dtmf"><rule id="a"><item repeat="0-"><item repeat="0-"><item repeat="0-">1</item></item></item>2</rule></grammar>`))
	g, err := ParseSRGS(n, "dtmf")
	if err != nil {
		t.Fatal(err)
	}
	in := tokenize("dtmf", strings.Repeat("1", 40)+"3")
	done := make(chan struct{})
	go func() { g.Match(newEngine(), in); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("matcher did not terminate")
	}
}

func TestTextPlatformAutoCaller(t *testing.T) {
	tp := &TextPlatform{Auto: true}
	for _, tc := range []struct{ prompt, kind, value string }{
		{"Press '5'.", "dtmf", "5"},
		{"Say 'Chicago' again.", "voice", "Chicago"},
		{"Say London.", "voice", "London"},
		{"No input expected. Say nothing.", "noinput", ""},
		{"Say something unrecognizable.", "voice", "xyzzy plugh"},
		{"Welcome.", "noinput", ""},
	} {
		in, err := tp.Collect(context.Background(), []PromptItem{{Text: tc.prompt}}, InputRequest{DTMF: true, Voice: true, TermChar: "#", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if in.Kind.String() != tc.kind || in.Value != tc.value {
			t.Errorf("%q: got %s %q", tc.prompt, in.Kind, in.Value)
		}
	}
	if tp.Clock == 0 {
		t.Error("virtual clock did not move")
	}
}

func TestVXMLApps(t *testing.T) {
	dir := "../../../shared/testdata/vxml-apps/"
	for _, tc := range []struct {
		file   string
		inputs []ScriptedInput
		want   string
	}{
		{"menu-input.vxml", []ScriptedInput{dtmf("2")}, "You chose sports."},
		{"multimenu.vxml", []ScriptedInput{dtmf("1")}, ""},
		{"multi-digit-input.vxml", []ScriptedInput{dtmf("12345#")}, "12345"},
		{"single-digit-input.vxml", []ScriptedInput{dtmf("7")}, "7"},
		{"option.vxml", []ScriptedInput{dtmf("3")}, "You selected frog legs"},
		{"record-audio.vxml", []ScriptedInput{dtmf("#")}, "Your recording lasted 1000 milliseconds"},
		{"welcome-tts.vxml", nil, "Welcome"},
		{"welcome-audiofile.vxml", nil, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var out strings.Builder
			tp := &TextPlatform{Out: &out, Inputs: tc.inputs, Limit: time.Minute}
			s, err := NewSession(Config{Platform: tp})
			if err != nil {
				t.Fatal(err)
			}
			abs, _ := absPath(dir + tc.file)
			res, err := s.Run(context.Background(), FileURI(abs))
			if err != nil || res.Reason == "error" {
				t.Fatalf("outcome %v %v\n%s", res, err, out.String())
			}
			if !strings.Contains(strings.Join(tp.Played, "|"), tc.want) {
				t.Errorf("want %q in\n%s", tc.want, out.String())
			}
		})
	}
}

func ExampleSession() {
	docs := memFetcher{"main.vxml": `<vxml version="2.1"><form>
		<field name="pin" type="digits?length=4"><prompt>Enter your PIN.</prompt></field>
		<block>Thanks, <value expr="pin"/>.</block></form></vxml>`}
	tp := &TextPlatform{Inputs: []ScriptedInput{{Kind: InputDTMF, Value: "4321"}}}
	s, _ := NewSession(Config{Platform: tp, Fetcher: docs})
	out, _ := s.Run(context.Background(), "http://app.test/main.vxml")
	fmt.Println(strings.Join(tp.Played, "\n"))
	fmt.Println(out)
	// Output:
	// Enter your PIN.
	// Thanks, 4321.
	// end
}

func absPath(p string) (string, error) { return filepath.Abs(p) }

func TestLinks(t *testing.T) {
	docs := map[string]string{
		"main.vxml": vx(`<link dtmf="*" next="#operator"/><link event="help"><grammar root="h"><rule id="h">help me</rule></grammar></link>
			<form id="f"><field name="acct" type="digits"><prompt>Account?</prompt><help>Type digits.</help></field>
			<block>Acct <value expr="acct"/>.</block></form>
			<form id="operator"><block>Operator.</block></form>`),
	}
	r := runDocs(t, docs, say("help me"), dtmf("*"))
	if r.played != "Account?|Type digits.|Operator." {
		t.Errorf("played %q", r.played)
	}
	r = runDocs(t, docs, dtmf("42"))
	if r.played != "Account?|Acct 42." {
		t.Errorf("played %q", r.played)
	}
}

func BenchmarkEval(b *testing.B) {
	e := newEngine()
	sc := e.NewScope("dialog", e.NewScope("document", e.NewScope("application", nil)))
	e.Declare(sc, "x", e.rt.ToValue(41))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.EvalBool(sc, "x + 1 == 42"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDocumentScopedGrammar(t *testing.T) {
	docs := map[string]string{
		"main.vxml": vx(`<form id="main"><field name="x" type="boolean"><prompt>Yes or no?</prompt></field></form>
			<form id="order" scope="document"><grammar mode="dtmf" root="o"><rule id="o">9 <tag>out.item='pizza'</tag></rule></grammar>
			<field name="item"><prompt>What?</prompt></field><block>Ordering <value expr="item"/>.</block></form>`),
	}
	r := runDocs(t, docs, dtmf("9"))
	if r.played != "Yes or no?|Ordering pizza." {
		t.Errorf("played %q", r.played)
	}
}

func TestSubdialogRecursionIsBounded(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<form id="f"><subdialog name="s" src="#f"/></form>
		<catch event="error.noresource">Too deep.<exit/></catch>`)}
	r := runDocs(t, docs)
	if r.out.Reason != "exit" || r.played != "Too deep." {
		t.Errorf("outcome %v played %q", r.out, r.played)
	}
}

func TestRootToLeafKeepsRootVariables(t *testing.T) {
	docs := map[string]string{
		"main.vxml": vx(`<var name="hits" expr="0"/><form><block><assign name="hits" expr="5"/><goto next="leaf.vxml"/></block></form>`),
		"leaf.vxml": `<vxml version="2.1" application="main.vxml"><form><block><assign name="application.hits" expr="application.hits + 1"/>Hits <value expr="hits"/>.<goto next="main.vxml#again"/></block></form></vxml>`,
	}
	docs["main.vxml"] = vx(`<var name="hits" expr="0"/><form id="start"><block><assign name="hits" expr="5"/><goto next="leaf.vxml"/></block></form>
		<form id="again"><block>Back with <value expr="hits"/>.</block></form>`)
	r := runDocs(t, docs)
	if r.played != "Hits 6.|Back with 6." {
		t.Errorf("played %q", r.played)
	}
}

func TestDTMFState(t *testing.T) {
	digits4, _ := ParseBuiltin("digits?length=4", "dtmf")
	digits, _ := ParseBuiltin("digits?minlength=2;maxlength=3", "dtmf")
	n, _ := ParseXML([]byte(`<grammar mode="dtmf" root="r"><rule id="r"><one-of><item>1 2</item><item>1 2 3 4</item><item>9</item></one-of></rule></grammar>`))
	sg, err := ParseSRGS(n, "dtmf")
	if err != nil {
		t.Fatal(err)
	}
	srgs := &Grammar{Mode: "dtmf", srgs: sg}
	for _, tc := range []struct {
		gs   []*Grammar
		keys string
		want DTMFState
	}{
		{[]*Grammar{digits4}, "12", DTMFPrefix},
		{[]*Grammar{digits4}, "1234", DTMFComplete},
		{[]*Grammar{digits4}, "12345", DTMFNoMatch},
		{[]*Grammar{digits}, "12", DTMFMatchMore},
		{[]*Grammar{digits}, "123", DTMFComplete},
		{[]*Grammar{srgs}, "1", DTMFPrefix},
		{[]*Grammar{srgs}, "12", DTMFMatchMore},
		{[]*Grammar{srgs}, "123", DTMFPrefix},
		{[]*Grammar{srgs}, "9", DTMFComplete},
		{[]*Grammar{srgs}, "5", DTMFNoMatch},
	} {
		if got := DTMFStateOf(tc.gs, tc.keys); got != tc.want {
			t.Errorf("%s %q: got %d want %d", tc.gs[0].Src, tc.keys, got, tc.want)
		}
	}
}

func TestExternalRuleref(t *testing.T) {
	docs := map[string]string{
		"main.vxml": vx(`<form><field name="order"><grammar root="o"><rule id="o"><ruleref uri="g/drinks.grxml#size"/>
			<ruleref uri="g/drinks.grxml"/><tag>out = rules.size + ' ' + rules.drink;</tag></rule></grammar>
			<prompt>Order?</prompt><filled><value expr="order"/></filled></field></form>`),
		"g/drinks.grxml": `<grammar root="drink"><rule id="drink"><one-of><item>coffee</item><item>tea</item></one-of></rule>
			<rule id="size"><one-of><item>small</item><item>large</item></one-of></rule></grammar>`,
	}
	r := runDocs(t, docs, say("large tea"))
	if r.played != "Order?|large tea" {
		t.Errorf("played %q", r.played)
	}
}

func TestABNF(t *testing.T) {
	g, err := ParseABNF(`#ABNF 1.0 UTF-8;
		language en-US; mode voice; root $order; tag-format <semantics/1.0>;
		// a comment
		public $order = [i want] $size <0-1> $drink [please] {out.drink = rules.drink; out.size = rules.size || "medium";};
		$size = small | large;
		$drink = coffee | /2/ tea {out = "TEA"} | "hot chocolate";`, "voice")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	for in, want := range map[string]string{
		"i want large coffee please": "large coffee",
		"tea":                        "medium TEA",
		"small hot chocolate":        "small hot chocolate",
	} {
		r, err := g.Match(e, tokenize("voice", in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		m := r.Interp.(map[string]any)
		if got := fmt.Sprint(m["size"], " ", m["drink"]); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
	if _, err := g.Match(e, tokenize("voice", "large")); err == nil {
		t.Error("incomplete input matched")
	}
	for _, bad := range []string{"#ABNF 1.0; root $a; $a = (x;", "#ABNF 1.0; $a = x;", "#ABNF 1.0; root $a; $a = $b;", "#ABNF 1.0; root $a; $a = x {unterminated;"} {
		if _, err := ParseABNF(bad, "voice"); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestLongCallIsNotCutByTransitionLimit(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<var name="n" expr="0"/><form id="loop"><field name="d" type="digits"><prompt>Digit?</prompt>
		<filled><assign name="n" expr="n + 1"/><if cond="n == 40"><exit/></if><goto next="#loop"/></filled></field></form>`)}
	var inputs []ScriptedInput
	for range 40 {
		inputs = append(inputs, dtmf("1"))
	}
	tp := &TextPlatform{Inputs: inputs}
	s, err := NewSession(Config{Platform: tp, Fetcher: memFetcher(docs), MaxTransitions: 20})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), "http://app.test/main.vxml")
	if err != nil || out.Reason != "exit" {
		t.Fatalf("outcome %v %v", out, err)
	}
	// Without input the same limit stops a spinning document.
	docs["main.vxml"] = vx(`<form id="f"><block><goto next="#f"/></block></form>`)
	s, _ = NewSession(Config{Platform: &TextPlatform{}, Fetcher: memFetcher(docs), MaxTransitions: 20})
	if out, _ := s.Run(context.Background(), "http://app.test/main.vxml"); out.Reason != "error" {
		t.Errorf("spinning document: %v", out)
	}
}

func TestScriptTimeBudget(t *testing.T) {
	// Each script stays under the per-script limit, but together they would
	// hold the session for far longer than the budget.
	docs := map[string]string{"main.vxml": vx(`<form id="f"><block><script>var t = Date.now(); while (Date.now() - t &lt; 15) {}</script><goto next="#f"/></block></form>`)}
	s, _ := NewSession(Config{Platform: &TextPlatform{}, Fetcher: memFetcher(docs), ScriptTimeout: 20 * time.Millisecond})
	start := time.Now()
	out, _ := s.Run(context.Background(), "http://app.test/main.vxml")
	if out.Reason != "error" || time.Since(start) > 3*time.Second {
		t.Errorf("outcome %v after %v", out, time.Since(start))
	}
}

func TestForeachInPrompt(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<var name="items" expr="['tea', 'coffee']"/><form><block>
		<prompt>We have <foreach item="x" array="items"><value expr="x"/>, </foreach>and water.</prompt></block></form>`)}
	r := runDocs(t, docs)
	if r.played != "We have tea, coffee, and water." {
		t.Errorf("played %q", r.played)
	}
}

func TestForeignNamespaceIgnored(t *testing.T) {
	docs := map[string]string{"main.vxml": `<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml" xmlns:x="urn:ext">
		<form><block><x:trace level="2"/>Hello.</block></form></vxml>`}
	if r := runDocs(t, docs); r.played != "Hello." || r.out.Reason != "end" {
		t.Errorf("outcome %v played %q", r.out, r.played)
	}
}

func TestMenuChoiceGrammar(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<menu><prompt>Pick.</prompt>
		<choice next="#a">apples</choice>
		<choice next="#b"><grammar root="r"><rule id="r"><one-of><item>bananas</item><item>plantains</item></one-of></rule></grammar>bananas</choice></menu>
		<form id="a"><block>A.</block></form><form id="b"><block>B.</block></form>`)}
	if r := runDocs(t, docs, say("plantains")); r.played != "Pick.|B." {
		t.Errorf("played %q", r.played)
	}
}

func TestTextPlatformMaxSilences(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<form><field name="d" type="digits"><prompt>Digits?</prompt></field></form>`)}
	tp := &TextPlatform{Inputs: []ScriptedInput{silence}, MaxSilences: 2}
	s, _ := NewSession(Config{Platform: tp, Fetcher: memFetcher(docs)})
	out, err := s.Run(context.Background(), "http://app.test/main.vxml")
	if err != nil || out.Reason != "hangup" || len(tp.Played) != 4 {
		t.Errorf("outcome %v %v, played %q", out, err, tp.Played)
	}
}

func TestMissingRootIsCaughtByTheCaller(t *testing.T) {
	docs := map[string]string{
		"main.vxml": vx(`<catch event="error.badfetch">No root.<exit/></catch><form><block><goto next="leaf.vxml"/></block></form>`),
		"leaf.vxml": `<vxml version="2.1" application="gone.vxml"><form><block>Leaf.</block></form></vxml>`,
	}
	if r := runDocs(t, docs); r.played != "No root." || r.out.Reason != "exit" {
		t.Errorf("outcome %v played %q", r.out, r.played)
	}
	// The first document's own fetch failure is the session's outcome.
	r := runDocs(t, map[string]string{})
	if r.out.Reason != "error" || r.out.Event != "error.badfetch.http.404" {
		t.Errorf("outcome %+v", r.out)
	}
}

// BenchmarkSession measures a short call: new session (goja runtime, scopes),
// one document, one DTMF field, one filled.
func BenchmarkSession(b *testing.B) {
	docs := memFetcher{"main.vxml": vx(`<var name="greeting" expr="'Hello'"/><form><field name="pin" type="digits?length=4">
		<prompt><value expr="greeting"/>, enter your PIN.</prompt><filled>Thanks.</filled></field></form>`)}
	b.ReportAllocs()
	for b.Loop() {
		tp := &TextPlatform{Inputs: []ScriptedInput{{Kind: InputDTMF, Value: "1234"}}}
		s, err := NewSession(Config{Platform: tp, Fetcher: docs})
		if err != nil {
			b.Fatal(err)
		}
		if out, err := s.Run(context.Background(), "http://app.test/main.vxml"); err != nil || out.Reason != "end" {
			b.Fatalf("%v %v", out, err)
		}
	}
}

func TestUniversals(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<property name="universals" value="all"/><form><field name="d" type="digits">
		<prompt>Digits?</prompt><help>Type some digits.</help></field></form>`)}
	r := runDocs(t, docs, say("help"), say("exit"))
	if r.played != "Digits?|Type some digits." || r.out.Reason != "exit" {
		t.Errorf("outcome %v played %q", r.out, r.played)
	}
}

func TestSISRMeta(t *testing.T) {
	n, _ := ParseXML([]byte(`<grammar root="r" mode="voice"><rule id="r"><ruleref uri="#c"/> please
		<tag>out.city = meta.c.text; out.all = meta.current().text;</tag></rule>
		<rule id="c"><one-of><item>new york</item><item>boston</item></one-of></rule></grammar>`))
	g, err := ParseSRGS(n, "voice")
	if err != nil {
		t.Fatal(err)
	}
	r, err := g.Match(newEngine(), tokenize("voice", "new york please"))
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Interp.(map[string]any); m["city"] != "new york" || m["all"] != "new york please" {
		t.Errorf("interp %#v", r.Interp)
	}
}

type eventLog []event.Event

func (l *eventLog) Emit(e event.Event) { *l = append(*l, e) }

func TestReportEvents(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<form><field name="d" type="digits"><prompt>Digits?</prompt></field></form>`)}
	var log eventLog
	s, _ := NewSession(Config{Platform: &TextPlatform{Inputs: []ScriptedInput{silence, dtmf("5")}}, Fetcher: docs,
		Events: &log, Session: SessionInfo{CallID: "c1"}})
	if _, err := s.Run(context.Background(), "http://app.test/main.vxml"); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range log {
		if e.Call != "c1" {
			t.Errorf("event without the call id: %+v", e)
		}
		kinds = append(kinds, string(e.Kind)+" "+e.Reason)
	}
	if got := strings.Join(kinds, "|"); got != "vxml.session.started |vxml.event noinput: |vxml.session.ended end" {
		t.Errorf("events %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{ScriptTimeout: -1}.Validate()
	if err == nil || !errors.Is(err, ErrNoPlatform) || !strings.Contains(err.Error(), "vxml.scriptTimeout") {
		t.Errorf("got %v", err)
	}
	if err := (Config{Platform: &TextPlatform{}}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// reqRecorder is a TextPlatform that keeps every InputRequest.
type reqRecorder struct {
	TextPlatform
	reqs []InputRequest
}

func (r *reqRecorder) Collect(ctx context.Context, p []PromptItem, req InputRequest) (Input, error) {
	r.reqs = append(r.reqs, req)
	return r.TextPlatform.Collect(ctx, p, req)
}

func TestPropertiesReachThePlatform(t *testing.T) {
	docs := memFetcher{"main.vxml": vx(`<property name="timeout" value="7s"/><property name="termchar" value="*"/>
		<property name="confidencelevel" value="0.6"/>
		<form><property name="interdigittimeout" value="1500ms"/>
		<field name="a" type="digits?maxlength=6"><property name="inputmodes" value="dtmf"/><prompt>A?</prompt></field>
		<field name="b" type="boolean"><prompt timeout="2s">B?</prompt></field></form>`)}
	rec := &reqRecorder{TextPlatform: TextPlatform{Inputs: []ScriptedInput{dtmf("12"), dtmf("1")}}}
	s, _ := NewSession(Config{Platform: rec, Fetcher: docs})
	if out, err := s.Run(context.Background(), "http://app.test/main.vxml"); err != nil || out.Reason != "end" {
		t.Fatalf("%v %v", out, err)
	}
	if len(rec.reqs) != 2 {
		t.Fatalf("%d collections", len(rec.reqs))
	}
	a, b := rec.reqs[0], rec.reqs[1]
	if a.Timeout != 7*time.Second || a.InterDigitTimeout != 1500*time.Millisecond || a.TermChar != "*" ||
		!a.DTMF || a.Voice || a.MaxDigits != 6 || a.Properties["confidencelevel"] != "0.6" {
		t.Errorf("field a: %+v", a)
	}
	if b.Timeout != 2*time.Second || !b.Voice {
		t.Errorf("field b: %+v", b)
	}
	if a.DTMFState == nil || a.DTMFState("123456") != DTMFComplete || a.DTMFState("12") != DTMFMatchMore {
		t.Error("DTMFState does not follow the field's grammar")
	}
}

func TestApproximateChoiceAndResults(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<menu accept="approximate"><prompt>Which department?</prompt>
		<choice next="#a">customer service and support</choice></menu><form id="a"><block>Support.</block></form>`)}
	if r := runDocs(t, docs, say("support")); r.played != "Which department?|Support." {
		t.Errorf("played %q", r.played)
	}
	var b strings.Builder
	sum := WriteResults(&b, []TestResult{{ID: "1", Status: "PASS"}, {ID: "2", Status: "FAIL", Reason: "why"}, {ID: "3", Status: "SKIP", Reason: "asr"},
		{ID: "4", Status: "COMPANION", Reason: "loaded by 1.vxml"}})
	if sum.Passed != 1 || sum.Failed != 1 || sum.Skipped != 1 || sum.Companions != 1 ||
		b.String() != "PASS 1\nFAIL 2: why\nSKIP 3: asr\nCOMPANION 4: loaded by 1.vxml\n1 passed, 1 failed (50.0% of 2 run), 1 skipped (asr: 1); 1 companion documents not counted\n" {
		t.Errorf("%+v %q", sum, b.String())
	}
}

func TestRemoteDocumentCannotReadFiles(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<catch event="error.badfetch">Refused.<exit/></catch>
		<form><block><data name="d" src="file:///etc/hostname"/>Read it.</block></form>`)}
	if r := runDocs(t, docs); r.played != "Refused." {
		t.Errorf("played %q", r.played)
	}
}

func TestPromptSSML(t *testing.T) {
	docs := map[string]string{"main.vxml": vx(`<var name="amt" expr="'12 &amp; 50'"/><form><block><prompt>Your balance is
		<say-as interpret-as="currency"><value expr="amt"/></say-as><break time="300ms"/><emphasis>thanks</emphasis>
		<audio src="http://media/beep.wav"/>bye</prompt></block></form>`)}
	var items []PromptItem
	tp := &playRecorder{}
	s, _ := NewSession(Config{Platform: tp, Fetcher: memFetcher(docs)})
	if _, err := s.Run(context.Background(), "http://app.test/main.vxml"); err != nil {
		t.Fatal(err)
	}
	items = tp.items
	if len(items) != 3 {
		t.Fatalf("items %+v", items)
	}
	if items[0].Text != "Your balance is 12 & 50 thanks" {
		t.Errorf("text %q", items[0].Text)
	}
	want := `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis">Your balance is ` +
		`<say-as interpret-as="currency">12 &amp; 50</say-as><break time="300ms"/><emphasis>thanks</emphasis> </speak>`
	if items[0].SSML != want {
		t.Errorf("ssml\n%s\nwant\n%s", items[0].SSML, want)
	}
	if items[1].AudioURI != "http://media/beep.wav" || items[2].Text != "bye" || items[2].SSML != "" {
		t.Errorf("items %+v", items[1:])
	}
}

// playRecorder keeps the prompt items a session plays.
type playRecorder struct {
	TextPlatform
	items []PromptItem
}

func (p *playRecorder) Play(ctx context.Context, items []PromptItem) error {
	p.items = append(p.items, items...)
	return p.TextPlatform.Play(ctx, items)
}
