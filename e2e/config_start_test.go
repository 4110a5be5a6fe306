package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	tnode "github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/router"
)

// TestBadRouterSectionNeverBricksTheStart: a router section with a
// dangling call type is refused with file:line before anything is
// stored; a data_dir left by a tandem that stored such a section as
// version 1 starts once the file is fixed, and again after that.
func TestBadRouterSectionNeverBricksTheStart(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	path := filepath.Join(dir, "tandem.yaml")
	write := func(callType string) {
		t.Helper()
		cfg := fmt.Sprintf(`data_dir: %s
sip:
  listen: [{transport: udp, address: "127.0.0.1:%d"}]
dial_plan: [{pattern: "9XXX", registered: true}]
cti: {listen: "127.0.0.1:0"}
ivr: {listen: "127.0.0.1:0"}
console: {listen: "off"}
metrics: {listen: ""}
report: {driver: "off"}
router:
  dialed_numbers: [{number: "4000", call_type: %s}]
  call_types: [{name: sales, script: s}]
  labels: [{name: out, kind: extension, value: "9000"}]
  scripts:
    - name: s
      nodes:
        - {id: a, type: start, next: l}
        - {id: l, type: label, labels: [out]}
`, dataDir, freePort(t), callType)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// start builds and runs the node; stop ends it and waits, so the next
	// start opens the same data_dir afresh.
	start := func() (*tnode.Node, func()) {
		t.Helper()
		cfg, err := config.Load(path, tnode.CheckRouter)
		if err != nil {
			t.Fatal(err)
		}
		n, err := tnode.New(cfg, tnode.Deps{Log: log})
		if err != nil {
			t.Fatalf("the node does not start: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = n.Run(ctx); close(done) }()
		stop := func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("node did not stop")
			}
		}
		t.Cleanup(stop)
		return n, stop
	}
	routerVersion := func(n *tnode.Node) (int, string) {
		t.Helper()
		d, err := n.Store.Latest(context.Background(), "router")
		if err != nil {
			t.Fatal(err)
		}
		return d.Version, d.Author
	}

	// 1. The broken file: refused with file:line and field path; the
	// node refuses it too, and nothing is stored.
	write("salez")
	_, err := config.Load(path, tnode.CheckRouter)
	if err == nil || !strings.Contains(err.Error(), path+":11: router.dialed_numbers[0].call_type") {
		t.Fatalf("load: %v", err)
	}
	raw, err := config.Load(path) // without the router check, as a tool might
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tnode.New(raw, tnode.Deps{Log: log}); err == nil || !strings.Contains(err.Error(), "router.dialed_numbers[0].call_type") {
		t.Fatalf("node.New took an invalid router section: %v", err)
	}
	st, err := config.OpenStore(filepath.Join(dataDir, "tandem.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Latest(context.Background(), "router"); !errors.Is(err, config.ErrNoDocument) {
		t.Fatalf("an invalid router section was stored: %v", err)
	}
	// 2. What an older tandem left: the invalid section as version 1.
	body, err := yaml.Marshal(&raw.Router)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(context.Background(), "router", body, "config file"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// 3. The fixed file starts on the same data_dir, as version 2, and
	// routes with it.
	write("sales")
	n, stop := start()
	if in, err := n.Engine.Route(context.Background(), router.RouteRequest{Call: "c1", DNIS: "4000"}); err != nil {
		t.Errorf("route with the fixed configuration: %v", err)
	} else if in.Kind != router.Connect {
		t.Errorf("route: %v, want connect", in.Kind)
	}
	if v, author := routerVersion(n); v != 2 || author != "config file" {
		t.Errorf("router configuration version %d by %q, want 2 by the config file", v, author)
	}
	stop()

	// 4. And again: the unchanged file keeps version 2.
	n, _ = start()
	if v, _ := routerVersion(n); v != 2 {
		t.Errorf("restart: router configuration version %d, want 2", v)
	}
}
