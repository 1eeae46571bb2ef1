package domain_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/domain"
)

// Migrations apply on an empty database (created on demand, as at start-up)
// and a second run is a no-op.
func TestMigrationsUpAndIdempotent(t *testing.T) {
	ctx := context.Background()
	name := "waypoint_migrate_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	url := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	db, err := domain.OpenDB(ctx, domain.DBConfig{URL: url})
	if err != nil {
		t.Fatalf("open (should create the database): %v", err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	n, err := domain.Migrate(ctx, sqlDB)
	if err != nil || n == 0 {
		t.Fatalf("first migrate: %d applied, %v", n, err)
	}
	n2, err := domain.Migrate(ctx, sqlDB)
	if err != nil || n2 != 0 {
		t.Fatalf("second migrate: %d applied, %v", n2, err)
	}
	var out bytes.Buffer
	if err := domain.WriteMigrationStatus(ctx, sqlDB, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "applied 20") != n || strings.Contains(out.String(), "pending") {
		t.Fatalf("status after migrate:\n%s", out.String())
	}
	var tables int
	if err := db.Raw(`SELECT count(*) FROM information_schema.tables WHERE table_name IN ('people','clients','care_team_members','access_log')`).Scan(&tables).Error; err != nil || tables != 4 {
		t.Fatalf("tables = %d, %v", tables, err)
	}
}
