package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// waits samples what the database's active client backends are doing
// during a round (pg_stat_activity every 100 ms, from a connection of its
// own): a round whose backends mostly wait on one lock is bounded by it,
// whoever sends the requests.
type waits struct {
	samples int
	counts  map[string]int // wait (or "CPU") -> backend samples
}

const waitsSQL = `SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
	WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`

// sampleWaits runs fn while sampling; a sampler that cannot connect
// reports nothing rather than failing the round.
func sampleWaits(ctx context.Context, dbURL string, fn func()) waits {
	w := waits{counts: map[string]int{}}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		fn()
		return w
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rows, err := conn.Query(ctx, waitsSQL)
			if err != nil {
				return
			}
			labels, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return
			}
			w.samples++
			for _, l := range labels {
				w.counts[l]++
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return w
}

// String is the mean number of active backends and the top waits, e.g.
// "14.8 active: Lock:advisory 92%, IO:WALSync 6%".
func (w waits) String() string {
	if w.samples == 0 {
		return "—"
	}
	total := 0
	for _, n := range w.counts {
		total += n
	}
	keys := slices.SortedFunc(maps.Keys(w.counts), func(a, b string) int { return w.counts[b] - w.counts[a] })
	var top []string
	for _, k := range keys[:min(3, len(keys))] {
		top = append(top, fmt.Sprintf("%s %.0f%%", k, 100*float64(w.counts[k])/float64(total)))
	}
	return fmt.Sprintf("%.1f active: %s", float64(total)/float64(w.samples), strings.Join(top, ", "))
}

// mergeWaits adds up the samples of target's rounds.
func mergeWaits(rounds []round, target string) waits {
	m := waits{counts: map[string]int{}}
	for _, r := range rounds {
		if r.target != target {
			continue
		}
		m.samples += r.db.samples
		for k, n := range r.db.counts {
			m.counts[k] += n
		}
	}
	return m
}

// top is the most frequent wait and its share of the samples.
func (w waits) top() (string, float64) {
	best, total := "", 0
	for k, n := range w.counts {
		total += n
		if best == "" || n > w.counts[best] || n == w.counts[best] && k < best {
			best = k
		}
	}
	if total == 0 {
		return "", 0
	}
	return best, float64(w.counts[best]) / float64(total)
}
