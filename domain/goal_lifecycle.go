package domain

import (
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// Goal lifecycle statuses (FHIR R4 Goal.lifecycleStatus).
const (
	GoalProposed       = "proposed"
	GoalPlanned        = "planned"
	GoalAccepted       = "accepted"
	GoalActive         = "active"
	GoalOnHold         = "on-hold"
	GoalCompleted      = "completed"
	GoalCancelled      = "cancelled"
	GoalEnteredInError = "entered-in-error"
	GoalRejected       = "rejected"
)

// GoalLifecycleStatuses lists every lifecycle status in table order.
func GoalLifecycleStatuses() []string {
	return []string{GoalProposed, GoalPlanned, GoalAccepted, GoalActive, GoalOnHold,
		GoalCompleted, GoalCancelled, GoalEnteredInError, GoalRejected}
}

// GoalStartStatuses lists the statuses a new goal may be created in: the
// client's own starts active or planned, a care team member's is proposed
// (goalStartStatus decides which applies to whom).
func GoalStartStatuses() []string { return []string{GoalProposed, GoalPlanned, GoalActive} }

// GoalAcceptStatuses lists what a client's acceptance makes of a proposal:
// active (start now) or accepted (agreed, not started yet).
func GoalAcceptStatuses() []string { return []string{GoalActive, GoalAccepted} }

// GoalMover is who moves a goal, as seen from that goal.
type GoalMover int

// The movers the lifecycle table knows. Anyone else cannot see the goal.
const (
	// MoverClient is the client whose goal it is.
	MoverClient GoalMover = iota + 1
	// MoverProposer is the care team member who proposed (created) the goal.
	MoverProposer
	// MoverWorker is any other member of the client's care team.
	MoverWorker
)

// GoalMovers lists every mover.
func GoalMovers() []GoalMover { return []GoalMover{MoverClient, MoverProposer, MoverWorker} }

func (m GoalMover) String() string {
	switch m {
	case MoverClient:
		return "the client"
	case MoverProposer:
		return "the care team member who proposed it"
	case MoverWorker:
		return "a care team member"
	}
	return "unknown"
}

// goalMoverOf says in which capacity actor a acts on a goal of clientID
// created by createdBy. goalMoverCase is the same decision inside SQL.
func goalMoverOf(a Actor, clientID, createdBy uuid.UUID) GoalMover {
	switch {
	case a.IsClient(clientID):
		return MoverClient
	case createdBy == a.PersonID:
		return MoverProposer
	}
	return MoverWorker
}

// goalMove is one row of the lifecycle table: a move and who may make it.
type goalMove struct {
	from, to string
	by       []GoalMover
}

// goalMoves is the lifecycle table (DESIGN.md, "Goal ownership"), the one
// place that decides who may move a goal where. A client's goal is theirs:
// every move is the client's, except that the care team member who proposed
// a goal may withdraw (cancel) it while it is still proposed. Workers co-edit
// content, never the lifecycle. A status never "moves" to itself; and
// entered-in-error is final.
func goalMoves() []goalMove {
	c := []GoalMover{MoverClient}
	return []goalMove{
		{GoalProposed, GoalAccepted, c}, {GoalProposed, GoalActive, c}, {GoalProposed, GoalRejected, c},
		{GoalProposed, GoalCancelled, []GoalMover{MoverClient, MoverProposer}}, {GoalProposed, GoalEnteredInError, c},
		{GoalPlanned, GoalAccepted, c}, {GoalPlanned, GoalActive, c}, {GoalPlanned, GoalOnHold, c},
		{GoalPlanned, GoalCancelled, c}, {GoalPlanned, GoalEnteredInError, c},
		{GoalAccepted, GoalActive, c}, {GoalAccepted, GoalOnHold, c}, {GoalAccepted, GoalCompleted, c},
		{GoalAccepted, GoalCancelled, c}, {GoalAccepted, GoalEnteredInError, c},
		{GoalActive, GoalOnHold, c}, {GoalActive, GoalCompleted, c}, {GoalActive, GoalCancelled, c},
		{GoalActive, GoalEnteredInError, c},
		{GoalOnHold, GoalActive, c}, {GoalOnHold, GoalCompleted, c}, {GoalOnHold, GoalCancelled, c},
		{GoalOnHold, GoalEnteredInError, c},
		{GoalCompleted, GoalActive, c}, {GoalCompleted, GoalEnteredInError, c},
		{GoalCancelled, GoalActive, c}, {GoalCancelled, GoalPlanned, c}, {GoalCancelled, GoalEnteredInError, c},
		{GoalRejected, GoalEnteredInError, c},
	}
}

func findGoalMove(from, to string) (goalMove, bool) {
	for _, m := range goalMoves() {
		if m.from == from && m.to == to {
			return m, true
		}
	}
	return goalMove{}, false
}

// GoalTransitions lists the statuses a goal in status from may move to (by
// anyone), in table order.
func GoalTransitions(from string) []string {
	var out []string
	for _, m := range goalMoves() {
		if m.from == from {
			out = append(out, m.to)
		}
	}
	return out
}

// GoalTransitionAllowed reports whether the table has the move from -> to.
func GoalTransitionAllowed(from, to string) bool {
	_, ok := findGoalMove(from, to)
	return ok
}

// GoalMoveAllowed reports whether mover m may move a goal from -> to.
func GoalMoveAllowed(from, to string, m GoalMover) bool {
	mv, ok := findGoalMove(from, to)
	return ok && slices.Contains(mv.by, m)
}

// CheckGoalTransition decides whether mover m may move a goal from -> to:
// nil when allowed; 409 naming both states when nobody may (the table has
// no such move); 403 naming who may when the move is someone else's.
func CheckGoalTransition(from, to string, m GoalMover) error {
	mv, ok := findGoalMove(from, to)
	switch {
	case !ok:
		return goalTransitionConflict(from, to)
	case !slices.Contains(mv.by, m):
		return goalTransitionForbidden(mv)
	}
	return nil
}

func goalTransitionConflict(from, to string) *Error {
	next := GoalTransitions(from)
	msg := "a goal that is " + from + " cannot become " + to
	if len(next) == 0 {
		msg += "; " + from + " is final"
	} else {
		msg += "; from " + from + " it can become " + strings.Join(next, ", ")
	}
	return &Error{Kind: KindConflict, Source: SourceContent, Field: "lifecycle_status", Message: msg}
}

func goalTransitionForbidden(mv goalMove) *Error {
	who := make([]string, len(mv.by))
	for i, m := range mv.by {
		who[i] = m.String()
	}
	return &Error{Kind: KindForbidden, Source: SourceContent, Field: "lifecycle_status",
		Message: "only " + strings.Join(who, " or ") + " can move this goal from " + mv.from + " to " + mv.to +
			"; the client decides about their own goals"}
}

// goalSources lists the statuses from which mover m may move a goal to to.
func goalSources(to string, m GoalMover) []string {
	out := []string{}
	for _, mv := range goalMoves() {
		if mv.to == to && slices.Contains(mv.by, m) {
			out = append(out, mv.from)
		}
	}
	return out
}

// sources lists the statuses mover m may make the change c from: the
// lifecycle table, or for accept and reject only proposed, if m may.
func (c goalChange) sources(m GoalMover) []string {
	if !c.fromProposed {
		return goalSources(c.to, m)
	}
	if GoalMoveAllowed(GoalProposed, c.to, m) {
		return []string{GoalProposed}
	}
	return []string{}
}

// goalStartStatus is the status a new goal starts in. The client's own goal
// starts active (the default) or planned; a care team member's goal is a
// proposal for the client to accept or reject, and nothing else.
func goalStartStatus(m GoalMover, requested string) (string, error) {
	switch {
	case m == MoverClient && requested == "":
		return GoalActive, nil
	case m == MoverClient && requested != GoalActive && requested != GoalPlanned:
		return "", Invalid("lifecycle_status", "your own goal starts as active or planned")
	case m == MoverClient:
		return requested, nil
	case requested == "" || requested == GoalProposed:
		return GoalProposed, nil
	}
	return "", &Error{Kind: KindForbidden, Source: SourceContent, Field: "lifecycle_status",
		Message: "a care team member's goal starts as a proposal; only the client can make it " + requested}
}

// goalMoverCase is goalMoverOf inside SQL for the goal row aliased g: it
// picks forClient, forProposer or forWorker (bound as "?" arguments).
func goalMoverCase(a Actor, forClient, forProposer, forWorker any) clause.Expr {
	return clause.Expr{SQL: `CASE WHEN g.client_id = ? THEN ? WHEN g.created_by = ? THEN ? ELSE ? END`,
		Vars: []any{a.ClientID, forClient, a.PersonID, forProposer, forWorker}}
}
