// Package authlimit slows down whoever keeps failing to authenticate: the
// SIP edge's digest auth, the console's sign-in and the CTI API's logins
// share it.
//
// An attempt is counted when it is reserved, before its credentials are
// checked, and settled as a failure or a success afterwards: while it is in
// flight it counts as a failure. So a burst of concurrent guesses cannot
// all slip in under the limit (the limit is decided before the expensive
// check, not after it). Past a key's limit within the window, each further
// attempt starts a delay after the one before it — 250 ms, doubling per
// attempt, up to MaxDelay — so attempts on one key are spaced out in
// sequence however many arrive at once.
//
// Two ways to use a reservation: Reserve for a caller that waits out the
// delay (the SIP edge holds the request; past MaxWaiting waiters per key or
// MaxWaitingTotal in all it is refused at once, so waiting holds bounded
// memory), and Allow for one that does not wait (the HTTP logins answer 429
// with the honest time left instead).
//
// A key carries its own limit, so a caller can combine a tight key (an
// account from one source) with a looser one (everything from that source):
// one address can then never slow an account down for the others.
//
// The table is bounded: old entries are swept, and past MaxTracked keys
// new ones are not tracked (a flood of sources cannot grow memory).
package authlimit

import (
	"errors"
	"sync"
	"time"
)

// Bounds of every Limiter.
const (
	// MaxDelay caps the spacing of attempts on one key. 8 s keeps a
	// guesser to 7.5 guesses a minute and a phone that mistyped a
	// password still answered within a SIP transaction's timeout.
	MaxDelay = 8 * time.Second
	// MaxTracked bounds the keys held (about 100 bytes each).
	MaxTracked = 100000
	// MaxWaiting bounds the reservations of one key waiting for their
	// turn; MaxWait bounds how far ahead a turn may be given. Together
	// they keep a waiter inside SIP's 32 s transaction timeout.
	MaxWaiting = 4
	MaxWait    = 2 * MaxDelay
	// MaxWaitingTotal bounds the waiters of all keys: each holds a
	// request (a SIP transaction and a goroutine) while it waits.
	MaxWaitingTotal = 1000
	// MaxKeyLen bounds a key's length: keys hold attacker-chosen text
	// (a user name), which must not grow the table's memory.
	MaxKeyLen  = 128
	firstDelay = 250 * time.Millisecond
)

// ErrBusy is Reserve's refusal when too many attempts already wait.
var ErrBusy = errors.New("authlimit: too many attempts waiting")

// Key is what attempts are counted by, with its own limit of failures
// within the window before attempts are spaced out.
type Key struct {
	ID    string
	Limit int
	// KeepOnSuccess keeps the key's failures when an attempt succeeds.
	// Set it on a key shared by several accounts (a source address):
	// otherwise one valid account would reset the count of guesses made
	// at the others from the same source.
	KeepOnSuccess bool
}

// Limiter counts attempts per key. Safe for concurrent use.
type Limiter struct {
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex // guards keys, sweep and waiting
	keys    map[string]*state
	sweep   time.Time
	waiting int // reservations of all keys waiting for their turn
}

// state is one key's count in its window. A state with pending attempts is
// never swept: their settlement must find it.
type state struct {
	first   time.Time // the window starts at the first attempt
	fails   int       // settled failures in the window
	pending int       // reserved attempts not yet settled (counted as failures)
	waiting int       // of pending, those given a turn in the future
	last    time.Time // the turn of the latest attempt reserved
}

// New returns a limiter counting each key's attempts within window; now is
// the clock (nil for time.Now).
func New(window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{window: window, now: now, keys: map[string]*state{}}
}

// delay is the spacing owed by the n-th attempt (from 0) on a key whose
// limit is limit.
func delay(n, limit int) time.Duration {
	if n < limit {
		return 0
	}
	return min(firstDelay<<min(n-limit, 6), MaxDelay)
}

// Reservation is one attempt's place in line. Settle it with Done once the
// credentials are checked, or Cancel when they never were.
type Reservation struct {
	l    *Limiter
	keys []Key
	// At is when the attempt may be made: now, or a turn in the future
	// the caller waits for.
	At      time.Time
	waiting bool
	settled bool
}

