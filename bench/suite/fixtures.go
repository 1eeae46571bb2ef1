package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// fixtures are the people, tokens and records the scenarios use. Reads use
// one goal and one token for both targets; writers get one record each per
// connection, so no two connections contend for the same row.
type fixtures struct {
	clientTok, workerTok, dirTok string
	readClient, readGoal         uuid.UUID
	// The read client's private goal and its goal labelled sud (no worker
	// has consent): the same-work check's authorization cases.
	privateGoal, sudGoal uuid.UUID
	// supporterTok is a person without a Waypoint role whom the read
	// client shares goals with.
	supporterTok string
	patch        []patchTarget // one per connection
	postConvs    []uuid.UUID   // the read client's, one per connection
	sseConvs     []uuid.UUID   // the SSE client's, one per connection
	sseTokens    []string      // the SSE client first, then its workers
	points       []point
}

type patchTarget struct {
	goal    uuid.UUID
	token   string
	version int64
}

// point is a place people search from.
type point struct{ lat, lon float64 }

func (e *env) fixtures(ctx context.Context, c config) (*fixtures, error) {
	f := &fixtures{}
	var err error
	if f.workerTok, err = e.mint("bench-worker", "worker"); err != nil {
		return nil, err
	}
	var read struct {
		ClientID uuid.UUID
		Subject  string
		GoalID   uuid.UUID
	}
	// The read client is the first on the bench worker's caseload.
	err = e.db.WithContext(ctx).Raw(`SELECT c.id AS client_id, p.subject,
			(SELECT g.id FROM goals g WHERE g.client_id = c.id ORDER BY g.id LIMIT 1) AS goal_id
		FROM clients c JOIN people p ON p.id = c.person_id
		JOIN care_team_members m ON m.client_id = c.id JOIN people w ON w.id = m.person_id AND w.issuer = ? AND w.subject = 'bench-worker'
		WHERE p.issuer = ? AND p.subject LIKE 'bench-client-%' ORDER BY c.id LIMIT 1`, issuerURL, issuerURL).Scan(&read).Error
	if err != nil {
		return nil, err
	}
	if read.GoalID == uuid.Nil {
		return nil, errors.New("no seeded goal on the bench worker's caseload")
	}
	f.readClient, f.readGoal = read.ClientID, read.GoalID
	if err := e.labelGoals(ctx, f); err != nil {
		return nil, err
	}
	if err := e.supporter(ctx, f); err != nil {
		return nil, err
	}
	if f.clientTok, err = e.mint(read.Subject, "client"); err != nil {
		return nil, err
	}
	if f.dirTok, err = e.mint("bench-searcher", "client"); err != nil {
		return nil, err
	}
	if err := e.patchTargets(ctx, f, c.conns); err != nil {
		return nil, err
	}
	if f.postConvs, err = e.conversations(ctx, f.readClient, f.clientTok, "bench post", c.conns); err != nil {
		return nil, err
	}
	if err := e.sseFixtures(ctx, f, c); err != nil {
		return nil, err
	}
	f.points, err = e.searchPoints(ctx)
	return f, err
}

// labelGoals makes the read client's last goal sud-labelled and the one
// before private (idempotent; the reads use the first goal).
func (e *env) labelGoals(ctx context.Context, f *fixtures) error {
	var ids []uuid.UUID
	if err := e.db.WithContext(ctx).Raw(`SELECT id FROM goals WHERE client_id = ? ORDER BY id DESC LIMIT 2`, f.readClient).Scan(&ids).Error; err != nil {
		return err
	}
	if len(ids) < 2 || ids[1] == f.readGoal {
		return errors.New("the read client needs at least three goals")
	}
	f.sudGoal, f.privateGoal = ids[0], ids[1]
	return e.db.WithContext(ctx).Exec(`UPDATE goals SET sensitivity = CASE WHEN id = ? THEN 'sud' END,
			visibility = CASE WHEN id = ? THEN 'private' ELSE 'care_team' END
		WHERE id IN (?, ?)`, f.sudGoal, f.privateGoal, f.sudGoal, f.privateGoal).Error
}

