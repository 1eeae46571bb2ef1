package auth

import (
	"slices"
	"time"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
)

const (
	// defaultTokenCacheSize bounds the verified tokens kept (about 200 bytes
	// each): one per active token of the deployment's recent minute.
	defaultTokenCacheSize = 10000
	// defaultTokenCacheTTL bounds how long a verified token is trusted without
	// a new signature check, whatever its exp: short, so that anything the
	// verifier would decide differently later (a key removed at the provider,
	// found by a background refresh) takes effect within it.
	defaultTokenCacheTTL = time.Minute
)

// keyGenerations is implemented by key sets whose keys can change (the
// remote JWKS): a cached verdict is only used while the keys it was reached
// with are still the ones in use.
type keyGenerations interface{ generation() uint64 }

// tokenCache keeps the Principal of a verified token, keyed by the SHA-256
// of the exact token (so it never holds the token itself), until the
// earlier of the token's exp and a short TTL. Profiling showed signature
// verification and claim decoding at about 30% of a goal read's CPU while
// clients send the same token for minutes. A different token, even for the
// same subject, has a different key and is verified on its own; roles and
// scopes are those of the presented token, since the key is the token.
type tokenCache struct {
	ttl     time.Duration
	entries *tokencache.Cache[cachedToken]
}

type cachedToken struct {
	p   Principal
	gen uint64
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = defaultTokenCacheSize
	}
	if ttl <= 0 {
		ttl = defaultTokenCacheTTL
	}
	return &tokenCache{ttl: ttl, entries: tokencache.New[cachedToken](size)}
}

func tokenKey(raw string) tokencache.Key { return tokencache.KeyOf(raw) }

// get returns a copy of the cached principal of the token whose key is k,
// if it is still valid at now for key generation gen.
func (c *tokenCache) get(k tokencache.Key, now time.Time, gen uint64) (*Principal, bool) {
	e, ok := c.entries.Get(k, now, func(e cachedToken) bool { return e.gen == gen })
	if !ok {
		return nil, false
	}
	p := e.p
	// The caller owns what it gets: the cached slices stay untouched.
	p.Roles, p.Scopes = slices.Clone(p.Roles), slices.Clone(p.Scopes)
	return &p, true
}

// put remembers p, verified at now with key generation gen, until the
// earlier of its exp (without the clock skew Verify allows: after exp the
// token is verified again, and refused past the skew) and now+TTL.
func (c *tokenCache) put(k tokencache.Key, p *Principal, now time.Time, gen uint64) {
	until := now.Add(c.ttl)
	if p.Expiry.Before(until) {
		until = p.Expiry
	}
	e := cachedToken{p: *p, gen: gen}
	e.p.Roles, e.p.Scopes = slices.Clone(p.Roles), slices.Clone(p.Scopes)
	c.entries.Put(k, e, now, until)
}
