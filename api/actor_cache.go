package api

import (
	"time"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
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
	ttl     time.Duration
	entries *tokencache.Cache[domain.Actor]
}

func newActorCache() *actorCache {
	return &actorCache{ttl: actorCacheTTL, entries: tokencache.New[domain.Actor](actorCacheSize)}
}

// get returns the actor kept for token key k, if any is still valid at now.
func (c *actorCache) get(k tokencache.Key, now time.Time) (domain.Actor, bool) {
	return c.entries.Get(k, now, nil)
}

// put keeps a, resolved at now for the token whose key is k and which
// expires at exp, until the earlier of exp and now+TTL.
func (c *actorCache) put(k tokencache.Key, a domain.Actor, now, exp time.Time) {
	until := now.Add(c.ttl)
	if exp.Before(until) {
		until = exp
	}
	a.RequestID, a.Scope = "", ""
	c.entries.Put(k, a, now, until)
}
