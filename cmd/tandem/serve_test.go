package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesBadRouter: serve -check reads the router section as the
// router will and names each problem by file, line and field path.
func TestCheckRefusesBadRouter(t *testing.T) {
	const head = "sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\n" +
		"dial_plan: [{pattern: \"9XXX\", registered: true}]\nconsole: {listen: \"off\"}\n"
	const good = "router:\n" +
		"  dialed_numbers: [{number: \"4000\", call_type: sales}]\n" +
		"  call_types: [{name: sales, script: s}]\n" +
		"  labels: [{name: out, kind: extension, value: \"9000\"}]\n" +
		"  scripts:\n" +
		"    - name: s\n" +
		"      nodes:\n" +
		"        - {id: a, type: start, next: l}\n" +
		"        - {id: l, type: label, labels: [out]}\n"
	tests := []struct {
		name, router string
		code         int
		want         []string
	}{
		{"valid", good, 0, nil},
		{"dangling call type", strings.Replace(good, "call_type: sales", "call_type: nope", 1), 2,
			[]string{":6: router.dialed_numbers[0].call_type", `unknown call type "nope"`}},
		{"unknown key", good + "  colour: red\n", 2, []string{":14: router.colour", "field colour not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tandem.yaml")
			if err := os.WriteFile(path, []byte(head+tt.router), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stderr := captureStderr(t, func() int { return run([]string{"serve", "-c", path, "-check"}) })
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			for i, w := range tt.want {
				if i == 0 {
					w = path + w // file:line: field path
				}
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			// -check stores nothing: no data_dir is made.
			if _, err := os.Stat(filepath.Join(dir, "tandem-data")); !os.IsNotExist(err) {
				t.Errorf("-check made a data dir: %v", err)
			}
		})
	}
}

// captureStderr runs f with os.Stderr going to a file and returns what it
// wrote.
func captureStderr(t *testing.T, f func() int) (int, string) {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	old := os.Stderr
	os.Stderr = tmp
	code := f()
	os.Stderr = old
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return code, string(b)
}
