// Package token keeps bearer tokens in memory for the roles that sign
// people in (the CTI API's agents and supervisors, the console's
// sessions). A token is 32 random bytes, base64url; only its SHA-256 is
// kept, as the map key, so a lookup's timing says nothing about a valid
// token and a dump of memory gives none. Tokens expire after a TTL; Sweep
// forgets expired ones so sign-ins never signed out do not grow the map.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// Random returns 32 random bytes as base64url: a token, a CSRF secret, a
// made-up password.
func Random() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("token: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// strict refuses a token whose last character has padding bits set: the
// lenient decoder would take four spellings of every token as the same
// 32 bytes, so a token a user never held would be accepted.
var strict = base64.RawURLEncoding.Strict()

func keyOf(tok string) ([sha256.Size]byte, bool) {
	raw, err := strict.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(raw), true
}

type entry[T any] struct {
	v       T
	expires time.Time
}

// Store maps live tokens to what they stand for. Safe for concurrent use.
type Store[T any] struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex // guards m; nothing else is done while it is held
	m  map[[sha256.Size]byte]entry[T]
}

// New returns an empty store whose tokens live ttl; now is the clock (nil
// for time.Now).
func New[T any](ttl time.Duration, now func() time.Time) *Store[T] {
	if now == nil {
		now = time.Now
	}
	return &Store[T]{ttl: ttl, now: now, m: map[[sha256.Size]byte]entry[T]{}}
}

// Issue returns a new token for v and when it expires.
func (s *Store[T]) Issue(v T) (string, time.Time, error) {
	tok, err := Random()
	if err != nil {
		return "", time.Time{}, err
	}
	k, _ := keyOf(tok)
	exp := s.now().Add(s.ttl)
	s.mu.Lock()
	s.m[k] = entry[T]{v: v, expires: exp}
	s.mu.Unlock()
	return tok, exp, nil
}

// Lookup returns what a live token stands for; an expired one is
// forgotten.
func (s *Store[T]) Lookup(tok string) (T, bool) {
	var zero T
	k, ok := keyOf(tok)
	if !ok {
		return zero, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok {
		return zero, false
	}
	if !s.now().Before(e.expires) {
		delete(s.m, k)
		return zero, false
	}
	return e.v, true
}

// Revoke forgets a token.
func (s *Store[T]) Revoke(tok string) {
	if k, ok := keyOf(tok); ok {
		s.mu.Lock()
		delete(s.m, k)
		s.mu.Unlock()
	}
}

// Sweep forgets expired tokens.
func (s *Store[T]) Sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.m {
		if !now.Before(e.expires) {
			delete(s.m, k)
		}
	}
}

// Len is how many tokens are kept (expired ones not yet swept included).
func (s *Store[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
