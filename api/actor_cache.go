package api

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/waypoint-portal/waypoint/domain"
)

const (
	// actorCacheSize bounds the tokens whose person is kept (one per active
	// token of the recent minute, as auth's token cache).
	actorCacheSize = 10000
	// actorCacheTTL bounds how long a token's person is kept: short, so that
	// a person's roles as stored are refreshed within it (see actorCache).
	actorCacheTTL = time.Minute
)

// actorCache keeps the Actor that provisioning resolved for a verified
// token, keyed by the token's SHA-256 (auth.Principal.TokenHash), until the
// earlier of its exp and a minute. Provisioning (a person lookup: a round
// trip before every request's own statement) then runs once per token and
// replica instead of once per request; the floor measured against
// (bench/floor) still resolves the person on every request.
//
// What is kept cannot go stale within the entry's life:
//   - the person and their client record: found or created by (issuer,
//     subject) and never deleted (the schema refuses it while any goal,
//     message or log entry names them). An erasure would have to drop the
//     person's entries here; until then their rows going away (care team,
//     supporters, participants, the client record) ends their access at
//     once, because access is decided by those rows in every statement.
//   - the roles: the key is the exact token, so they are that token's
//     roles, as without the cache. The stored copy (people.roles, which
//     only care-team assignment and the people list read) is rewritten by
//     each new token whose roles differ; a token cached here does not
//     rewrite it back, so it follows the newest token rather than flipping
//     with every request of an old one.
//   - nothing that a client decides: which clients revoked the token's app
//     is read by every statement that applies the actor's scope
//     (domain.Actor.ClientScope), never kept with the actor.
//
// The per-request fields (RequestID, Scope) are set after a hit as after a
// miss.
type actorCache struct {
	max int
	ttl time.Duration

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedActor
}

type cachedActor struct {
	a     domain.Actor
	until time.Time
}

func newActorCache() *actorCache {
	return &actorCache{max: actorCacheSize, ttl: actorCacheTTL, entries: make(map[[sha256.Size]byte]cachedActor)}
}

// get returns the actor kept for token key k, if any is still valid at now.
func (c *actorCache) get(k [sha256.Size]byte, now time.Time) (domain.Actor, bool) {
	if k == ([sha256.Size]byte{}) {
		return domain.Actor{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.until) {
		delete(c.entries, k)
		ok = false
	}
	return e.a, ok
}

// put keeps a, resolved at now for the token whose key is k and which
// expires at exp, until the earlier of exp and now+TTL.
func (c *actorCache) put(k [sha256.Size]byte, a domain.Actor, now, exp time.Time) {
	until := now.Add(c.ttl)
	if exp.Before(until) {
		until = exp
	}
	if k == ([sha256.Size]byte{}) || !now.Before(until) {
		return
	}
	a.RequestID, a.Scope = "", ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Full: drop what has expired, then, if that freed too little, an
		// eighth of the entries (arbitrary: map order), as auth's token cache.
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
	c.entries[k] = cachedActor{a: a, until: until}
}
