package domain

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A replica whose clock is behind the last message continues after it, so
// message ids stay in commit order.
func TestNextMessageIDAfterLast(t *testing.T) {
	future := uuid.Must(uuid.NewV7())
	// Move the timestamp an hour ahead, as written by a replica with a fast clock.
	ms := uint64(time.Now().Add(time.Hour).UnixMilli())
	for i := 0; i < 6; i++ {
		future[i] = byte(ms >> (40 - 8*i))
	}
	id := nextMessageID(&future)
	if bytes.Compare(id[:], future[:]) <= 0 || id.Version() != 7 || id.Variant() != uuid.RFC4122 {
		t.Fatalf("next after %s = %s", future, id)
	}
	if !uuidTime(id).Equal(uuidTime(future)) {
		t.Fatalf("time %s, want %s", uuidTime(id), uuidTime(future))
	}
	// Carries through rand_b into rand_a and the timestamp.
	maxed := uuid.MustParse("01900000-0000-7fff-bfff-ffffffffffff")
	next := successorV7(maxed)
	if next.String() != "01900000-0001-7000-8000-000000000000" {
		t.Fatalf("successor of %s = %s", maxed, next)
	}
	if got := successorV7(uuid.MustParse("01900000-0000-7000-8000-000000000000")); got.String() != "01900000-0000-7000-8000-000000000001" {
		t.Fatalf("successor = %s", got)
	}
	// A normal clock needs no help.
	past := uuid.Must(uuid.NewV7())
	if id := nextMessageID(&past); bytes.Compare(id[:], past[:]) <= 0 {
		t.Fatalf("%s not after %s", id, past)
	}
}
