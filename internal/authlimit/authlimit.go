// Package authlimit slows down whoever keeps failing to authenticate: the
// SIP edge's digest auth, the console's sign-in and the CTI API's logins
// share it. Past a number of failures within a window, each further
// attempt from the same key (a source address, a user name) must wait a
// delay that doubles per failure, up to MaxDelay; a success forgets the
// key. The table is bounded: old entries are swept, and past MaxTracked
// keys new ones are not tracked (a flood of sources cannot grow memory).
package authlimit

import (
	"sync"
	"time"
)

// Bounds of every Limiter.
const (
	MaxDelay   = 8 * time.Second
	MaxTracked = 100000
	firstDelay = 250 * time.Millisecond
)

// Limiter counts failures per key. Safe for concurrent use.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex // guards keys and sweep
	keys  map[string]*state
	sweep time.Time
}

type state struct {
	first time.Time
	count int
}

// New returns a limiter that slows a key down after limit failures within
// window; now is the clock (nil for time.Now).
func New(limit int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: window, now: now, keys: map[string]*state{}}
}

// Fail records a failed attempt by key.
func (l *Limiter) Fail(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > l.window {
		for k, s := range l.keys {
			if now.Sub(s.first) > l.window {
				delete(l.keys, k)
			}
		}
		l.sweep = now
	}
	s := l.keys[key]
	if s == nil || now.Sub(s.first) > l.window {
		if len(l.keys) >= MaxTracked {
			return
		}
		s = &state{first: now}
		l.keys[key] = s
	}
	s.count++
}

// Succeed forgets key's failures.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// Delay returns how long key's next attempt must wait (0: at once); with
// several keys (a source and a user name), the longest.
func (l *Limiter) Delay(keys ...string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		s := l.keys[k]
		if s == nil || now.Sub(s.first) > l.window || s.count < l.limit {
			continue
		}
		d = max(d, min(firstDelay<<min(s.count-l.limit, 5), MaxDelay))
	}
	return d
}
