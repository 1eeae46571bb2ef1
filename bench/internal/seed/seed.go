// Package seed fills a benchmark database with set-based SQL (not the API):
// clients with goals, steps and check-ins, and a worker with a caseload.
// Seeding runs in one transaction whose statement timeout is lifted, so a
// fresh or slow database cannot trip the pool's per-request timeout (10 s),
// and it is idempotent: a database that already holds the issuer's people is
// left as it is.
package seed

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Goals describes the people and goals to create under one issuer.
type Goals struct {
	Issuer string
	// Clients "bench-client-1".."bench-client-N", each with GoalsPer goals
	// (3 steps and 4 client check-ins per goal).
	Clients, GoalsPer int
	// Caseload is how many clients (the first by id) the worker
	// "bench-worker" has on their care team.
	Caseload int
}

// Seed creates g's data unless people of g.Issuer exist; it reports whether
// it did.
func (g Goals) Seed(ctx context.Context, db *gorm.DB) (bool, error) {
	var have int64
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM people WHERE issuer = ? AND subject LIKE 'bench-client-%'`, g.Issuer).Scan(&have).Error; err != nil {
		return false, err
	}
	if have > 0 {
		return false, nil
	}
	args := map[string]any{"iss": g.Issuer, "clients": g.Clients, "goals": g.GoalsPer, "caseload": g.Caseload}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The pool's statement timeout is for requests, not for bulk inserts.
		if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		for _, s := range goalStatements() {
			var err error
			if strings.Contains(s, "@") {
				err = tx.Exec(s, args).Error
			} else {
				err = tx.Exec(s).Error
			}
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return true, Analyze(ctx, db)
}

// Analyze refreshes the planner's statistics after a bulk load, without
// the pool's statement timeout.
func Analyze(ctx context.Context, db *gorm.DB) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
			return err
		}
		return tx.Exec(`ANALYZE`).Error
	})
}

// goalStatements are the seeding statements; ids are UUIDv7 like the
// application's.
func goalStatements() []string {
	return []string{
		`CREATE OR REPLACE FUNCTION bench_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
			SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
				substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
				52, 1), 53, 1), 'hex')::uuid $$`,
		`INSERT INTO people (id, issuer, subject, display_name, roles)
			SELECT bench_uuid_v7(), @iss, 'bench-client-' || i, 'Bench Client ' || i, '["client"]'
			FROM generate_series(1, @clients) i`,
		`INSERT INTO people (id, issuer, subject, display_name, roles)
			VALUES (bench_uuid_v7(), @iss, 'bench-worker', 'Bench Worker', '["worker"]')
			ON CONFLICT (issuer, subject) DO NOTHING`,
		`INSERT INTO clients (id, person_id)
			SELECT bench_uuid_v7(), p.id FROM people p WHERE p.issuer = @iss AND p.subject LIKE 'bench-client-%' ORDER BY p.id`,
		`INSERT INTO care_team_members (client_id, person_id, team_role, added_by)
			SELECT c.id, w.id, 'case manager', w.id
			FROM (SELECT c.id FROM clients c JOIN people p ON p.id = c.person_id
					WHERE p.issuer = @iss AND p.subject LIKE 'bench-client-%' ORDER BY c.id LIMIT @caseload) c,
				people w WHERE w.issuer = @iss AND w.subject = 'bench-worker'`,
		`INSERT INTO goals (client_id, id, title, description, why_it_matters, strengths_used, category, priority,
				target_date, lifecycle_status, achievement_status, created_by)
			SELECT c.id, bench_uuid_v7(), 'Goal ' || n || ': ' || (ARRAY['find stable housing','get a steady job','eat well',
					'finish my GED','see my kids more'])[1 + (n - 1) % 5],
				'A description of the goal in the client''s own words, long enough to be realistic.',
				'Because it matters to me and my family.', '["persistent","organised"]',
				(ARRAY['housing','employment','food','education','family'])[1 + (n - 1) % 5], 'medium',
				current_date + 90, 'active', 'in-progress', c.person_id
			FROM clients c JOIN people p ON p.id = c.person_id AND p.issuer = @iss AND p.subject LIKE 'bench-client-%',
				generate_series(1, @goals) n`,
		`INSERT INTO goal_steps (client_id, goal_id, id, title, due_date, position, created_by)
			SELECT g.client_id, g.id, bench_uuid_v7(), 'Step ' || s, current_date + 30 * s, s, g.created_by
			FROM goals g JOIN clients c ON c.id = g.client_id
				JOIN people p ON p.id = c.person_id AND p.issuer = @iss AND p.subject LIKE 'bench-client-%',
				generate_series(1, 3) s`,
		`INSERT INTO goal_check_ins (client_id, goal_id, id, rating, note, mood, author_person_id, author_role, created_at)
			SELECT g.client_id, g.id, bench_uuid_v7(), 3 + k, 'Check-in ' || k, 'okay', g.created_by, 'client',
				now() - (5 - k) * interval '7 days'
			FROM goals g JOIN clients c ON c.id = g.client_id
				JOIN people p ON p.id = c.person_id AND p.issuer = @iss AND p.subject LIKE 'bench-client-%',
				generate_series(1, 4) k`,
	}
}
