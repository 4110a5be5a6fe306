package event

import (
	"strings"
	"testing"
	"time"
)

func TestCorrelationID(t *testing.T) {
	id := NewCallID(time.Unix(1_800_000_000, 0))
	if len(id) != CallIDLen {
		t.Fatalf("NewCallID made %q, %d long; CallIDLen is %d", id, len(id), CallIDLen)
	}
	for _, tc := range []struct {
		dnis string
		want CallID
		ok   bool
	}{
		{"7777" + string(id), id, true},
		{"8111111111" + string(id), id, true},
		{string(id), "", false}, // no label in front: a number, not a label + id
		{"7777", "", false},
		{"5000", "", false},
		{"7777" + strings.ToUpper(string(id)), "", false},
		{"7777" + string(id)[:31] + "g", "", false},
		{"+4930123456789", "", false},
		{"", "", false},
	} {
		got, ok := CorrelationID(tc.dnis)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CorrelationID(%q) = %q, %v; want %q, %v", tc.dnis, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzCorrelationID(f *testing.F) {
	for _, s := range []string{"7777" + strings.Repeat("a", 32), "7777", "", strings.Repeat("0", 33), "x" + strings.Repeat("F", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dnis string) {
		id, ok := CorrelationID(dnis)
		if !ok {
			if id != "" {
				t.Fatalf("%q: not an id but returned %q", dnis, id)
			}
			return
		}
		if len(id) != CallIDLen || !strings.HasSuffix(dnis, string(id)) || len(dnis) <= CallIDLen {
			t.Fatalf("%q: id %q", dnis, id)
		}
	})
}
