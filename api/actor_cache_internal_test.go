package api

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
	"github.com/waypoint-portal/waypoint/domain"
)

func TestActorCacheBoundsAndLifetime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	c := newActorCache()
	c.entries = tokencache.New[domain.Actor](16)
	key := func(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }
	a := domain.Actor{PersonID: uuid.Must(uuid.NewV7()), Roles: []string{domain.RoleClient}, AppID: "app",
		RequestID: "req-1", Scope: "goals:read"}

	// Kept until the TTL when exp is later, and until exp when it is sooner.
	c.put(key("long"), a, now, now.Add(time.Hour))
	c.put(key("short"), a, now, now.Add(10*time.Second))
	if _, ok := c.get(key("short"), now.Add(9*time.Second)); !ok {
		t.Fatal("entry gone before its exp")
	}
	if _, ok := c.get(key("short"), now.Add(10*time.Second)); ok {
		t.Fatal("entry served at its exp")
	}
	got, ok := c.get(key("long"), now.Add(59*time.Second))
	if !ok || got.PersonID != a.PersonID || got.AppID != "app" {
		t.Fatalf("entry before the TTL: %+v %v", got, ok)
	}
	// The request's own fields are the request's, never an earlier one's.
	if got.RequestID != "" || got.Scope != "" {
		t.Fatalf("kept per-request fields %+v", got)
	}
	if _, ok := c.get(key("long"), now.Add(time.Minute)); ok {
		t.Fatal("entry served after the TTL")
	}
	// An expired token and a principal without a token hash are never kept.
	c.put(key("gone"), a, now, now)
	if _, ok := c.get(key("gone"), now); ok {
		t.Fatal("expired token kept")
	}
	c.put([sha256.Size]byte{}, a, now, now.Add(time.Hour))
	if _, ok := c.get([sha256.Size]byte{}, now); ok {
		t.Fatal("a zero key is no token's")
	}
	for i := range 1000 {
		c.put(key(fmt.Sprint(i)), a, now, now.Add(time.Hour))
		if n := c.entries.Len(); n > 16 {
			t.Fatalf("%d entries after %d puts; bound 16", n, i+1)
		}
	}
	if _, ok := c.get(key("999"), now); !ok {
		t.Fatal("the latest entry was evicted")
	}
}
