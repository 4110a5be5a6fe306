package authlimit

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock, safe for the concurrent tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func src(ip string) Key { return Key{ID: "addr:" + ip, Limit: 3} }

// fail makes one failed attempt by keys, waiting out its turn on the clock.
func fail(t *testing.T, l *Limiter, c *fakeClock, keys ...Key) time.Duration {
	t.Helper()
	r, _, err := l.Reserve(keys...)
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	w := r.Wait()
	c.add(w)
	r.Done(false)
	return w
}

func TestDelaysGrowPerFailure(t *testing.T) {
	c := newClock()
	l := New(time.Minute, c.now)
	k := src("192.0.2.1")
	var got []time.Duration
	for range 12 {
		got = append(got, fail(t, l, c, k))
	}
	want := []time.Duration{0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
		2 * time.Second, 4 * time.Second, MaxDelay, MaxDelay, MaxDelay, MaxDelay}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("waits %v\nwant  %v", got, want)
	}
	if r, d := l.Allow(src("192.0.2.2")); r == nil || d != 0 {
		t.Fatalf("another key is slowed down: %v", d)
	}
	// The window starts at the first attempt: past it, the key is fresh.
	c.add(time.Minute)
	if w := fail(t, l, c, k); w != 0 {
		t.Fatalf("wait after the window: %s", w)
	}
}

func TestSuccessForgetsOnlyKeysThatDoNotKeep(t *testing.T) {
	c := newClock()
	l := New(time.Minute, c.now)
	acct := Key{ID: "user:1001@192.0.2.1", Limit: 3}
	addr := Key{ID: "addr:192.0.2.1", Limit: 3, KeepOnSuccess: true}
	for range 3 {
		fail(t, l, c, acct, addr)
	}
	r, _, err := l.Reserve(acct, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.add(r.Wait())
	r.Done(true)
	// The account's count is forgotten; the source's is not, so a valid
	// account cannot be used to reset the guesses at another.
	if r, d := l.Allow(Key{ID: acct.ID, Limit: 3}); r == nil {
		t.Fatalf("the account is still slowed after a success (%s)", d)
	} else {
		r.Cancel()
	}
	if r, d := l.Allow(addr); r != nil || d <= 0 {
		t.Fatalf("the source's failures were forgotten by another account's success")
	}
}

// TestConcurrentAllowHeldToLimit is the console's 40 concurrent sign-ins:
// only the limit's worth may go on to the (expensive) check, because an
// attempt in flight counts as a failure until it is settled.
func TestConcurrentAllowHeldToLimit(t *testing.T) {
	c := newClock()
	l := New(5*time.Minute, c.now)
	keys := []Key{{ID: "acct:admin@192.0.2.9", Limit: 5}, {ID: "addr:192.0.2.9", Limit: 20, KeepOnSuccess: true}}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed []*Reservation
		refused []time.Duration
	)
	start := make(chan struct{})
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, d := l.Allow(keys...)
			mu.Lock()
			defer mu.Unlock()
			if r != nil {
				allowed = append(allowed, r)
			} else {
				refused = append(refused, d)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(allowed) != 5 {
		t.Fatalf("%d attempts allowed at once, want the limit 5", len(allowed))
	}
	for _, d := range refused {
		if d != firstDelay {
			t.Fatalf("refused with retry after %s, want %s", d, firstDelay)
		}
	}
	for _, r := range allowed {
		r.Done(false)
	}
	// Honest Retry-After: the time left, and the attempt is allowed once
	// it has passed, not before.
	_, d := l.Allow(keys...)
	if d != firstDelay {
		t.Fatalf("retry after %s, want %s", d, firstDelay)
	}
	c.add(d - time.Millisecond)
	if r, _ := l.Allow(keys...); r != nil {
		t.Fatal("allowed before the Retry-After passed")
	}
	c.add(time.Millisecond)
	if r, _ := l.Allow(keys...); r == nil {
		t.Fatal("refused once the Retry-After passed")
	}
}

// TestConcurrentReserveSpacedInSequence is the SIP edge's burst: 1,000
// guesses at once. Each accepted attempt gets its own turn, spaced by the
// growing delay; beyond MaxWaiting waiters the rest are refused at once.
func TestConcurrentReserveSpacedInSequence(t *testing.T) {
	c := newClock()
	start := c.now()
	l := New(time.Minute, c.now)
	k := Key{ID: "addr:198.51.100.7", Limit: 5}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		turns []time.Duration
		busy  int
	)
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, retry, err := l.Reserve(k)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBusy):
				if retry <= 0 {
					t.Errorf("busy with retry %s", retry)
				}
				busy++
			case err != nil:
				t.Error(err)
			default:
				turns = append(turns, r.At.Sub(start))
			}
		}()
	}
	wg.Wait()
	sort.Slice(turns, func(i, j int) bool { return turns[i] < turns[j] })
	want := []time.Duration{0, 0, 0, 0, 0, 250 * time.Millisecond, 750 * time.Millisecond, 1750 * time.Millisecond, 3750 * time.Millisecond}
	if fmt.Sprint(turns) != fmt.Sprint(want) {
		t.Fatalf("turns %v\nwant  %v", turns, want)
	}
	if busy != 1000-len(want) {
		t.Fatalf("%d refused, want %d", busy, 1000-len(want))
	}
}

func TestWaitingBoundedInAll(t *testing.T) {
	c := newClock()
	l := New(time.Minute, c.now)
	held := 0
	for i := range MaxWaitingTotal + 50 {
		k := Key{ID: fmt.Sprintf("addr:%d", i), Limit: 0}
		if _, _, err := l.Reserve(k); err != nil {
			t.Fatal(err) // the first attempt of a key with limit 0 is free
		}
		if _, _, err := l.Reserve(k); err == nil {
			held++
		} else if !errors.Is(err, ErrBusy) {
			t.Fatal(err)
		}
	}
	if held != MaxWaitingTotal {
		t.Fatalf("%d waiting, want the bound %d", held, MaxWaitingTotal)
	}
}

func TestCancelCountsNothing(t *testing.T) {
	c := newClock()
	l := New(time.Minute, c.now)
	k := src("192.0.2.3")
	for range 10 {
		r, _, err := l.Reserve(k)
		if err != nil {
			t.Fatal(err)
		}
		r.Cancel()
		r.Cancel() // settling twice is harmless
	}
	if r, d := l.Allow(k); r == nil {
		t.Fatalf("cancelled attempts counted: retry after %s", d)
	}
}

func TestLimiterBounded(t *testing.T) {
	c := newClock()
	l := New(time.Minute, c.now)
	for i := range MaxTracked + 10 {
		r, _, err := l.Reserve(Key{ID: fmt.Sprint(i), Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		r.Done(false)
	}
	if n := l.Tracked(); n > MaxTracked {
		t.Fatalf("%d keys tracked, want at most %d", n, MaxTracked)
	}
	c.add(2 * time.Minute)
	r, _, _ := l.Reserve(Key{ID: "new", Limit: 1})
	r.Done(false)
	if n := l.Tracked(); n != 1 {
		t.Fatalf("%d keys after the window's sweep, want 1", n)
	}
	long := string(make([]byte, 10*MaxKeyLen))
	r, _, _ = l.Reserve(Key{ID: long, Limit: 1})
	r.Done(false)
	for k := range l.keys {
		if len(k) > MaxKeyLen {
			t.Fatalf("a key of %d bytes is held", len(k))
		}
	}
}
