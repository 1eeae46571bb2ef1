package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
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
	max int
	ttl time.Duration

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p     Principal
	until time.Time
	gen   uint64
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
	return &tokenCache{max: size, ttl: ttl, entries: make(map[[sha256.Size]byte]cachedToken)}
}

func tokenKey(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }

// get returns a copy of the cached principal of the token whose key is k,
// if it is still valid at now for key generation gen.
func (c *tokenCache) get(k [sha256.Size]byte, now time.Time, gen uint64) (*Principal, bool) {
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && (!now.Before(e.until) || e.gen != gen) {
		delete(c.entries, k)
		ok = false
	}
	c.mu.Unlock()
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
func (c *tokenCache) put(k [sha256.Size]byte, p *Principal, now time.Time, gen uint64) {
	until := now.Add(c.ttl)
	if p.Expiry.Before(until) {
		until = p.Expiry
	}
	if !now.Before(until) {
		return
	}
	e := cachedToken{p: *p, until: until, gen: gen}
	e.p.Roles, e.p.Scopes = slices.Clone(p.Roles), slices.Clone(p.Scopes)
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
	c.entries[k] = e
}
