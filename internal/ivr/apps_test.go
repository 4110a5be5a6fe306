package ivr

import (
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/vxml"
)

// appsDir builds an apps directory holding the shipped example (balance)
// and small applications for the edge cases.
func appsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "vxml-apps", "balance", "main.vxml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"balance/main.vxml": string(example),
		// echo returns what it was given, and a number and an object.
		"echo/main.vxml": vxmlHead + `<form><var name="a" expr="'default a'"/><var name="b"/>
<block><assign name="b" expr="typeof b == 'undefined' ? 'unset' : b"/><var name="n" expr="42"/><var name="o" expr="({x: 1})"/>
<prompt>a is <value expr="a"/></prompt><return namelist="a b n o"/></block></form></vxml>`,
		// down fails the way an application reports it: an event.
		"down/main.vxml": vxmlHead + `<form><block><return event="error.app.down" message="database down"/></block></form></vxml>`,
		// next goes on to a second document of its own, relative.
		"next/main.vxml":  vxmlHead + `<form><block><goto next="step2.vxml"/></block></form></vxml>`,
		"next/step2.vxml": vxmlHead + `<form><var name="step" expr="'two'"/><block><return namelist="step"/></block></form></vxml>`,
		// broken goes to a document it does not have.
		"broken/main.vxml":  vxmlHead + `<form><block><goto next="missing.vxml"/></block></form></vxml>`,
		".hidden/main.vxml": vxmlHead + `<form/></vxml>`,
		"balance/.secret":   "no",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExternalApps(t *testing.T) {
	// balance's made-up balance is account % 9973 * 1.37:
	// 12345 → 2372 × 1.37 = 3249.64, 9999 → 26 × 1.37 = 35.62.
	tests := []struct {
		name   string
		script string
		params map[string]string
		inputs []vxml.ScriptedInput
		want   map[string]string // the whole result the router gets
		failed bool
		heard  []string
	}{
		{
			name: "balance with the CVP pairs", script: "EXT,balance",
			params: map[string]string{"to_ext_vxml": "currency=EUR;greeting=Hello from the script."},
			inputs: []vxml.ScriptedInput{dtmf("12345#")},
			want: map[string]string{"caller_input": "12345", "error": "none", "from_ext_vxml.account": "12345",
				"from_ext_vxml.balance": "3249.64", "from_ext_vxml.status": "ok", "from_ext_vxml.caller_input": "12345"},
			heard: []string{"Hello from the script.", "EUR3249.64"},
		},
		{
			name: "balance reached as CVP does: GS,Server,V", script: "GS,Server,V",
			params: map[string]string{"ToExtVXML[0]": "application=balance", "ToExtVXML[1]": "currency=GBP"},
			inputs: []vxml.ScriptedInput{dtmf("9999#")},
			want: map[string]string{"caller_input": "9999", "error": "none", "from_ext_vxml.account": "9999",
				"from_ext_vxml.balance": "35.62", "from_ext_vxml.status": "ok", "from_ext_vxml.caller_input": "9999"},
			heard: []string{"Welcome to balance inquiry.", "GBP35.62"},
		},
		{
			name: "balance noinput is the application's own result", script: "EXT,balance",
			inputs: []vxml.ScriptedInput{silence, silence, silence},
			want:   map[string]string{"caller_input": "", "error": "none", "from_ext_vxml.status": "noinput"},
		},
		{
			name: "params, defaults and values that are not strings", script: "EXT,echo",
			params: map[string]string{"to_ext_vxml": `b=<&"x'>`},
			want: map[string]string{"caller_input": "", "error": "none", "from_ext_vxml.a": "default a",
				"from_ext_vxml.b": `<&"x'>`, "from_ext_vxml.n": "42", "from_ext_vxml.o": `{"x":1}`},
			heard: []string{"a is default a"},
		},
		{
			name: "an application of several documents", script: "EXT,next",
			want: map[string]string{"caller_input": "", "error": "none", "from_ext_vxml.step": "two"},
		},
		{
			name: "missing application is the node's error", script: "EXT,nosuch",
			want: map[string]string{"caller_input": "", "error": "error"}, failed: true,
		},
		{
			name: "application returning an event is the node's error", script: "EXT,down",
			want: map[string]string{"caller_input": "", "error": "error"}, failed: true,
		},
	}
	dir := appsDir(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{AppsDir: dir})
			if err := r.srv.Expect("c1", tc.script, tc.params); err != nil {
				t.Fatal(err)
			}
			tp, out, _ := r.run(t, "c1", tc.inputs...)
			if out.Reason != "hangup" { // the fake router releases after
				t.Errorf("outcome %v, want hangup", out)
			}
			got := r.router.resultMaps()
			if len(got) != 1 || !maps.Equal(got[0], tc.want) {
				t.Fatalf("router got %q, want one result %q", got, tc.want)
			}
			if f := r.router.results()[0].failed; f != tc.failed {
				t.Errorf("failed %v, want %v", f, tc.failed)
			}
			if !subsequence(tp.Played, tc.heard) {
				t.Errorf("heard %q, want %q in order", tp.Played, tc.heard)
			}
		})
	}
}