// supporter provisions a person with no role through the API and grants
// them the read client's goals (the grant row directly: the invitation
// flow is not what is measured).
func (e *env) supporter(ctx context.Context, f *fixtures) error {
	var err error
	if f.supporterTok, err = e.mint("bench-supporter"); err != nil {
		return err
	}
	var me struct{ ID uuid.UUID }
	if err := call(ctx, http.MethodGet, e.product+"/v1/me", f.supporterTok, nil, &me, http.StatusOK); err != nil {
		return err
	}
	return e.db.WithContext(ctx).Exec(`INSERT INTO supporters (client_id, person_id, id, shares, invitation_id)
		VALUES (?, ?, gen_random_uuid(), '{goals}', gen_random_uuid())
		ON CONFLICT (client_id, person_id) DO UPDATE SET shares = '{goals}', access_expires_at = NULL`, f.readClient, me.ID).Error
}

// patchTargets gives each connection the first goal of its own client
// (other than the read client), with that client's token.
func (e *env) patchTargets(ctx context.Context, f *fixtures, n int) error {
	var rows []struct {
		Subject string
		GoalID  uuid.UUID
		Version int64
	}
	err := e.db.WithContext(ctx).Raw(`SELECT DISTINCT ON (c.id) p.subject, g.id AS goal_id, g.version
		FROM clients c JOIN people p ON p.id = c.person_id JOIN goals g ON g.client_id = c.id
		WHERE p.issuer = ? AND p.subject LIKE 'bench-client-%' AND c.id <> ?
		ORDER BY c.id, g.id LIMIT ?`, issuerURL, f.readClient, n).Scan(&rows).Error
	if err != nil {
		return err
	}
	if len(rows) < n {
		return fmt.Errorf("need %d clients to patch, have %d", n, len(rows))
	}
	for _, r := range rows {
		tok, err := e.mint(r.Subject, "client")
		if err != nil {
			return err
		}
		f.patch = append(f.patch, patchTarget{goal: r.GoalID, token: tok, version: r.Version})
	}
	return nil
}

// sseFixtures provisions a client and c.sseWorkers workers on its care team
// through the API, and one conversation (with all of them) per connection.
func (e *env) sseFixtures(ctx context.Context, f *fixtures, c config) error {
	admin, err := e.mint("bench-admin", "admin")
	if err != nil {
		return err
	}
	clientTok, err := e.mint("bench-sse-client", "client")
	if err != nil {
		return err
	}
	var me struct {
		ClientID uuid.UUID `json:"client_id"`
	}
	if err := call(ctx, http.MethodGet, e.product+"/v1/me", clientTok, nil, &me, http.StatusOK); err != nil {
		return err
	}
	f.sseTokens = []string{clientTok}
	for i := range c.sseWorkers {
		tok, err := e.mint(fmt.Sprintf("bench-sse-worker-%d", i), "worker")
		if err != nil {
			return err
		}
		var w struct{ ID uuid.UUID }
		if err := call(ctx, http.MethodGet, e.product+"/v1/me", tok, nil, &w, http.StatusOK); err != nil {
			return err
		}
		url := fmt.Sprintf("%s/v1/clients/%s/care-team/%s", e.product, me.ClientID, w.ID)
		if err := call(ctx, http.MethodPut, url, admin, map[string]string{"team_role": "bench"}, nil, http.StatusOK, http.StatusCreated); err != nil {
			return err
		}
		f.sseTokens = append(f.sseTokens, tok)
	}
	f.sseConvs, err = e.conversations(ctx, me.ClientID, clientTok, fmt.Sprintf("bench sse (%d workers)", c.sseWorkers), c.conns)
	return err
}

// searchPoints are places to search from: directory locations in a fixed
// pseudo-random order, so busy cities get more searches.
func (e *env) searchPoints(ctx context.Context) ([]point, error) {
	var rows []struct{ Latitude, Longitude float64 }
	err := e.db.WithContext(ctx).Raw(`SELECT latitude, longitude FROM locations WHERE latitude IS NOT NULL
		ORDER BY md5(id::text) LIMIT 5000`).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("the directory has no located services")
	}
	pts := make([]point, len(rows))
	for i, r := range rows {
		pts[i] = point{r.Latitude, r.Longitude}
	}
	return pts, nil
}
