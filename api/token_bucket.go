package api

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// defaultMaxKeys bounds each limiter's memory: at about 200 bytes a key,
// 100,000 keys are some 20 MB per policy.
const defaultMaxKeys = 100_000

// limiter holds one token bucket per key (a person, an address) in memory,
// most recently used first. A bucket that has refilled completely is the
// same as no bucket, so it is dropped as soon as it reaches the end of the
// list: memory follows the keys active in the last few seconds, not every
// key ever seen. At maxKeys the least recently used bucket goes even if it
// is not full (an attacker spraying addresses then resets old buckets, which
// gives them nothing their many addresses did not already give them).
type limiter struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

// decision is one request's outcome under one policy.
type decision struct {
	allowed bool
	// remaining is the whole tokens left (the header's r).
	remaining int
	// reset is the header's t: with tokens left, seconds until the bucket is
	// full again; with none, seconds until the next request is allowed.
	reset int64
	// retryAfter is, when refused, the seconds until one request is allowed.
	retryAfter int64
}

func newLimiter(l Limit, maxKeys int, now func() time.Time) *limiter {
	if maxKeys <= 0 {
		maxKeys = defaultMaxKeys
	}
	return &limiter{rate: l.perSecond(), burst: float64(l.Burst), maxKeys: maxKeys, now: now, keys: map[string]*list.Element{}}
}

// take spends one token of key's bucket if it has one. A refused request
// spends nothing, so a client that keeps knocking is not punished further.
func (l *limiter) take(key string) decision {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.keys[key]; ok {
		b = e.Value.(*bucket)
		b.refill(now, l.rate, l.burst)
		l.lru.MoveToFront(e)
	} else {
		for l.lru.Len() >= l.maxKeys {
			l.drop(l.lru.Back())
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	d := decision{allowed: b.tokens >= 1}
	if d.allowed {
		b.tokens--
	}
	d.remaining = int(b.tokens)
	if b.tokens < 1 {
		d.reset = ceilSeconds((1 - b.tokens) / l.rate)
	} else {
		d.reset = ceilSeconds((l.burst - b.tokens) / l.rate)
	}
	if !d.allowed {
		d.retryAfter = d.reset
	}
	l.dropIdle(now, 2)
	return d
}

// dropIdle removes up to n buckets from the end of the list that have
// refilled completely: two per request keeps pace with any stream of new keys.
func (l *limiter) dropIdle(now time.Time, n int) {
	for ; n > 0; n-- {
		e := l.lru.Back()
		if e == nil {
			return
		}
		b := e.Value.(*bucket)
		if b.tokens+now.Sub(b.at).Seconds()*l.rate < l.burst {
			return
		}
		l.drop(e)
	}
}

func (l *limiter) drop(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// size is how many buckets are held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.at = now
	}
}

// ceilSeconds rounds a wait up to whole seconds, at least 1: a client told
// 0 would retry at once and be refused again.
func ceilSeconds(s float64) int64 {
	if s <= 0 {
		return 0
	}
	return max(1, int64(math.Ceil(s-1e-9)))
}
