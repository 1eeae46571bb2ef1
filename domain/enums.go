package domain

// The closed code lists of Waypoint's own records, each declared once. The
// goal lifecycle statuses live with their table (goal_lifecycle.go), referral
// statuses with theirs (referrals.go), the directory's in package hsds.
// Rules() ties each list to the columns whose CHECK constraints enforce it
// and names it for the API schema; tests compare all three.

// GoalCategories lists the life areas a goal belongs to (FHIR Goal.category, Waypoint's own codes).
func GoalCategories() []string {
	return []string{"housing", "food", "health", "income", "education", "employment",
		"family", "legal", "safety", "wellbeing", "other"}
}

// GoalPriorities lists the goal priorities (FHIR Goal.priority).
func GoalPriorities() []string { return []string{"high", "medium", "low"} }

// GoalAchievementStatuses lists the achievement statuses (FHIR Goal.achievementStatus).
func GoalAchievementStatuses() []string {
	return []string{"in-progress", "improving", "worsening", "no-change", "achieved",
		"sustaining", "not-achieved", "no-progress", "not-attainable"}
}

// Trend values of a goal's self-ratings.
const (
	TrendImproving        = "improving"
	TrendWorsening        = "worsening"
	TrendSteady           = "steady"
	TrendInsufficientData = "insufficient_data"
)

// GoalTrends lists the trend values (computed, never stored).
func GoalTrends() []string {
	return []string{TrendImproving, TrendWorsening, TrendSteady, TrendInsufficientData}
}

// CheckInMoods lists the moods a check-in may carry, from hardest to best.
func CheckInMoods() []string { return []string{"struggling", "low", "okay", "good", "great"} }

// RoleOther is the capacity of anyone acting on a client's record who is
// neither the client, a worker, an administrator nor a provider.
const RoleOther = "other"

// ActorRoles lists the capacities recorded in goal and referral history
// (actorRoleFor decides which applies).
func ActorRoles() []string {
	return []string{RoleClient, RoleWorker, RoleAdmin, RoleProvider, RoleOther}
}

// CheckInAuthorRoles lists who writes check-ins: the client (a self-rating)
// or a care team member (an observation).
func CheckInAuthorRoles() []string { return []string{RoleClient, RoleWorker} }

// Conversation link kinds: what a conversation may be about.
const (
	LinkGoal     = "goal"
	LinkReferral = "referral"
)

// ConversationLinkKinds lists what a conversation may be linked to.
func ConversationLinkKinds() []string { return []string{LinkGoal, LinkReferral} }

// ParticipantRoles lists the roles of conversation participants: the client
// and the workers of their care team.
func ParticipantRoles() []string { return []string{RoleClient, RoleWorker} }

// ContactChannels lists the channels a client may prefer to be reached by.
func ContactChannels() []string { return []string{"app", "sms", "email", "phone", "mail"} }

// AccessActions lists what an access-log entry records.
func AccessActions() []string { return []string{ActionRead, ActionWrite, ActionExport, ActionDenied} }

// AppStatuses lists a client's decisions about an app.
func AppStatuses() []string { return []string{AppAllowed, AppRevoked} }

// idempotencyStates lists the states of a claimed Idempotency-Key.
func idempotencyStates() []string { return []string{"running", "done"} }

// Goal visibilities: shared with the care team (the default), or private,
// the client's alone.
const (
	VisibilityCareTeam = "care_team"
	VisibilityPrivate  = "private"
)

// GoalVisibilities lists who a goal may be shared with.
func GoalVisibilities() []string { return []string{VisibilityCareTeam, VisibilityPrivate} }

// SensitivitySUD labels substance use treatment records (42 CFR Part 2 in
// spirit): visible to the client and the care-team workers they consented to.
const SensitivitySUD = "sud"

// SensitivityLabels lists the sensitivity labels a goal or conversation may
// carry, each gated by a per-worker consent of the client.
func SensitivityLabels() []string { return []string{SensitivitySUD} }

// Where an unmet need was seen (table unmet_needs).
const (
	UnmetNeedSearch           = "search"
	UnmetNeedDeclinedReferral = "declined_referral"
	UnmetNeedBarrier          = "barrier"
)

// UnmetNeedSources lists where unmet needs come from: a search that found
// nothing, a declined referral, a barrier someone reported on a service.
func UnmetNeedSources() []string {
	return []string{UnmetNeedBarrier, UnmetNeedDeclinedReferral, UnmetNeedSearch}
}

// Feedback statuses: a barrier report waits in the directory editors' queue
// (open) until they deal with it (resolved).
const (
	FeedbackOpen     = "open"
	FeedbackResolved = "resolved"
)

// FeedbackKinds lists the barriers a client or worker may report on a service.
func FeedbackKinds() []string {
	return []string{"closed_when_listed_open", "wrong_information", "language", "cost", "transport", "eligibility",
		"discrimination", "other"}
}

// FeedbackStatuses lists the states of a barrier report.
func FeedbackStatuses() []string { return []string{FeedbackOpen, FeedbackResolved} }

// FeedbackReporterRoles lists who reports barriers: clients and workers.
func FeedbackReporterRoles() []string { return []string{RoleClient, RoleWorker} }
