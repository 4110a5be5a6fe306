package field

import (
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	tests := []struct {
		pat   string
		match []string
		miss  []string
	}{
		{"2000", []string{"2000"}, []string{"200", "20000", "2001"}},
		{"1XXX", []string{"1001", "1999"}, []string{"100", "10011", "1a01"}},
		{"[2-4]1X", []string{"210", "419"}, []string{"510", "21"}},
		{"9!", []string{"91", "9555"}, []string{"9"}},
		{"*", []string{"", "anything"}, nil},
		{"agent", []string{"agent"}, []string{"agents"}},
	}
	for _, tt := range tests {
		p, err := CompilePattern(tt.pat)
		if err != nil {
			t.Fatalf("%s: %v", tt.pat, err)
		}
		for _, s := range tt.match {
			if !p.Match(s) {
				t.Errorf("%s should match %q", tt.pat, s)
			}
		}
		for _, s := range tt.miss {
			if p.Match(s) {
				t.Errorf("%s should not match %q", tt.pat, s)
			}
		}
	}
	a, _ := CompilePattern("2000")
	b, _ := CompilePattern("2XXX")
	c, _ := CompilePattern("2!")
	d, _ := CompilePattern("*")
	if !(a.Specificity() > b.Specificity() && b.Specificity() > c.Specificity() && c.Specificity() > d.Specificity()) {
		t.Error("specificity order wrong")
	}
	for _, bad := range []string{"", "2!0", "[", "[]", "a]"} {
		if _, err := CompilePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
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
