package node

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/router"
)

// fileHead is a valid configuration without its router section; the
// tests append one, so the router's lines start at line 4.
const fileHead = `sip:
  listen: [{transport: udp, address: "127.0.0.1:5060"}]
dial_plan: [{pattern: "9XXX", registered: true}]
`

const goodRouter = `router:
  dialed_numbers: [{number: "4000", call_type: sales}]
  call_types: [{name: sales, script: s}]
  skill_groups: [{name: sales}]
  labels: [{name: out, kind: extension, value: "9000"}]
  scripts:
    - name: s
      nodes:
        - {id: a, type: start, next: q}
        - {id: q, type: label, labels: [out]}
`

func TestCheckRouterPlacesProblems(t *testing.T) {
	tests := []struct {
		name, router string
		want         []string // substrings of the error
	}{
		{"dangling call type", strings.Replace(goodRouter, "call_type: sales", "call_type: salez", 1),
			[]string{"t.yaml:5: router.dialed_numbers[0].call_type", `unknown call type "salez"`}},
		{"unknown key in router", goodRouter + "  bogus: 1\n",
			[]string{"t.yaml:14: router.bogus", "field bogus not found"}},
		{"unknown key in a script node", strings.Replace(goodRouter, "{id: q, type: label,", "{id: q, type: label, colour: red,", 1),
			[]string{"t.yaml:13: router.scripts[s].nodes[q].colour", "field colour not found"}},
		{"unknown script", strings.Replace(goodRouter, "script: s}", "script: nope}", 1),
			[]string{"t.yaml:6: router.call_types[sales].script", `unknown script "nope"`}},
		{"wrong type", strings.Replace(goodRouter, "skill_groups: [{name: sales}]", "skill_groups: 7", 1),
			[]string{"t.yaml:7: router.skill_groups", "cannot unmarshal"}},
		{"not a mapping", "router: 5\n", []string{"t.yaml:4: router", "cannot unmarshal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("t.yaml", []byte(fileHead+tt.router), CheckRouter)
			if err == nil {
				t.Fatal("accepted a bad router section")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := config.Parse("t.yaml", []byte(fileHead+goodRouter), CheckRouter); err != nil {
		t.Fatalf("good router refused: %v", err)
	}
	// A bad router and a bad SIP listener are named in one run.
	_, err := config.Parse("t.yaml", []byte(strings.Replace(fileHead, "udp", "sctp", 1)+goodRouter+"  bogus: 1\n"), CheckRouter)
	if err == nil || !strings.Contains(err.Error(), "sip.listen[0].transport") || !strings.Contains(err.Error(), "router.bogus") {
		t.Fatalf("want both problems: %v", err)
	}
}

// routerDoc is the file's router section as node.New hands it to Seed.
func routerDoc(t *testing.T, file string) []byte {
	t.Helper()
	c, err := config.Parse("t.yaml", []byte(fileHead+file))
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(&c.Router)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSeedPrecedence(t *testing.T) {
	ctx := context.Background()
	st, err := config.OpenStore(filepath.Join(t.TempDir(), "tandem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logBuf bytes.Buffer
	rc := &RouterConfig{Store: st, Log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	seed := func(file []byte) (string, int, error) {
		t.Helper()
		logBuf.Reset()
		body, v, err := rc.Seed(ctx, file)
		if err != nil {
			return "", 0, err
		}
		cfg, err := router.ParseConfig(body)
		if err != nil {
			t.Fatalf("seed returned a document that does not parse: %v", err)
		}
		return cfg.CallTypes[0].Name, v, nil
	}
	want := func(step, gotCT string, gotV int, err error, ct string, v int) {
		t.Helper()
		if err != nil || gotCT != ct || gotV != v {
			t.Fatalf("%s: call type %q version %d (%v), want %q version %d\nlog: %s", step, gotCT, gotV, err, ct, v, logBuf.String())
		}
	}

	// An invalid file stores nothing.
	bad := routerDoc(t, strings.Replace(goodRouter, "call_type: sales", "call_type: salez", 1))
	if _, _, err := seed(bad); err == nil || !strings.Contains(err.Error(), "router.dialed_numbers[0].call_type") {
		t.Fatalf("invalid file: %v", err)
	}
	if _, err := st.Latest(ctx, routerKind); !errors.Is(err, config.ErrNoDocument) {
		t.Fatalf("an invalid file was stored: %v", err)
	}

	// What the old seed did: the invalid section stored as version 1.
	// The fixed file starts, stored as version 2.
	if _, err := st.Save(ctx, routerKind, bad, fileAuthor); err != nil {
		t.Fatal(err)
	}
	file := routerDoc(t, goodRouter)
	ct, v, err := seed(file)
	want("fixed file over a stored invalid version", ct, v, err, "sales", 2)

	// Unchanged file: the same version, nothing stored.
	ct, v, err = seed(file)
	want("restart", ct, v, err, "sales", 2)

	// A change made at run time wins over the unchanged file, also when
	// the file differs only in comments and layout.
	runtime := routerDoc(t, strings.ReplaceAll(goodRouter, "sales", "support"))
	if _, err := st.Save(ctx, routerKind, runtime, "cti:sup"); err != nil {
		t.Fatal(err)
	}
	ct, v, err = seed(file)
	want("run-time version", ct, v, err, "support", 3)
	relaid := routerDoc(t, "# edited\n"+strings.Replace(goodRouter, `[{name: sales}]`, "\n    - name: sales   # the only one", 1))
	ct, v, err = seed(relaid)
	want("comments only", ct, v, err, "support", 3)

	// A stored version that no longer validates is skipped for the file.
	if _, err := st.Save(ctx, routerKind, []byte("call_types: [{name: x, script: gone}]\n"), "console:admin"); err != nil {
		t.Fatal(err)
	}
	ct, v, err = seed(file)
	want("invalid stored version", ct, v, err, "sales", 5)
	if !strings.Contains(logBuf.String(), "stored version 4 does not validate") {
		t.Errorf("log does not say why: %s", logBuf.String())
	}

	// An edited file wins over run-time changes, which the log names.
	if _, err := st.Save(ctx, routerKind, runtime, "cti:sup"); err != nil {
		t.Fatal(err)
	}
	edited := routerDoc(t, strings.ReplaceAll(goodRouter, "sales", "billing"))
	ct, v, err = seed(edited)
	want("edited file", ct, v, err, "billing", 7)
	if !strings.Contains(logBuf.String(), "overridden=6") {
		t.Errorf("log does not name the overridden version: %s", logBuf.String())
	}
	h, err := st.History(ctx, routerKind)
	if err != nil || len(h) != 7 {
		t.Fatalf("history: %d versions, %v", len(h), err)
	}
}

// FuzzCheckRouter: any router section (in a file, or a stored document)
// is accepted or refused with its problems placed; never a panic.
func FuzzCheckRouter(f *testing.F) {
	f.Add([]byte(goodRouter))
	f.Add([]byte(goodRouter + "  bogus: 1\n"))
	f.Add([]byte(strings.Replace(goodRouter, "{id: q, type: label,", "{id: q, type: label, colour: red,", 1)))
	f.Add([]byte("router: &a [*a]\n"))
	f.Add([]byte("router:\n  scripts: [{name: s, nodes: [{id: [x]}]}]\n"))
	f.Fuzz(func(t *testing.T, section []byte) {
		_, err := config.Parse("f.yaml", append([]byte(fileHead), section...), CheckRouter)
		if err != nil && !strings.Contains(err.Error(), "f.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
		cfg, probs := routerProblems(section, nil)
		for _, p := range probs {
			if p.Path == "" || p.Msg == "" {
				t.Fatalf("a problem without its path or message: %+v", p)
			}
		}
		if len(probs) == 0 {
			if errs := cfg.Validate(); len(errs) > 0 {
				t.Fatalf("no problems, yet Validate has %v", errs)
			}
		}
	})
}
