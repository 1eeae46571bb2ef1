package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// A request that names a record the actor may not see gets 404, exactly as
// for an id that does not exist. Whose the record is, and whether it exists
// at all, is settled afterwards, in one place (settleMiss), for two of the
// client's guarantees: an attempt on an existing record of theirs is written
// to their access log as denied (even though the request's own transaction
// rolled back), and an app the client revoked gets 403 saying so (for a
// record it could see but for the revocation; anyone else still gets 404).

// target is a record a request named: its kind, id and who may see it.
type target struct {
	what     string // for the 404 message: "goal", "client", ...
	resource string // what the denied entry names (AccessResources)
	id       uuid.UUID
	// list: the request was after a list of the client's records, so the
	// denied entry names no one record.
	list bool
	// lookup selects the record's client_id and whether the actor sees it.
	lookup func(a Actor, id uuid.UUID) clause.Expr
}

// miss is a NotFound for a named record, to be settled after the request's
// transaction.
type miss struct {
	actor  Actor
	target target
}

// missing is the NotFound for target t the actor could not reach; settleMiss
// (run by Store.tx, or by the caller outside one) logs and explains it.
func missing(a Actor, t target) *Error {
	e := NotFound(t.what)
	e.miss = &miss{actor: a, target: t}
	return e
}

// clientTarget is a client record reached with reach; resource is what the
// request was after (the client record itself, their goals, their log...).
func clientTarget(id uuid.UUID, reach Reach, resource string) target {
	return target{what: "client", resource: resource, id: id, list: resource != ResourceClient, lookup: func(a Actor, id uuid.UUID) clause.Expr {
		return clause.Expr{SQL: `SELECT c.id AS client_id, ? AS visible FROM clients c WHERE c.id = ?`,
			Vars: []any{a.ClientScope("c.id", reach), id}}
	}}
}

func goalTarget(id uuid.UUID) target {
	return target{what: "goal", resource: ResourceGoal, id: id, lookup: func(a Actor, id uuid.UUID) clause.Expr {
		return clause.Expr{SQL: `SELECT g.client_id, ? AS visible FROM goals g WHERE g.id = ?`,
			Vars: []any{a.GoalScope("g", ReachGoalsShared), id}}
	}}
}

func referralTarget(id uuid.UUID) target {
	return target{what: "referral", resource: ResourceReferral, id: id, lookup: func(a Actor, id uuid.UUID) clause.Expr {
		return clause.Expr{SQL: `SELECT r.client_id, (? OR ?) AS visible FROM referrals r WHERE r.id = ?`,
			Vars: []any{a.ClientScope("r.client_id", ReachReferralsShared), a.ProviderScope("r"), id}}
	}}
}

func conversationTarget(id uuid.UUID) target {
	return target{what: "conversation", resource: ResourceConversation, id: id, lookup: func(a Actor, id uuid.UUID) clause.Expr {
		return clause.Expr{SQL: `SELECT c.client_id, ? AS visible FROM conversations c WHERE c.id = ?`,
			Vars: []any{conversationVisible(a), id}}
	}}
}

// revokedApp is the answer to an app the client revoked.
func revokedApp(appID string) *Error {
	return Forbidden("the client has revoked the access of this app (%s) to their data; use another app, "+
		"or the client can allow it again", appID)
}

// settleMiss turns a NotFound for a named record into what the request
// gets, after its transaction: a record that does not exist changes
// nothing; an existing record of another client is logged in that client's
// access log as denied (exactly once: a miss is settled once); a record the
// actor would see but for the client's revocation of their app is 403.
// Any other error passes through.
func (s *Store) settleMiss(ctx context.Context, err error) error {
	var de *Error
	if !errors.As(err, &de) || de.miss == nil {
		return err
	}
	m := de.miss
	de.miss = nil
	// The attempt is logged even if the caller hung up at once.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var rows []struct {
		ClientID uuid.UUID
		Visible  bool
		Revoked  bool
	}
	// Whether the client revoked the actor's app is read with the record.
	revoked := clause.Expr{SQL: "FALSE"}
	if m.actor.AppID != "" {
		revoked = clause.Expr{SQL: "NOT ?", Vars: []any{m.actor.appAllowedBy(column("t.client_id"))}}
	}
	if e := s.db.WithContext(ctx).Raw("SELECT t.client_id, t.visible, ? AS revoked FROM (?) t", revoked,
		m.target.lookup(m.actor.withoutRevocations(), m.target.id)).Scan(&rows).Error; e != nil {
		return fmt.Errorf("look up %s %s: %w", m.target.what, m.target.id, e)
	}
	if len(rows) == 0 {
		return err
	}
	owner, out := rows[0].ClientID, error(err)
	switch {
	case rows[0].Visible && rows[0].Revoked:
		out = revokedApp(m.actor.AppID)
	case rows[0].Visible:
		// They may see it (a role-less supporter refused a write before any
		// handler ran): the refusal was of the action, not the record.
		return out
	}
	if m.actor.IsClient(owner) {
		return out
	}
	rid := m.target.id.String()
	if m.target.list {
		rid = ""
	}
	if e := writeAccess(s.db.WithContext(ctx), m.actor, ActionDenied, m.target.resource,
		[]accessRow{{client: owner, resourceID: rid}}); e != nil {
		return e
	}
	return out
}

// LogDenied records a denied attempt on a record named by kind (a client,
// goal, referral or conversation) and id, by an actor refused before any
// query ran (a person who holds no Waypoint role): the client sees it as
// any other denied attempt. Nothing is written for a record that does not
// exist or is the actor's own, or for another kind.
func (s *Store) LogDenied(ctx context.Context, a Actor, kind string, id uuid.UUID) error {
	targets := map[string]func(uuid.UUID) target{
		ResourceClient:       func(id uuid.UUID) target { return clientTarget(id, ReachRecord, ResourceClient) },
		ResourceGoal:         goalTarget,
		ResourceReferral:     referralTarget,
		ResourceConversation: conversationTarget,
		ResourceAssessment:   assessmentTarget,
	}
	t, ok := targets[kind]
	if !ok {
		return nil
	}
	err := s.settleMiss(ctx, missing(a, t(id)))
	if de := AsError(err); de != nil && (de.Kind == KindNotFound || de.Kind == KindForbidden) {
		return nil // settled: the request's answer is the caller's
	}
	return err
}
