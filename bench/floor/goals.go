package floor

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/domain"
)

// goal is the product's Goal response (api/goals.go), field for field.
type goal struct {
	ID                uuid.UUID `json:"id"`
	ClientID          uuid.UUID `json:"client_id"`
	Title             string    `json:"title"`
	Description       *string   `json:"description"`
	WhyItMatters      *string   `json:"why_it_matters"`
	StrengthsUsed     []string  `json:"strengths_used"`
	Category          *string   `json:"category"`
	Priority          string    `json:"priority"`
	TargetDate        *string   `json:"target_date"`
	LifecycleStatus   string    `json:"lifecycle_status"`
	AchievementStatus *string   `json:"achievement_status"`
	StatusReason      *string   `json:"status_reason"`
	Visibility        string    `json:"visibility"`
	Sensitivity       *string   `json:"sensitivity"`
	CheckInEvery      *string   `json:"check_in_every"`
	Steps             []step    `json:"steps"`
	LatestRating      *int      `json:"latest_rating"`
	Trend             string    `json:"trend"`
	CreatedBy         uuid.UUID `json:"created_by"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	Version           int64     `json:"version"`
}

// step is the product's GoalStep; the goal's query reads steps as one JSON
// array, decoded straight into these.
type step struct {
	ID        uuid.UUID  `json:"id"`
	Title     string     `json:"title"`
	DueDate   *string    `json:"due_date"`
	Done      bool       `json:"done"`
	DoneAt    *time.Time `json:"done_at"`
	Position  int        `json:"position"`
	Version   int64      `json:"version"`
	CreatedBy uuid.UUID  `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// dests are the scan targets of goalColumns, in order.
func (g *goal) dests() []any {
	return []any{&g.ClientID, &g.ID, &g.Title, &g.Description, &g.WhyItMatters, &g.StrengthsUsed, &g.Category,
		&g.Priority, &g.TargetDate, &g.LifecycleStatus, &g.AchievementStatus, &g.StatusReason,
		&g.Visibility, &g.Sensitivity, &g.CheckInEvery, &g.CreatedBy, &g.CreatedAt, &g.UpdatedAt, &g.Version, &g.Steps, &g.LatestRating, &g.Trend}
}

// finish applies the product's DTO rules: UTC times, an empty list rather
// than null, done from done_at.
func (g *goal) finish() {
	if g.StrengthsUsed == nil {
		g.StrengthsUsed = []string{}
	}
	if g.Steps == nil {
		g.Steps = []step{}
	}
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	for i := range g.Steps {
		s := &g.Steps[i]
		if s.DoneAt != nil {
			t := s.DoneAt.UTC()
			s.DoneAt, s.Done = &t, true
		}
		s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	}
}

// query runs q and calls each for every row; it reports whether any row
// came back. Every row is read, so a data-modifying statement has finished
// (and committed) when it returns.
func (f *Floor) query(ctx context.Context, q string, args []any, each func(pgx.Rows) error) (bool, error) {
	rows, err := f.pool.Query(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if err := each(rows); err != nil {
			return false, err
		}
	}
	rows.Close()
	return n > 0, rows.Err()
}

// GET /v1/goals/{goalId}: the product's GetGoal. An actor with a client
// record first reads their own goal (one statement, nothing to log);
// otherwise, or when it is not theirs, one statement resolves the person,
// reads the goal with its steps, latest rating and trend under the shared
// reach (the client, the care team, supporters the client shares goals
// with) and writes the access log.
func (f *Floor) getGoal(w http.ResponseWriter, r *http.Request) {
	p, st, ok := f.authorize(w, r, "goals:read", true)
	if !ok {
		return
	}
	id, err := uuid.Parse(r.PathValue("goalId"))
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "path.goalId must be a UUID")
		return
	}
	g, found, err := f.readGoal(r.Context(), p, st, id, "goals:read")
	if err == nil && !found {
		err = f.settleMiss(r.Context(), p, st.deniedGoal, id, errStatus(http.StatusNotFound, "goal not found"))
	}
	if err != nil {
		fail(w, err)
		return
	}
	g.finish()
	redisclosure(w, g)
	writeJSON(w, http.StatusOK, etag(g.Version), &g)
}

