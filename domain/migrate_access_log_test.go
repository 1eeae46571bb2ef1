package domain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/waypoint-portal/waypoint/domain"
)

// Migration 00040 gives the entries written before it their relationship
// and the resource names of today, and goes down and up again.
func TestMigrationAccessLogBackfill(t *testing.T) {
	ctx := context.Background()
	name := "waypoint_m40_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	db, err := domain.OpenDB(ctx, domain.DBConfig{URL: "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, domain.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 31); err != nil {
		t.Fatal(err)
	}
	wanda, adam, alice, client := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO people (id, issuer, subject, roles) VALUES (?, 'i', 'wanda', '["worker"]'), (?, 'i', 'adam', '["admin"]'),
		(?, 'i', 'alice', '["client"]')`, wanda, adam, alice)
	exec(`INSERT INTO clients (id, person_id) VALUES (?, ?)`, client, alice)
	legacy := [][4]string{ // actor, action, resource, resource_id
		{wanda.String(), "read", "referrals", client.String()}, {wanda.String(), "read", "saved_services", client.String()},
		{wanda.String(), "write", "saved_services", "svc"}, {wanda.String(), "read", "messages", "conv"},
		{wanda.String(), "read", "goal", "g"}, {adam.String(), "write", "care_team", wanda.String()}, {adam.String(), "read", "client", client.String()},
	}
	for _, l := range legacy {
		exec(`INSERT INTO access_log (client_id, id, actor_person_id, action, resource, resource_id) VALUES (?, ?, ?, ?, ?, ?)`,
			client, uuid.New(), l[0], l[1], l[2], l[3])
	}
	if _, err := p.UpTo(ctx, 40); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.Raw(`SELECT concat_ws(' ', relationship, action, resource, nullif(resource_id, '')) FROM access_log ORDER BY 1`).
		Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{
		"administrator read client " + client.String(), "administrator write care_team " + wanda.String(),
		"care_team_worker read conversation conv", "care_team_worker read goal g", "care_team_worker read referral",
		"care_team_worker read saved_service", "care_team_worker write saved_service svc",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after 00040:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := db.Exec(`UPDATE access_log SET label = 'x'`).Error; err == nil {
		t.Fatal("an update of the log went through")
	}
	if _, err := p.DownTo(ctx, 31); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := p.UpTo(ctx, 40); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