// TestExternalAppUncaughtError: an error the application does not catch
// ends the session, as the spec's default handler does (5.2.5): VoiceXML
// gives the caller's document no way to catch it. The gateway's leg ends
// and the call server asks the router; the service reports nothing.
func TestExternalAppUncaughtError(t *testing.T) {
	r := newRig(t, Config{AppsDir: appsDir(t)})
	if err := r.srv.Expect("c1", "EXT,broken", nil); err != nil {
		t.Fatal(err)
	}
	_, out, _ := r.run(t, "c1")
	if out.Reason != "error" || !strings.HasPrefix(out.Event, "error.badfetch") {
		t.Errorf("outcome %+v, want the session ended by error.badfetch", out)
	}
	if got := r.router.results(); len(got) != 0 {
		t.Errorf("router got %+v, want nothing", got)
	}
}

func TestServeApps(t *testing.T) {
	dir := appsDir(t)
	outside := filepath.Join(t.TempDir(), "secret.vxml")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "balance", "link.vxml")); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Config{AppsDir: dir})
	tests := []struct {
		path  string
		code  int
		ctype string
		body  string
	}{
		{"/ivr/apps/balance/main.vxml", 200, "application/voicexml+xml; charset=utf-8", "<vxml"},
		{"/ivr/apps/next/step2.vxml", 200, "application/voicexml+xml; charset=utf-8", "'two'"},
		{"/ivr/apps/balance/", 400, "", ""},            // a directory: no listing
		{"/ivr/apps/balance", 400, "", ""},             // no file named
		{"/ivr/apps/balance/nosuch.vxml", 404, "", ""}, // missing
		{"/ivr/apps/balance/.secret", 400, "", ""},     // a dot file
		{"/ivr/apps/.hidden/main.vxml", 400, "", ""},   // a dot folder
		{"/ivr/apps/balance/link.vxml", 404, "", ""},   // a link out of the directory
		{"/ivr/apps/balance/%2e%2e/%2e%2e/etc/passwd", 400, "", ""},
		{"/ivr/apps/balance/..%2f..%2fetc%2fpasswd", 400, "", ""},
		{"/ivr/apps/balance%5c..%5c..%5cetc/passwd", 400, "", ""},
	}
	for _, tc := range tests {
		resp, err := http.Get(r.ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d (%s)", tc.path, resp.StatusCode, tc.code, body)
			continue
		}
		if tc.code != 200 {
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "root:") {
				t.Errorf("GET %s: leaked %q", tc.path, body)
			}
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("GET %s: content type %q, want %q", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s: body %q lacks %q", tc.path, body, tc.body)
		}
	}
	// Without a directory nothing is served.
	bare := newRig(t, Config{})
	resp, err := http.Get(bare.ts.URL + "/ivr/apps/balance/main.vxml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("no apps dir: %d, want 404", resp.StatusCode)
	}
}

func TestFromExtVXML(t *testing.T) {
	many := "{"
	for i := range maxExtVars + 1 {
		if i > 0 {
			many += ","
		}
		many += `"v` + string(rune('a'+i/26)) + string(rune('a'+i%26)) + `":1`
	}
	many += "}"
	tests := []struct {
		posted string
		kept   int
		err    string
		check  map[string]string
	}{
		{posted: "", kept: 0},
		{posted: `{"a":"x","b":null,"c":[1,"2"],"d":true}`, kept: 4,
			check: map[string]string{"from_ext_vxml.a": "x", "from_ext_vxml.b": "", "from_ext_vxml.c": `[1,"2"]`, "from_ext_vxml.d": "true"}},
		{posted: `{"ok":"1","bad name":"2","$x":"3"}`, kept: 1, err: "dropped", check: map[string]string{"from_ext_vxml.ok": "1"}},
		{posted: `[1,2]`, kept: 0, err: "from_ext_vxml"},
		{posted: many, kept: maxExtVars, err: "more than"},
	}
	for _, tc := range tests {
		result := map[string]string{}
		n, err := fromExtVXML(tc.posted, result)
		if n != tc.kept || len(result) != tc.kept {
			t.Errorf("%.40s: kept %d (result %d), want %d", tc.posted, n, len(result), tc.kept)
		}
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%.40s: err %v, want %q", tc.posted, err, tc.err)
		}
		for k, v := range tc.check {
			if result[k] != v {
				t.Errorf("%.40s: %s = %q, want %q", tc.posted, k, result[k], v)
			}
		}
	}
}