// Reserve counts an attempt by keys and returns its turn. It refuses with
// ErrBusy (and the time until a retry could succeed) when a key already
// has MaxWaiting attempts waiting, the turn would be more than MaxWait
// away, or MaxWaitingTotal attempts wait in all; nothing is then held.
func (l *Limiter) Reserve(keys ...Key) (*Reservation, time.Duration, error) {
	return l.reserve(keys, true)
}

// Allow reserves an attempt only if it may be made now; otherwise it
// reserves nothing and returns how long until it may (for Retry-After).
func (l *Limiter) Allow(keys ...Key) (*Reservation, time.Duration) {
	r, d, _ := l.reserve(keys, false)
	return r, d
}

func (l *Limiter) reserve(keys []Key, wait bool) (*Reservation, time.Duration, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	at := now
	ss := make([]*state, len(keys))
	for i, k := range keys {
		s := l.keys[clip(k.ID)]
		if s != nil && s.pending == 0 && now.Sub(s.first) > l.window {
			// The window is over: start afresh.
			*s = state{}
		}
		ss[i] = s
		if s == nil {
			continue
		}
		if d := delay(s.fails+s.pending, k.Limit); d > 0 {
			at = later(at, s.last.Add(d))
		}
	}
	ahead := at.Sub(now)
	waiting := ahead > 0
	if waiting {
		busy := !wait || ahead > MaxWait || l.waiting >= MaxWaitingTotal
		for _, s := range ss {
			if s != nil && s.waiting >= MaxWaiting {
				busy = true
			}
		}
		if busy {
			if !wait {
				return nil, ahead, nil
			}
			return nil, ahead, ErrBusy
		}
		l.waiting++
	}
	for i, k := range keys {
		s := ss[i]
		if s == nil {
			if len(l.keys) >= MaxTracked {
				continue
			}
			s = &state{}
			l.keys[clip(k.ID)] = s
		}
		if s.fails == 0 && s.pending == 0 {
			s.first = now
		}
		s.pending++
		if waiting {
			s.waiting++
		}
		s.last = later(s.last, at)
	}
	return &Reservation{l: l, keys: keys, At: at, waiting: waiting}, 0, nil
}

// Done settles the attempt: a failure stays counted against every key; a
// success forgets the failures of the keys that do not keep them.
func (r *Reservation) Done(ok bool) {
	r.settle(func(s *state, k Key) bool {
		switch {
		case !ok:
			s.fails++
		case !k.KeepOnSuccess:
			s.fails = 0
			return true
		}
		return false
	})
}

// Cancel settles an attempt whose credentials were never checked (the
// client gave up while it waited): it counts as nothing.
func (r *Reservation) Cancel() { r.settle(func(*state, Key) bool { return false }) }

// settle ends the reservation once; f updates a key's state and says
// whether to forget the key.
func (r *Reservation) settle(f func(*state, Key) bool) {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.settled {
		return
	}
	r.settled = true
	if r.waiting {
		l.waiting--
	}
	for _, k := range r.keys {
		id := clip(k.ID)
		s := l.keys[id]
		if s == nil {
			continue // not tracked: the table was full
		}
		s.pending--
		if r.waiting {
			s.waiting--
		}
		if f(s, k) && s.pending == 0 {
			delete(l.keys, id)
		}
	}
}

// Wait is how long until the attempt's turn (0 when it is now).
func (r *Reservation) Wait() time.Duration { return max(0, r.At.Sub(r.l.now())) }

// sweepLocked drops, once per window, the keys whose window is over and
// that have nothing in flight.
func (l *Limiter) sweepLocked(now time.Time) {
	if now.Sub(l.sweep) <= l.window {
		return
	}
	for k, s := range l.keys {
		if s.pending == 0 && now.Sub(s.first) > l.window {
			delete(l.keys, k)
		}
	}
	l.sweep = now
}

// Tracked returns the number of keys held (for tests and metrics).
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func clip(id string) string {
	if len(id) > MaxKeyLen {
		return id[:MaxKeyLen]
	}
	return id
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
