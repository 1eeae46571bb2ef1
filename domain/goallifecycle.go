package domain

import (
	"slices"
	"strings"
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

// GoalTransitions is the lifecycle table: the statuses a goal in status from
// may move to. A status never "moves" to itself (that is no change).
// entered-in-error is terminal: a goal recorded by mistake stays as it was.
func GoalTransitions(from string) []string {
	switch from {
	case GoalProposed:
		return []string{GoalAccepted, GoalActive, GoalRejected, GoalCancelled, GoalEnteredInError}
	case GoalPlanned:
		return []string{GoalAccepted, GoalActive, GoalOnHold, GoalCancelled, GoalEnteredInError}
	case GoalAccepted:
		return []string{GoalActive, GoalOnHold, GoalCompleted, GoalCancelled, GoalEnteredInError}
	case GoalActive:
		return []string{GoalOnHold, GoalCompleted, GoalCancelled, GoalEnteredInError}
	case GoalOnHold:
		return []string{GoalActive, GoalCompleted, GoalCancelled, GoalEnteredInError}
	case GoalCompleted:
		return []string{GoalActive, GoalEnteredInError}
	case GoalCancelled:
		return []string{GoalActive, GoalPlanned, GoalEnteredInError}
	case GoalRejected:
		return []string{GoalEnteredInError}
	}
	return nil
}

// GoalTransitionAllowed reports whether the table allows from -> to.
func GoalTransitionAllowed(from, to string) bool {
	return slices.Contains(GoalTransitions(from), to)
}

// GoalTransitionClientOnly reports whether only the client may make the move:
// accepting a proposal (proposed -> accepted/active), rejecting, and marking a
// goal entered-in-error. Self-determination: a worker proposes, the client decides.
func GoalTransitionClientOnly(from, to string) bool {
	switch {
	case to == GoalRejected, to == GoalEnteredInError:
		return true
	case from == GoalProposed && (to == GoalAccepted || to == GoalActive):
		return true
	}
	return false
}

// CheckGoalTransition decides whether an actor may move a goal from -> to:
// nil when allowed, 409 naming both states when the table forbids it, 403
// when only the client may make the move and byClient is false.
func CheckGoalTransition(from, to string, byClient bool) error {
	if !GoalTransitionAllowed(from, to) {
		return goalTransitionConflict(from, to)
	}
	if !byClient && GoalTransitionClientOnly(from, to) {
		return goalTransitionForbidden(from, to)
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
	return &Error{Kind: KindConflict, Field: "body.lifecycle_status", Message: msg}
}

func goalTransitionForbidden(from, to string) *Error {
	return &Error{Kind: KindForbidden, Field: "body.lifecycle_status",
		Message: "only the client can move their goal from " + from + " to " + to}
}

// goalSources lists the statuses from which the actor may move a goal to to.
func goalSources(to string, byClient bool) []string {
	var out []string
	for _, from := range GoalLifecycleStatuses() {
		if CheckGoalTransition(from, to, byClient) == nil {
			out = append(out, from)
		}
	}
	return out
}