// readGoal is the product's GetGoal (see getGoal), for an operation of
// scope (the app's use records it).
func (f *Floor) readGoal(ctx context.Context, p *principal, st *stmtSet, id uuid.UUID, scope string) (goal, bool, error) {
	var g goal
	found := false
	scan := func(rows pgx.Rows) error {
		if rows.RawValues()[1] == nil { // g.id: no goal within reach
			return nil
		}
		found = true
		return rows.Scan(g.dests()...)
	}
	err := f.withPerson(ctx, p, func() (bool, error) {
		if p.client {
			known, err := f.query(ctx, st.getOwnGoal, actorArgs(p, id, p.appID, scope), scan)
			if err != nil || !known || found {
				return known, err
			}
		}
		return f.query(ctx, st.getGoal, actorArgs(p, id, newID(), p.appID, scope), scan)
	})
	return g, found, err
}

// settleMiss is the product's (domain/access_miss.go): after a request found
// nothing for the record id it named, stmt (a denied* statement) logs the
// attempt in that client's access log and tells whether only the client's
// revocation of the token's app hid it (403); otherwise the answer is notFound.
func (f *Floor) settleMiss(ctx context.Context, p *principal, stmt string, id uuid.UUID, notFound error) error {
	var exists, revoked bool
	if _, err := f.query(ctx, stmt, actorArgs(p, id, newID(), p.appID), func(rows pgx.Rows) error {
		return rows.Scan(&exists, &revoked)
	}); err != nil {
		return err
	}
	if revoked {
		return errStatus(http.StatusForbidden, "the client has revoked the access of this app ("+p.appID+
			") to their data; use another app, or the client can allow it again")
	}
	return notFound
}

// redisclosure sets the product's 42 CFR Part 2 notice when any of the
// goals is labelled sud.
func redisclosure(w http.ResponseWriter, goals ...goal) {
	for _, g := range goals {
		if g.Sensitivity != nil && *g.Sensitivity == domain.SensitivitySUD {
			w.Header().Set("Waypoint-Redisclosure", domain.RedisclosureNotice)
			return
		}
	}
}

type goalPage struct {
	Items      []goal `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// GET /v1/clients/{clientId}/goals: the product's ListGoals (limit and
// cursor; the floor takes no filters). One statement resolves the person,
// reads the page under the shared reach, tells an empty list from a client
// out of reach and, for anyone but the client, writes the access log.
func (f *Floor) listGoals(w http.ResponseWriter, r *http.Request) {
	p, st, ok := f.authorize(w, r, "goals:read", true)
	if !ok {
		return
	}
	clientID, err := uuid.Parse(r.PathValue("clientId"))
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "path.clientId must be a UUID")
		return
	}
	limit, after, err := pageParams(r)
	if err != nil {
		fail(w, err)
		return
	}
	args := actorArgs(p, clientID, after, limit+1, newID(), p.appID, "goals:read")
	page := goalPage{Items: []goal{}}
	var g0 goal // for the column count of a row without a goal
	visible := false
	err = f.withPerson(r.Context(), p, func() (bool, error) {
		return f.query(r.Context(), st.listGoals, args, func(rows pgx.Rows) error {
			if rows.RawValues()[2] == nil { // g.id: no goals
				return rows.Scan(append([]any{&visible}, make([]any, len(g0.dests()))...)...)
			}
			var g goal
			if err := rows.Scan(append([]any{&visible}, g.dests()...)...); err != nil {
				return err
			}
			g.finish()
			page.Items = append(page.Items, g)
			return nil
		})
	})
	if err != nil {
		fail(w, err)
		return
	}
	if !visible {
		fail(w, f.settleMiss(r.Context(), p, st.deniedGoals, clientID, errStatus(http.StatusNotFound, "client not found")))
		return
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1].ID
		page.NextCursor = base64.RawURLEncoding.EncodeToString(last[:])
	}
	redisclosure(w, page.Items...)
	writeJSON(w, http.StatusOK, "", &page)
}

// pageParams reads limit (1-100, default 20) and cursor as the product does.
func pageParams(r *http.Request) (limit int, after uuid.UUID, err error) {
	q := r.URL.Query()
	limit = 20
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 100 {
			return 0, uuid.Nil, errStatus(http.StatusUnprocessableEntity, "query.limit must be 1-100")
		}
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) != 16 {
			return 0, uuid.Nil, errStatus(http.StatusUnprocessableEntity, "query.cursor is not one this API returned")
		}
		after = uuid.UUID(b)
	}
	return limit, after, nil
}
