package domain

import (
	"context"
	"fmt"
)

// directoryTables are the tables a bulk directory load fills.
const directoryTables = `taxonomies, taxonomy_terms, organizations, locations, services, service_at_locations,
	schedules, languages, service_attributes, service_search, service_summaries, search_words, directory_time_zones`

// RefreshDirectoryStatistics readies the directory after a bulk load (HSDS
// import, demo seed) so the first searches do not pay for it: VACUUM merges
// the GIN pending lists of the text and array indexes (which every search
// otherwise scans linearly), sets hint bits and the visibility map; ANALYZE
// gives the planner the new sizes and value distributions, without which it
// picks plans for the empty directory until autovacuum comes by. VACUUM
// cannot run in a transaction, so it takes one connection of the pool,
// without the pool's statement timeout (requests' budget, not this one's).
func (s *Store) RefreshDirectoryStatistics(ctx context.Context) error {
	db, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("database handle: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("refresh directory statistics: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
		return fmt.Errorf("refresh directory statistics: %w", err)
	}
	// the connection goes back to the pool: restore its timeout whatever happens
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`) }()
	if _, err := conn.ExecContext(ctx, `VACUUM (ANALYZE) `+directoryTables); err != nil {
		return fmt.Errorf("refresh directory statistics: %w", err)
	}
	return nil
}
