package tokencache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
)

func TestCacheDeadlinesValidityAndBound(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := tokencache.New[int](8)
	c.Put(tokencache.KeyOf("a"), 1, now, now.Add(time.Second))
	if v, ok := c.Get(tokencache.KeyOf("a"), now.Add(999*time.Millisecond), nil); !ok || v != 1 {
		t.Fatalf("before its deadline: %d %v", v, ok)
	}
	if _, ok := c.Get(tokencache.KeyOf("a"), now.Add(time.Second), nil); ok {
		t.Fatal("served at its deadline")
	}
	if c.Len() != 0 {
		t.Fatalf("an expired entry that was asked for is still held (%d)", c.Len())
	}
	// A value its reader no longer accepts is dropped, not served later.
	c.Put(tokencache.KeyOf("b"), 2, now, now.Add(time.Hour))
	if _, ok := c.Get(tokencache.KeyOf("b"), now, func(v int) bool { return v != 2 }); ok {
		t.Fatal("served a value its reader refused")
	}
	if _, ok := c.Get(tokencache.KeyOf("b"), now, nil); ok {
		t.Fatal("a refused value was kept")
	}
	// Nothing is kept for the zero key or a deadline already past.
	c.Put(tokencache.Key{}, 3, now, now.Add(time.Hour))
	c.Put(tokencache.KeyOf("c"), 3, now, now)
	if c.Len() != 0 {
		t.Fatalf("kept %d entries that must not be", c.Len())
	}
	for i := range 100 {
		c.Put(tokencache.KeyOf(fmt.Sprint(i)), i, now, now.Add(time.Hour))
		if c.Len() > 8 {
			t.Fatalf("%d entries after %d puts; bound 8", c.Len(), i+1)
		}
	}
	if v, ok := c.Get(tokencache.KeyOf("99"), now, nil); !ok || v != 99 {
		t.Fatal("the latest entry was evicted")
	}
}
