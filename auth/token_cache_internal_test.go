package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestTokenCacheBoundsAndLifetime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(16, time.Minute)
	p := &Principal{Subject: "alice", Roles: []string{RoleClient}, Expiry: now.Add(time.Hour)}

	// Held until the TTL when exp is later, and until exp when it is sooner.
	long, short := tokenKey("long"), tokenKey("short")
	c.put(long, p, now, 1)
	soon := *p
	soon.Expiry = now.Add(10 * time.Second)
	c.put(short, &soon, now, 1)
	if _, ok := c.get(short, now.Add(9*time.Second), 1); !ok {
		t.Fatal("entry gone before its exp")
	}
	if _, ok := c.get(short, now.Add(10*time.Second), 1); ok {
		t.Fatal("entry served at its exp")
	}
	if _, ok := c.get(long, now.Add(59*time.Second), 1); !ok {
		t.Fatal("entry gone before the TTL")
	}
	// Keys replaced since the verification: not served.
	if _, ok := c.get(long, now.Add(time.Second), 2); ok {
		t.Fatal("entry served after the key set changed")
	}
	c.put(long, p, now, 1)
	if _, ok := c.get(long, now.Add(time.Minute), 1); ok {
		t.Fatal("entry served after the TTL")
	}
	// An already expired principal is never stored.
	gone := *p
	gone.Expiry = now
	c.put(tokenKey("gone"), &gone, now, 1)
	if _, ok := c.get(tokenKey("gone"), now, 1); ok {
		t.Fatal("expired principal cached")
	}

	for i := range 1000 {
		c.put(tokenKey(fmt.Sprint(i)), p, now, 1)
		if n := c.entries.Len(); n > 16 {
			t.Fatalf("%d entries after %d puts; bound 16", n, i+1)
		}
	}
	if _, ok := c.get(tokenKey("999"), now, 1); !ok {
		t.Fatal("the latest entry was evicted")
	}
	if newTokenCache(-1, 0) != nil {
		t.Fatal("a negative size must turn the cache off")
	}
}
