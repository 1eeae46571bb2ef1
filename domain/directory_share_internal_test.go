package domain

import (
	"database/sql"
	"strconv"
	"testing"
	"time"
)

func TestShareCacheForgetsAfterItsTTLAndAtItsSize(t *testing.T) {
	t.Parallel()
	c := &shareCache{entries: map[string]shareEntry{}}
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if _, ok := c.get("food", t0); ok {
		t.Fatal("an empty cache answered")
	}
	c.put("food", sql.NullFloat64{Float64: 0.2, Valid: true}, t0)
	c.put("the", sql.NullFloat64{}, t0)
	if got, ok := c.get("food", t0.Add(shareCacheTTL)); !ok || got.Float64 != 0.2 || !got.Valid {
		t.Fatalf("food within the TTL = %v, %v", got, ok)
	}
	if got, ok := c.get("the", t0); !ok || got.Valid {
		t.Fatalf("a remembered \"no estimate\" = %v, %v", got, ok)
	}
	if _, ok := c.get("food", t0.Add(shareCacheTTL+time.Second)); ok {
		t.Fatal("food answered after its TTL")
	}
	for i := range shareCacheSize {
		c.put("w"+strconv.Itoa(i), sql.NullFloat64{}, t0)
	}
	if n := len(c.entries); n > shareCacheSize {
		t.Fatalf("%d entries, more than %d", n, shareCacheSize)
	}
}
