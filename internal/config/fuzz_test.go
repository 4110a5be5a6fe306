package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: any bytes give a configuration that validates or an error
// that names the file; never a panic.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../examples/call-director.yaml", "demo.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("sip:\n  listen: [{transport: udp, address: \"127.0.0.1:5060\"}]\ndial_plan:\n  - {pattern: \"2[0-9]X!\", registered: true}\n"))
	f.Add([]byte("sip:\n  listen:\n    - {transport: tls, address: \"[::1]:5061\"}\ntrunks: [{name: gw, networks: [\"10.0.0.0/8\", \"::1\"]}]\n"))
	f.Add([]byte("call_server: {ring_timeout: 90, max_calls: -1}\nrouter: &r {a: *r}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if errs := c.Validate(); len(errs) > 0 {
			t.Fatalf("Parse accepted a configuration Validate refuses: %v", errs)
		}
	})
}
