package api

import (
	"strconv"
	"testing"
	"time"
)

// clock is a test's own time: it moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(l Limit, maxKeys int) (*limiter, *clock) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newLimiter(l, maxKeys, c.now), c
}

func TestBucketSpendsAndRefills(t *testing.T) {
	t.Parallel()
	l, c := newTestLimiter(Limit{Requests: 10, Per: time.Second, Burst: 3}, 0)
	for _, want := range []decision{
		{allowed: true, remaining: 2, reset: 1}, // 1 token short of full: 0.1 s, rounded up
		{allowed: true, remaining: 1, reset: 1},
		{allowed: true, remaining: 0, reset: 1}, // empty: the next request in 0.1 s
		{allowed: false, remaining: 0, reset: 1, retryAfter: 1},
		{allowed: false, remaining: 0, reset: 1, retryAfter: 1}, // refusals spend nothing
	} {
		if got := l.take("a"); got != want {
			t.Fatalf("take: %+v; want %+v", got, want)
		}
	}
	c.advance(100 * time.Millisecond)
	if d := l.take("a"); !d.allowed || d.remaining != 0 {
		t.Fatalf("after 0.1 s at 10/s: %+v; want one more request", d)
	}
	c.advance(time.Hour)
	if d := l.take("a"); !d.allowed || d.remaining != 2 {
		t.Fatalf("after an hour: %+v; want a full bucket (never more than the burst)", d)
	}

	slow, _ := newTestLimiter(Limit{Requests: 1, Per: time.Hour, Burst: 2}, 0)
	if d := slow.take("a"); d.reset != 3600 {
		t.Fatalf("1/h, one spent: t=%d; want 3600 until full", d.reset)
	}
	slow.take("a")
	if d := slow.take("a"); d.allowed || d.retryAfter != 3600 || d.reset != 3600 {
		t.Fatalf("1/h, empty: %+v; want Retry-After 3600", d)
	}
}

// An address sprayer cannot grow the limiter past its bound.
func TestBucketsAreBounded(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(Limit{Requests: 1, Per: time.Hour, Burst: 5}, 1000)
	for i := range 100_000 {
		l.take("10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255))
		if n := l.size(); n > 1000 {
			t.Fatalf("%d buckets after %d keys; the bound is 1000", n, i+1)
		}
	}
}

// Buckets that have refilled are dropped as new keys come, so memory
// follows the active keys; a bucket that has not refilled is kept while
// there is room, so forgetting never forgives.
func TestIdleBucketsAreDroppedExhaustedOnesKept(t *testing.T) {
	t.Parallel()
	l, c := newTestLimiter(Limit{Requests: 10, Per: time.Second, Burst: 2}, 10_000)
	for range 2 {
		l.take("exhausted")
	}
	for i := range 1000 {
		l.take("idle-" + strconv.Itoa(i))
	}
	c.advance(150 * time.Millisecond) // the idle keys refilled (one spent, 0.1 s); "exhausted" has 1.5 of 2
	l.take("exhausted")               // keep it recent
	for range 600 {
		l.take("busy")
	}
	if n := l.size(); n != 2 {
		t.Fatalf("%d buckets; want 2 (busy and exhausted): refilled ones are dropped", n)
	}
	if d := l.take("exhausted"); d.allowed {
		t.Fatalf("the exhausted bucket was forgotten: %+v", d)
	}
}

func BenchmarkLimiterTake(b *testing.B) {
	l := newLimiter(Limit{Requests: 1_000_000, Per: time.Second, Burst: 1_000_000}, 0, time.Now)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "person-" + strconv.Itoa(i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.take(keys[i&1023])
			i++
		}
	})
}
