package token

import (
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New[string](time.Hour, func() time.Time { return now })
	tok, exp, err := s.Issue("alice")
	if err != nil || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("issue: %v, expires %s", err, exp)
	}
	if v, ok := s.Lookup(tok); !ok || v != "alice" {
		t.Fatalf("lookup: %q %v", v, ok)
	}
	for _, bad := range []string{"", "short", tok + "x", tok[:len(tok)-1] + "=", "!" + tok[1:]} {
		if _, ok := s.Lookup(bad); ok {
			t.Errorf("lookup of %q succeeded", bad)
		}
	}
	// Every other spelling of the last character is refused, whatever the
	// random token was: the lenient decoder accepted four of them.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range alphabet {
		alt := tok[:len(tok)-1] + string(c)
		if alt == tok {
			continue
		}
		if _, ok := s.Lookup(alt); ok {
			t.Errorf("lookup of %q (last character changed) succeeded", alt)
		}
	}
	other, _, _ := s.Issue("bob")
	s.Revoke(other)
	if _, ok := s.Lookup(other); ok {
		t.Fatal("revoked token still valid")
	}
	now = now.Add(time.Hour)
	if _, ok := s.Lookup(tok); ok {
		t.Fatal("expired token still valid")
	}
	s.Issue("carol")
	now = now.Add(2 * time.Hour)
	s.Sweep()
	if n := s.Len(); n != 0 {
		t.Fatalf("%d tokens after the sweep, want 0", n)
	}
}
