package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain/demo"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

func hsdsImport(ctx context.Context, e cli, st *openedStore, args []string) error {
	rep, err := st.ImportHSDS(ctx, args[0])
	rep.PrintSummary(e.stdout)
	rep.PrintSkips(e.stderr)
	if err != nil {
		return err
	}
	if err := refreshDirectory(ctx, e, st); err != nil {
		return err
	}
	// Exit 1 when data was left out, so a script cannot mistake a partial
	// import for a whole one; the lines above say which and why.
	if records, files := rep.Lost(); records > 0 || files > 0 {
		return fmt.Errorf("hsds import: skipped %d malformed record(s) and %d file(s); the rest was imported", records, files)
	}
	return nil
}

// refreshDirectory ends a bulk load: the first searches after it should not
// pay for statistics and index upkeep (see RefreshDirectoryStatistics).
func refreshDirectory(ctx context.Context, e cli, st *openedStore) error {
	if err := st.RefreshDirectoryStatistics(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "refreshed the directory's statistics (VACUUM (ANALYZE))")
	return nil
}

func hsdsExport(ctx context.Context, e cli, st *openedStore, args []string) error {
	counts, err := st.ExportHSDS(ctx, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported to %s: taxonomy %d, taxonomy_term %d, organization %d, location (no organization) %d, service %d\n",
		args[0], counts[hsds.KindTaxonomy], counts[hsds.KindTaxonomyTerm], counts[hsds.KindOrganization],
		counts[hsds.KindLocation], counts[hsds.KindService])
	return nil
}

func demoSeedFlags(fs *flag.FlagSet) action {
	n := fs.Int("services", demo.DefaultServices, "number of directory services to generate")
	seed := withStore(true, func(ctx context.Context, e cli, st *openedStore, _ []string) error {
		return demoSeed(ctx, e, st, *n)
	})
	return func(ctx context.Context, e cli, args []string) error {
		if *n < 1 {
			return configErrorf("demo seed: --services must be at least 1")
		}
		return seed(ctx, e, args)
	}
}

func demoSeed(ctx context.Context, e cli, st *openedStore, services int) error {
	// The personas are people of the issuer `serve --dev` runs at
	// WAYPOINT_ADDR (or of OIDC_ISSUER_URL): a name only, nothing is checked.
	issuer := envOr(e.env, "OIDC_ISSUER_URL", devIssuerURL(envOr(e.env, "WAYPOINT_ADDR", "127.0.0.1:8080")))
	var personas []demo.Person
	for _, p := range devissuer.DefaultPersonas() {
		personas = append(personas, demo.Person{Subject: p.Subject, Name: p.Name, Roles: p.Roles})
	}
	people, err := demo.SeedPeople(ctx, st.Store, issuer, personas)
	if err != nil {
		return err
	}
	if err := demo.SeedCareTeam(ctx, st.Store, people["adam"], people["alice"], people["wanda"]); err != nil {
		return err
	}
	if _, err := demo.SeedHousingGoal(ctx, st.Store, people["alice"]); err != nil {
		return err
	}
	added, err := demo.SeedDirectory(ctx, st.DB(), services)
	if err != nil {
		return err
	}
	if err := refreshDirectory(ctx, e, st); err != nil {
		return err
	}
	pantry, err := demo.SeedProviderStaff(ctx, st.Store, st.DB(), people["adam"], people["pia"])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seeded personas alice, bob (clients), wanda (on alice's care team), will (workers), adam (admin), pia (provider), otto (organizer) for issuer %s\n", issuer)
	if pantry != uuid.Nil {
		fmt.Fprintf(e.stdout, "pia is staff of the organization offering food pantry service %s\n", pantry)
	}
	fmt.Fprintf(e.stdout, "alice has a housing goal: %q\n", demo.HousingGoalTitle)
	fmt.Fprintf(e.stdout, "seeded the directory: %d new service(s) of %d\n", added, services)
	return nil
}
