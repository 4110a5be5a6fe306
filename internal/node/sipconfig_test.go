package node

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// sipFile is a configuration file whose routing.static can route to labels
// a run-time SIP document no longer dials.
func sipFile(routes string) string {
	return `
sip: {listen: [{transport: udp, address: "127.0.0.1:5960"}]}
trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups: [{name: uas, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:5962"}]}]
dial_plan: [{pattern: "3000", server_group: uas}, {pattern: "4000", server_group: uas}]
routing: {static: [` + routes + `]}
`
}

// runtimeDoc is a SIP document saved at run time: it dials 3000 only.
const runtimeDoc = `trunks: [{name: gw, networks: ["127.0.0.1"]}]
server_groups: [{name: uas, heartbeat: {enabled: false}, destinations: [{address: "127.0.0.1:5962"}]}]
dial_plan: [{pattern: "3000", server_group: uas}]
`

// TestSIPSeedPrecedence: the SIP document follows the router's rules, and
// a stored version the file makes invalid no longer stops the start.
func TestSIPSeedPrecedence(t *testing.T) {
	ctx := context.Background()
	st, err := config.OpenStore(filepath.Join(t.TempDir(), "tandem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logBuf bytes.Buffer
	start := func(file string) (*SIPConfig, int, error) {
		t.Helper()
		logBuf.Reset()
		cfg, err := config.Parse("t.yaml", []byte(file))
		if err != nil {
			t.Fatal(err)
		}
		edge, err := sipedge.New(&cfg.Config, sipedge.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		sc := &SIPConfig{Store: st, Edge: edge, File: cfg, Log: slog.New(slog.NewTextHandler(&logBuf, nil))}
		v, err := sc.Seed(ctx)
		return sc, v, err
	}
	want := func(step string, v, wantV int, err error, logs string) {
		t.Helper()
		if err != nil || v != wantV || !strings.Contains(logBuf.String(), logs) {
			t.Fatalf("%s: version %d (%v), want %d with %q in the log:\n%s", step, v, err, wantV, logs, logBuf.String())
		}
	}

	file := sipFile(`{dnis: "3000", labels: ["3000"]}`)
	sc, v, err := start(file)
	want("first start", v, 1, err, "first start")

	// A change saved at run time survives a restart with the same file.
	if v, probs, err := sc.Apply(ctx, []byte(runtimeDoc), "admin"); err != nil || v != 2 {
		t.Fatalf("apply: %d %v %v", v, probs, err)
	}
	_, v, err = start(file)
	want("restart", v, 2, err, "newest stored version")

	// The rest of the file now routes to 4000, which version 2 does not
	// dial: version 2 is skipped, the file's sections run (stored as 3).
	// The old seed refused to start here until tandem.db was deleted.
	file2 := sipFile(`{dnis: "3000", labels: ["3000"]}, {dnis: "4000", labels: ["4000"]}`)
	_, v, err = start(file2)
	want("stored version invalid with the file", v, 3, err, "stored version 2 does not validate")
	if !strings.Contains(logBuf.String(), "4000") {
		t.Errorf("the log does not name the problem:\n%s", logBuf.String())
	}

	// The file's SIP sections change: the file wins over a run-time save.
	if _, _, err := sc.Apply(ctx, []byte(runtimeDoc+"users: [{user: \"1001\", password: p}]\n"), "admin"); err != nil {
		t.Fatal(err)
	}
	file3 := strings.Replace(file, `networks: ["127.0.0.1"]`, `networks: ["127.0.0.2"]`, 1)
	_, v, err = start(file3)
	want("file changed", v, 5, err, "run-time changes after it are overridden")
	d, err := st.Latest(ctx, sipKind)
	if err != nil || !strings.Contains(string(d.Body), "127.0.0.2") {
		t.Fatalf("stored after the file changed: %s %v", d.Body, err)
	}
}
