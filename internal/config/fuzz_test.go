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

// FuzzPattern: a pattern compiles or is refused; a compiled one matches
// a string made from it, its characters are ones a dialed string may
// hold, and Match never panics on any input.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"2000", "1XXX", "[2-4]1X", "9!", "*", "agent", "conf-!", "7777!", "[]", "[", "a]", "2!0", "[9-0]", "[a-z0-9]x*"} {
		f.Add(s, "2001")
	}
	f.Fuzz(func(t *testing.T, pat, dialed string) {
		p, err := CompilePattern(pat)
		if err != nil {
			if p != nil {
				t.Fatal("a refused pattern came with a value")
			}
			return
		}
		p.Match(dialed)
		_ = p.Specificity()
		var w strings.Builder
		for _, e := range p.elems {
			if e.any {
				w.WriteByte('7')
				continue
			}
			n := 0
			for c := 0; c < 256; c++ {
				if e.set[c] {
					if !dialable(byte(c)) {
						t.Fatalf("pattern %q matches the character %q, which is refused outside []", pat, byte(c))
					}
					if n == 0 {
						w.WriteByte(byte(c))
					}
					n++
				}
			}
			if n == 0 {
				t.Fatalf("pattern %q has an element that matches nothing", pat)
			}
		}
		if p.tail == '!' {
			w.WriteByte('1')
		}
		if !p.Match(w.String()) {
			t.Fatalf("pattern %q does not match %q, made from it", pat, w.String())
		}
	})
}
