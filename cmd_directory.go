package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// openStore connects and migrates for a command that only needs the database.
func openStore(ctx context.Context, getenv func(string) string) (*domain.Store, config, func(), error) {
	c, err := loadConfig(getenv, true) // dev defaults: these commands need no OIDC settings
	if err != nil {
		return nil, c, nil, err
	}
	db, sqlDB, err := openDB(ctx, c)
	if err != nil {
		return nil, c, nil, err
	}
	if _, err := domain.Migrate(ctx, sqlDB); err != nil {
		sqlDB.Close()
		return nil, c, nil, err
	}
	return domain.NewStore(db), c, func() { sqlDB.Close() }, nil
}

func cmdHSDS(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "import" && args[0] != "export") {
		return &configError{"usage: waypoint hsds import PATH | waypoint hsds export DIR"}
	}
	store, _, closeDB, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	if args[0] == "import" {
		rep, err := store.ImportHSDS(ctx, args[1])
		rep.Print(stdout)
		return err
	}
	counts, err := store.ExportHSDS(ctx, args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported to %s: taxonomy %d, taxonomy_term %d, organization %d, location (no organization) %d, service %d\n",
		args[1], counts[hsds.KindTaxonomy], counts[hsds.KindTaxonomyTerm], counts[hsds.KindOrganization],
		counts[hsds.KindLocation], counts[hsds.KindService])
	return nil
}

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		return &configError{"usage: waypoint demo seed [--services N]"}
	}
	fs := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	n := fs.Int("services", demo.DefaultServices, "number of directory services to generate")
	if err := fs.Parse(args[1:]); err != nil {
		return &configError{err.Error()}
	}
	if *n < 1 {
		return &configError{"demo seed: --services must be at least 1"}
	}
	store, c, closeDB, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	var personas []demo.Person
	for _, p := range devissuer.DefaultPersonas() {
		personas = append(personas, demo.Person{Subject: p.Subject, Name: p.Name, Roles: p.Roles})
	}
	// The personas belong to the dev issuer that `waypoint serve --dev` runs at WAYPOINT_ADDR.
	people, err := demo.SeedPeople(ctx, store, c.IssuerURL, personas)
	if err != nil {
		return err
	}
	if err := demo.SeedCareTeam(ctx, store, people["adam"], people["alice"], people["wanda"]); err != nil {
		return err
	}
	if _, err := demo.SeedHousingGoal(ctx, store, people["alice"]); err != nil {
		return err
	}
	added, err := demo.SeedDirectory(ctx, store.DB(), *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded personas alice, bob (clients), wanda (on alice's care team), will (workers), adam (admin) for issuer %s\n", c.IssuerURL)
	fmt.Fprintf(stdout, "alice has a housing goal: %q\n", demo.HousingGoalTitle)
	fmt.Fprintf(stdout, "seeded the directory: %d new service(s) of %d\n", added, *n)
	return nil
}
