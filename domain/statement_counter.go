package domain

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// StatementCounter counts the statements a pool sends (DBConfig.Statements):
// each is a round trip to PostgreSQL. It tells apart the commits that may
// carry writes (COMMIT, and a data-modifying statement outside a
// transaction: each is a WAL flush when it wrote something) and the event
// positioner's own statements after a write (RunPositioner: its own
// transactions, batched under load), which are counted on their own. It is
// a measuring instrument for benchmarks (api's BenchmarkHotPaths), not for
// production: it looks at every statement's text.
type StatementCounter struct {
	print bool

	mu          sync.Mutex
	counts      StatementCounts
	tx          map[*pgx.Conn]bool
	positioning map[*pgx.Conn]bool
}

// StatementCounts are a StatementCounter's counts since its last Reset.
type StatementCounts struct {
	Statements, Commits, Positioner int64
}

// NewStatementCounter returns a counter; with print it also writes each
// statement (but the positioner's) to stderr.
func NewStatementCounter(print bool) *StatementCounter {
	return &StatementCounter{print: print, tx: map[*pgx.Conn]bool{}, positioning: map[*pgx.Conn]bool{}}
}

// Reset sets the counts to zero.
func (c *StatementCounter) Reset() {
	c.mu.Lock()
	c.counts = StatementCounts{}
	c.mu.Unlock()
}

// Counts returns the counts since the last Reset.
func (c *StatementCounter) Counts() StatementCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts
}

var (
	writeStatement  = regexp.MustCompile(`\b(insert|update|delete)\b`)
	positionerStart = regexp.MustCompile(`^select (exists \(select 1 from events where seq is null\)|pg_advisory_xact_lock)`)
)

// TraceQueryStart implements pgx.QueryTracer.
func (c *StatementCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	sql := strings.ToLower(strings.Join(strings.Fields(d.SQL), " "))
	c.mu.Lock()
	defer c.mu.Unlock()
	if positionerStart.MatchString(sql) && !c.positioning[conn] {
		c.positioning[conn] = true
		if c.tx[conn] { // its BEGIN was counted as a request's
			c.counts.Statements--
			c.counts.Positioner++
		}
	}
	if c.positioning[conn] {
		c.counts.Positioner++
		switch {
		case strings.HasPrefix(sql, "begin"):
			c.tx[conn] = true
		case strings.HasPrefix(sql, "commit"), strings.HasPrefix(sql, "rollback"), !c.tx[conn]:
			c.tx[conn], c.positioning[conn] = false, false
		}
		return ctx
	}
	c.counts.Statements++
	if c.print {
		fmt.Fprintf(os.Stderr, "statement %d: %.200s\n", c.counts.Statements, sql)
	}
	switch {
	case strings.HasPrefix(sql, "begin"):
		c.tx[conn] = true
	case strings.HasPrefix(sql, "commit"):
		c.tx[conn] = false
		c.counts.Commits++
	case strings.HasPrefix(sql, "rollback"):
		c.tx[conn] = false
	case !c.tx[conn] && writeStatement.MatchString(sql):
		c.counts.Commits++
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *StatementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
