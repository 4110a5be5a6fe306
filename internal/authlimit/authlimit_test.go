package authlimit

import (
	"testing"
	"time"
)

func TestLimiterSlowsRepeatedFailures(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		l.Fail("192.0.2.1")
	}
	if d := l.Delay("192.0.2.1"); d != 0 {
		t.Fatalf("delay below the limit: %s", d)
	}
	l.Fail("192.0.2.1")
	d1 := l.Delay("192.0.2.1")
	l.Fail("192.0.2.1")
	d2 := l.Delay("192.0.2.1")
	if d1 != firstDelay || d2 != 2*firstDelay {
		t.Fatalf("delays %s then %s: want %s then %s", d1, d2, firstDelay, 2*firstDelay)
	}
	if l.Delay("192.0.2.2") != 0 {
		t.Fatal("another key is slowed down")
	}
	if d := l.Delay("192.0.2.2", "192.0.2.1"); d != d2 {
		t.Fatalf("delay of two keys %s, want the longer %s", d, d2)
	}
	for i := 0; i < 20; i++ {
		l.Fail("192.0.2.1")
	}
	if d := l.Delay("192.0.2.1"); d != MaxDelay {
		t.Fatalf("delay %s, want the cap %s", d, MaxDelay)
	}
	now = now.Add(2 * time.Minute)
	if d := l.Delay("192.0.2.1"); d != 0 {
		t.Fatalf("delay after the window: %s", d)
	}
	l.Fail("192.0.2.1")
	l.Fail("192.0.2.1")
	l.Fail("192.0.2.1")
	l.Succeed("192.0.2.1")
	if d := l.Delay("192.0.2.1"); d != 0 {
		t.Fatalf("delay after a success: %s", d)
	}
}

func TestLimiterBounded(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(1, time.Minute, func() time.Time { return now })
	for i := 0; i < MaxTracked+10; i++ {
		l.Fail(string(rune(i)) + "x")
	}
	if n := len(l.keys); n > MaxTracked {
		t.Fatalf("%d keys tracked, want at most %d", n, MaxTracked)
	}
	now = now.Add(2 * time.Minute)
	l.Fail("new")
	if n := len(l.keys); n != 1 {
		t.Fatalf("%d keys after the window's sweep, want 1", n)
	}
}
