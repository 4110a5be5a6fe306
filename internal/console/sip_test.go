package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/config"
	tnode "github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// sipCenter is a node with the console, a supervisor and an agent, so
// that every role can be refused or admitted by the real sign-in.
const sipCenter = `
sip: {listen: [{transport: udp, address: "127.0.0.1:0"}]}
trunks: [{name: gw, networks: ["127.0.0.1"]}]
users: [{user: "1001", password: p1001}]
server_groups:
  - {name: vxml, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:9"}]}
dial_plan: [{pattern: "1XXX", registered: true}, {pattern: "5XXX", server_group: vxml}]
cti: {supervisors: [{id: sue, password: sue-secret}]}
console: {admin: {user: admin, password: console-admin-pw}}
report: {driver: "off"}
router:
  skill_groups: [{name: sales}]
  agents: [{id: alice, extension: "1001", password: alice-pw, skill_groups: [sales]}]
`

func startNode(t *testing.T, dataDir string) (*tnode.Node, string, func()) {
	t.Helper()
	cfg, err := config.Parse("sip-console.yaml", []byte(sipCenter))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dataDir
	cfg.Metrics.Listen = ""
	cfg.CTI.Listen, cfg.IVR.Listen, cfg.Console.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	n, err := tnode.New(cfg, tnode.Deps{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("tandem did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return n, "http://" + n.ConsoleAddr(), stop
}

type client struct {
	t    *testing.T
	base string
	cl   *http.Client
	csrf string
}

func signIn(t *testing.T, base, user, pass, ext string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, cl: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var me struct{ CSRF string }
	if code := c.do("POST", "/api/login", map[string]string{"user": user, "password": pass, "extension": ext}, &me); code != 200 {
		t.Fatalf("%s: sign-in: %d", user, code)
	}
	c.csrf = me.CSRF
	return c
}

func (c *client) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

type problem struct {
	Line      int
	Path, Msg string
}

type sipDoc struct {
	Version      int              `json:"version"`
	Trunks       []map[string]any `json:"trunks"`
	Users        []map[string]any `json:"users"`
	ServerGroups []map[string]any `json:"server_groups"`
	DialPlan     []map[string]any `json:"dial_plan"`
	Live         struct {
		ServerGroups []sipedge.GroupHealth `json:"server_groups"`
	} `json:"live"`
	Note     string    `json:"note"`
	Error    string    `json:"error"`
	Problems []problem `json:"problems"`
}

// TestSIPConfigAPI: the admin reads and changes the SIP document through
// the console; the running edge follows at once, a bad field is refused at
// its path, a stale form with 409, other roles with 403; the saved version
// wins over the file at the next start.
func TestSIPConfigAPI(t *testing.T) {
	dataDir := t.TempDir()
	n, base, _ := startNode(t, dataDir)
	admin := signIn(t, base, "admin", "console-admin-pw", "")

	var doc sipDoc
	if code := admin.do("GET", "/api/config/sip", nil, &doc); code != 200 {
		t.Fatalf("GET /api/config/sip: %d %s", code, doc.Error)
	}
	if doc.Version != 1 || len(doc.Users) != 1 || doc.Users[0]["password"] != nil || len(doc.Live.ServerGroups) != 1 || !strings.Contains(doc.Note, "restart") {
		t.Fatalf("the seeded document: %+v", doc)
	}

	put := func(d map[string]any) (int, sipDoc) {
		var out sipDoc
		code := admin.do("PUT", "/api/config/sip", d, &out)
		return code, out
	}
	valid := func(version int) map[string]any {
		return map[string]any{
			"version": version,
			"trunks":  []any{map[string]any{"name": "gw", "networks": []string{"127.0.0.1", "10.9.0.0/16"}}},
			// 1001 keeps its password; 1002 is new.
			"users": []any{map[string]any{"user": "1001"}, map[string]any{"user": "1002", "password": "p1002"}},
			"server_groups": []any{
				map[string]any{"name": "vxml", "heartbeat": map[string]any{"enabled": false}, "destinations": []any{map[string]any{"address": "127.0.0.1:9"}}},
				map[string]any{"name": "branch", "heartbeat": map[string]any{"enabled": false, "up_interval": "10s"},
					"destinations": []any{map[string]any{"address": "127.0.0.1:7070", "transport": "tcp", "priority": 1, "weight": 3}}},
			},
			"dial_plan": []any{
				map[string]any{"pattern": "1XXX", "registered": true},
				map[string]any{"pattern": "5XXX", "server_group": "vxml"},
				map[string]any{"pattern": "6XXX", "server_group": "branch"},
			},
		}
	}

	tests := []struct {
		name     string
		change   func(map[string]any)
		version  int
		code     int
		wantPath string
	}{
		{"bad CIDR at its field", func(d map[string]any) {
			d["trunks"] = []any{map[string]any{"name": "gw", "networks": []string{"127.0.0.1", "10.9.0.0/33"}}}
		}, 1, 422, "trunks[0].networks[1]"},
		{"new user without password", func(d map[string]any) {
			d["users"] = []any{map[string]any{"user": "1001"}, map[string]any{"user": "1003"}}
		}, 1, 422, "users[1].password"},
		{"rule to an unknown group", func(d map[string]any) {
			d["dial_plan"] = []any{map[string]any{"pattern": "6XXX", "server_group": "nosuch"}}
		}, 1, 422, "dial_plan[0].server_group"},
		{"bad transport", func(d map[string]any) {
			d["server_groups"].([]any)[1].(map[string]any)["destinations"] = []any{map[string]any{"address": "127.0.0.1:7070", "transport": "sctp"}}
		}, 1, 422, "server_groups[1].destinations[0].transport"},
		{"unknown field", func(d map[string]any) { d["listen"] = "x" }, 1, 400, ""},
		{"applied", func(map[string]any) {}, 1, 200, ""},
		{"stale version", func(map[string]any) {}, 1, 409, ""},
	}
	for _, tc := range tests {
		d := valid(tc.version)
		tc.change(d)
		code, out := put(d)
		if code != tc.code {
			t.Errorf("%s: %d, want %d (%s %+v)", tc.name, code, tc.code, out.Error, out.Problems)
			continue
		}
		if tc.wantPath != "" {
			found := false
			for _, p := range out.Problems {
				found = found || p.Path == tc.wantPath
			}
			if !found {
				t.Errorf("%s: no problem at %s in %+v", tc.name, tc.wantPath, out.Problems)
			}
		}
	}

	// The running edge has the change: the new rule, the new trunk.
	ts, err := n.Edge.Resolve("6001")
	if err != nil || len(ts) != 1 || ts[0].Addr != "127.0.0.1:7070" || ts[0].Transport != "tcp" {
		t.Errorf("Resolve(6001) after the save: %v %v", ts, err)
	}
	trunks := n.Edge.Trunks()
	if len(trunks) != 1 || len(trunks[0].Networks) != 2 {
		t.Errorf("trunks after the save: %+v", trunks)
	}
	v, body, err := n.SIP.Current(context.Background())
	if err != nil || v != 2 || !strings.Contains(string(body), "p1001") || !strings.Contains(string(body), "p1002") {
		t.Errorf("stored version %d (%v): the kept and the new password should be there:\n%s", v, err, body)
	}
	if code := admin.do("GET", "/api/config/sip", nil, &doc); code != 200 || doc.Version != 2 {
		t.Errorf("GET after the save: %d version %d", code, doc.Version)
	}
	for _, u := range doc.Users {
		if u["password"] != nil {
			t.Errorf("a password was sent back: %v", u)
		}
	}

	// Other roles: refused, reading or writing.
	sup := signIn(t, base, "sue", "sue-secret", "")
	agent := signIn(t, base, "alice", "alice-pw", "1001")
	for _, who := range []*client{sup, agent} {
		if code := who.do("GET", "/api/config/sip", nil, nil); code != 403 {
			t.Errorf("GET by a non-admin: %d, want 403", code)
		}
		if code := who.do("PUT", "/api/config/sip", valid(2), nil); code != 403 {
			t.Errorf("PUT by a non-admin: %d, want 403", code)
		}
	}
}

// TestSIPConfigSurvivesRestart: a version saved at run time wins over the
// file at the next start.
func TestSIPConfigSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	n, _, stop := startNode(t, dataDir)
	_, body, err := n.SIP.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(body), "pattern: 5XXX", "pattern: 8XXX", 1)
	if changed == string(body) {
		t.Fatalf("the seeded document has no 5XXX rule:\n%s", body)
	}
	if _, probs, err := n.SIP.Apply(context.Background(), []byte(changed), "test"); err != nil {
		t.Fatalf("apply: %v %+v", err, probs)
	}
	stop()
	n2, _, _ := startNode(t, dataDir)
	if _, err := n2.Edge.Resolve("8000"); err != nil {
		t.Errorf("after a restart the saved rule 8XXX is gone: %v", err)
	}
	if _, err := n2.Edge.Resolve("5000"); !errors.Is(err, sipedge.ErrNoRoute) {
		t.Errorf("after a restart the file's rule 5XXX is back: %v", err)
	}
}
