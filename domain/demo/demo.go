// Package demo fills a Waypoint database with a realistic resource directory
// and the demo personas, for `waypoint demo seed` and the benchmarks.
package demo

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain"
)

//go:embed directory.sql
var directorySQL string

// refreshBatch is how many new services one directory_refresh call indexes.
// A bulk load calls it a few times rather than once over a million ids, so
// no one statement grows with the load; not many more, because each call
// also reads the directory's tables whole (20,000 at a time took over a
// minute a call at a million services).
const refreshBatch = 250000

// DefaultServices is the size of the demo directory.
const DefaultServices = 2000

// SeedDirectory adds n generated services (with their organizations,
// locations, schedules, languages and taxonomy) in one transaction. It is
// deterministic and idempotent: ids derive from the row number, so a second
// run adds only services beyond those already there. It returns how many
// services were new. Past 100,000 services the metro areas widen with the
// directory (Spread), so places are as dense as at 100,000.
func SeedDirectory(ctx context.Context, db *gorm.DB, n int) (int, error) {
	return SeedDirectorySpread(ctx, db, n, Spread(n))
}

// Spread is how much wider than at 100,000 services the generator makes
// each metro area for n services: sqrt(n / 100,000), at least 1, which keeps
// services per km² constant past 100,000. A real directory of a million
// services covers a country's towns; ten times 100,000 in the same 43 boxes
// would put about 100 services in every km² of Los Angeles.
func Spread(n int) float64 {
	return math.Max(1, math.Sqrt(float64(n)/100000))
}

// SeedDirectorySpread is SeedDirectory with the metro areas' width given:
// 1 puts any number of services in the 100,000-service boxes (the
// benchmark's dense case).
func SeedDirectorySpread(ctx context.Context, db *gorm.DB, n int, spread float64) (int, error) {
	if n < 1 {
		return 0, fmt.Errorf("the number of services must be at least 1")
	}
	if !(spread >= 1 && spread <= 100) {
		return 0, fmt.Errorf("the spread must be between 1 and 100, not %g", spread)
	}
	var added int
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Generating and indexing many services takes long statements; the
		// pool's per-statement timeout is for requests, not for this.
		if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
			return fmt.Errorf("seed directory: %w", err)
		}
		for _, stmt := range strings.Split(directorySQL, "\n--;\n") {
			stmt = strings.ReplaceAll(stmt, "@n", strconv.Itoa(n))
			stmt = strings.ReplaceAll(stmt, "@spread", strconv.FormatFloat(spread, 'f', 6, 64))
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("seed directory: %w", err)
			}
		}
		if err := tx.Raw(`SELECT count(*) FROM demo_new`).Scan(&added).Error; err != nil {
			return fmt.Errorf("seed directory: %w", err)
		}
		for from := 0; from < added; from += refreshBatch {
			err := tx.Exec(`SELECT directory_refresh(ARRAY(SELECT id FROM demo_refresh WHERE ord > ? AND ord <= ?))`,
				from, from+refreshBatch).Error
			if err != nil {
				return fmt.Errorf("seed directory: index services %d to %d: %w", from+1, min(from+refreshBatch, added), err)
			}
		}
		return nil
	})
	return added, err
}

// Person is a demo persona.
type Person struct {
	Subject, Name string
	Roles         []string
}

// People are the provisioned personas, by subject.
type People map[string]domain.Actor

// SeedPeople provisions the personas as the issuer's subjects, so they exist
// before their first sign-in.
func SeedPeople(ctx context.Context, store *domain.Store, issuer string, personas []Person) (People, error) {
	out := People{}
	for _, p := range personas {
		a, err := store.Provision(ctx, domain.Identity{Issuer: issuer, Subject: p.Subject, Name: p.Name, Roles: p.Roles})
		if err != nil {
			return nil, fmt.Errorf("seed persona %s: %w", p.Subject, err)
		}
		out[p.Subject] = a
	}
	return out, nil
}

// SeedCareTeam puts worker on client's care team, as admin would.
func SeedCareTeam(ctx context.Context, store *domain.Store, admin, client, worker domain.Actor) error {
	if client.ClientID == uuid.Nil {
		return fmt.Errorf("seed care team: the client persona has no client record")
	}
	if _, _, err := store.AddCareTeamMember(ctx, admin, client.ClientID, worker.PersonID, "case manager"); err != nil {
		return fmt.Errorf("seed care team: %w", err)
	}
	return nil
}

// HousingGoalTitle is the demo client's housing goal.
const HousingGoalTitle = "Find a stable, affordable place to live"

// SeedHousingGoal gives the client an active housing goal, in their own
// words, unless they already have one with that title. It returns its id.
func SeedHousingGoal(ctx context.Context, store *domain.Store, client domain.Actor) (uuid.UUID, error) {
	goals, _, err := store.ListGoals(ctx, client, client.ClientID, domain.GoalFilter{Categories: []string{"housing"}, Limit: 100})
	if err != nil {
		return uuid.Nil, fmt.Errorf("seed goal: %w", err)
	}
	for _, g := range goals {
		if g.Title == HousingGoalTitle {
			return g.ID, nil
		}
	}
	g, err := store.CreateGoal(ctx, client, client.ClientID, domain.GoalInput{
		Title: HousingGoalTitle, Category: "housing", Priority: "high", LifecycleStatus: "active",
		WhyItMatters: "So my kids can stay at the same school",
		Steps:        []domain.StepInput{{Title: "Keep groceries covered while I save for a deposit"}, {Title: "Apply for rent assistance"}},
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("seed goal: %w", err)
	}
	return g.ID, nil
}

// FoodPantryService is the kind of service the demo provider's organization offers.
const FoodPantryService = "Food Pantry"

// SeedProviderStaff links the provider persona to the organization of the
// directory's first active food pantry, as an administrator would, and
// returns the service's id (uuid.Nil when the directory has none).
func SeedProviderStaff(ctx context.Context, store *domain.Store, db *gorm.DB, admin, provider domain.Actor) (uuid.UUID, error) {
	var rows []struct{ ID, OrganizationID uuid.UUID }
	if err := db.WithContext(ctx).Raw(`SELECT id, organization_id FROM services WHERE name = ? AND status = 'active' ORDER BY id LIMIT 1`,
		FoodPantryService).Scan(&rows).Error; err != nil {
		return uuid.Nil, fmt.Errorf("seed provider staff: %w", err)
	}
	if len(rows) == 0 {
		return uuid.Nil, nil
	}
	if _, _, err := store.AddOrganizationStaff(ctx, admin, rows[0].OrganizationID, provider.PersonID); err != nil {
		return uuid.Nil, fmt.Errorf("seed provider staff: %w", err)
	}
	return rows[0].ID, nil
}
