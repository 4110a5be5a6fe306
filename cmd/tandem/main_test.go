package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommands(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("sip:\n  listen: [{transport: sctp, address: \"127.0.0.1:5060\"}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"version"}, 0},
		{[]string{"serve", "-c", "../../examples/call-director.yaml", "-check"}, 0},
		{[]string{"serve", "-c", bad, "-check"}, 2},
		{[]string{"serve", "-c", filepath.Join(t.TempDir(), "missing.yaml"), "-check"}, 2},
		{[]string{"sim", "-rate", "0"}, 2},
		{[]string{"sim", "-agents", "1010-1001"}, 2},
		{[]string{"sim", "-digits", "1:x"}, 2},
		{[]string{"frobnicate"}, 2},
		{nil, 2},
	}
	for _, tt := range tests {
		if got := run(tt.args); got != tt.want {
			t.Errorf("tandem %v: exit %d, want %d", tt.args, got, tt.want)
		}
	}
}
