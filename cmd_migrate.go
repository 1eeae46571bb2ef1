package main

import (
	"context"
	"fmt"

	"github.com/waypoint-portal/waypoint/domain"
)

func migrateUp(_ context.Context, e cli, st *openedStore, _ []string) error {
	fmt.Fprintf(e.stdout, "applied %d migration(s)\n", st.applied)
	return nil
}

func migrateStatus(ctx context.Context, e cli, st *openedStore, _ []string) error {
	return domain.WriteMigrationStatus(ctx, st.sql, e.stdout)
}
