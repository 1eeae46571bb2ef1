// Package tokencache holds a bounded map from a token's SHA-256 to what was
// learnt from the token (its verified claims, the person it resolves to),
// each entry kept until a deadline. It never holds a token itself. The
// directory search keeps its per-text estimates in one too, keyed the same
// way by the search text.
package tokencache

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Key is the SHA-256 of an exact token; the zero Key is never stored.
type Key = [sha256.Size]byte

// KeyOf is the key of the raw token.
func KeyOf(raw string) Key { return sha256.Sum256([]byte(raw)) }

// Cache keeps values by token key until each one's deadline, holding at most
// max entries. It is safe for concurrent use.
type Cache[V any] struct {
	max int

	mu      sync.Mutex
	entries map[Key]entry[V]
}

type entry[V any] struct {
	v     V
	until time.Time
}

// New is a cache of at most max entries.
func New[V any](max int) *Cache[V] {
	return &Cache[V]{max: max, entries: make(map[Key]entry[V])}
}

// Get returns the value kept for k if it is still valid at now and, when
// valid is not nil, valid accepts it; an entry that is not is dropped.
func (c *Cache[V]) Get(k Key, now time.Time, valid func(V) bool) (V, bool) {
	var zero V
	if k == (Key{}) {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return zero, false
	}
	if !now.Before(e.until) || (valid != nil && !valid(e.v)) {
		delete(c.entries, k)
		return zero, false
	}
	return e.v, true
}

// Put keeps v for k until the deadline; nothing is kept for the zero key or a
// deadline not after now.
func (c *Cache[V]) Put(k Key, v V, now, until time.Time) {
	if k == (Key{}) || !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Full: drop what has expired, then, if that freed too little, an
		// eighth of the entries (arbitrary: map order), so the size stays
		// bounded and the sweep is not repeated on every put under churn.
		for key, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries {
			if len(c.entries) < c.max-c.max/8 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = entry[V]{v: v, until: until}
}

// Len is the number of entries held (expired ones included until swept).
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
