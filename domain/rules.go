package domain

import "github.com/waypoint-portal/waypoint/domain/hsds"

// Rule names one declared constraint on values Waypoint accepts or stores,
// so that the three places that enforce it use one declaration: the domain
// checks (which use the lists and constants directly), the API schema (whose
// fields name a rule in a `rule:"..."` struct tag, filled in by package api)
// and the migrations' CHECK constraints (listed in Columns, compared by a
// test against pg_constraint).
type Rule struct {
	// Name is what API schemas put in their rule tag, e.g. "goal.category".
	Name string
	// Enum lists the allowed codes, in order; nil when the rule is not a list of codes.
	Enum []string
	// MinLen and MaxLen bound a text's length in characters; MaxLen 0: no length rule.
	MinLen, MaxLen int
	// Min and Max bound a number; nil: unbounded on that side.
	Min, Max *int64
	// MaxItems bounds a list (0: unbounded); the other bounds then apply to each item.
	MaxItems int
	// Columns are the "table.column"s whose CHECK constraints enforce the rule.
	Columns []string
}

// Rules lists every rule. Adding a code to a list or changing a limit is an
// edit to its declaration, plus a migration where Columns name a column.
func Rules() []Rule {
	var out []Rule
	for _, part := range [][]Rule{goalRules(), recordRules(), profileRules(), directoryRules(), assessmentRules(), groupRules(), insightRules()} {
		out = append(out, part...)
	}
	return out
}

// RuleByName finds a rule by its name.
func RuleByName(name string) (Rule, bool) {
	for _, r := range Rules() {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

func enumRule(name string, values []string, cols ...string) Rule {
	return Rule{Name: name, Enum: values, Columns: cols}
}

func textRule(name string, minLen, maxLen int, cols ...string) Rule {
	return Rule{Name: name, MinLen: minLen, MaxLen: maxLen, Columns: cols}
}

func listRule(name string, maxItems int) Rule { return Rule{Name: name, MaxItems: maxItems} }

func rangeRule(name string, lo, hi int64, cols ...string) Rule {
	return Rule{Name: name, Min: &lo, Max: &hi, Columns: cols}
}

func goalRules() []Rule {
	strengths := listRule("goal.strengths_used", MaxGoalStrengths)
	strengths.MaxLen = MaxStrengthLen
	return []Rule{
		textRule("goal.title", 1, MaxGoalTitle, "goals.title"),
		textRule("goal.description", 0, MaxGoalDescription, "goals.description"),
		textRule("goal.why_it_matters", 0, MaxGoalWhy, "goals.why_it_matters"),
		textRule("goal.status_reason", 0, MaxGoalStatusReason, "goals.status_reason"),
		strengths,
		listRule("goal.steps", MaxGoalSteps),
		enumRule("goal.category", GoalCategories(), "goals.category"),
		enumRule("goal.priority", GoalPriorities(), "goals.priority"),
		enumRule("goal.lifecycle_status", GoalLifecycleStatuses(), "goals.lifecycle_status"),
		enumRule("goal.start_status", GoalStartStatuses()),
		enumRule("goal.accept_status", GoalAcceptStatuses()),
		enumRule("goal.achievement_status", GoalAchievementStatuses(), "goals.achievement_status"),
		enumRule("goal.trend", GoalTrends()),
		enumRule("goal.visibility", GoalVisibilities(), "goals.visibility"),
		textRule("goal.check_in_every", MinCheckInEvery, MaxCheckInEvery, "goals.check_in_every"),
		textRule("goal_step.title", 1, MaxStepTitle, "goal_steps.title"),
		// A goal's steps are numbered 1..n without gaps, and n <= MaxGoalSteps.
		rangeRule("goal_step.position", 1, MaxGoalSteps),
		rangeRule("check_in.rating", MinCheckInRating, MaxCheckInRating, "goal_check_ins.rating"),
		textRule("check_in.note", 0, MaxCheckInNote, "goal_check_ins.note"),
		enumRule("check_in.mood", CheckInMoods(), "goal_check_ins.mood"),
		enumRule("check_in.author_role", CheckInAuthorRoles(), "goal_check_ins.author_role"),
		textRule("goal_history.field", 1, maxHistoryField, "goal_history.field"),
	}
}

// recordRules covers referrals, conversations, history and bookkeeping.
func recordRules() []Rule {
	return []Rule{
		enumRule("actor_role", ActorRoles(), "goal_history.actor_role", "referral_status_history.actor_role"),
		enumRule("referral.status", ReferralStatuses(), "referrals.status"),
		listRule("referral.status_history", MaxReferralStatusChanges()),
		textRule("referral.note", 0, MaxReferralNote, "referrals.note"),
		providerSharesRule(),
		enumRule("referral.decline_reason", DeclineReasons(), "referrals.decline_reason"),
		enumRule("unmet_need.source", UnmetNeedSources(), "unmet_needs.source"),
		enumRule("feedback.kind", FeedbackKinds(), "service_feedback.kind"),
		enumRule("feedback.status", FeedbackStatuses(), "service_feedback.status"),
		enumRule("feedback.reporter_role", FeedbackReporterRoles(), "service_feedback.reporter_role"),
		textRule("feedback.text", 0, MaxFeedbackText, "service_feedback.text"),
		textRule("feedback.resolution_note", 0, MaxResolutionNote, "service_feedback.resolution_note"),
		textRule("conversation.subject", 0, MaxConversationSubject, "conversations.subject"),
		enumRule("conversation.link_kind", ConversationLinkKinds(), "conversations.link_kind"),
		listRule("conversation.worker_ids", MaxConversationWorkers),
		listRule("conversation.participants", MaxConversationParticipants),
		// Who read a message: the participants but its sender.
		listRule("message.read_by", MaxConversationParticipants-1),
		enumRule("conversation.participant_role", ParticipantRoles(), "conversation_participants.role"),
		textRule("message.body", 1, MaxMessageLength, "messages.body"),
		enumRule("access_log.action", AccessActions(), "access_log.action"),
		enumRule("access_log.resource", AccessResources()),
		enumRule("access_log.relationship", AccessRelationships(), "access_log.relationship"),
		textRule("access_log.resource_id", 0, MaxResourceID),
		textRule("access_log.label", 0, MaxAccessLabel),
		textRule("request_id", 0, MaxRequestID),
		textRule("app.id", 1, MaxAppID),
		enumRule("app.status", AppStatuses()),
		enumRule("sensitivity", SensitivityLabels(), "goals.sensitivity", "goal_history.sensitivity", "conversations.sensitivity", "sensitivity_consents.label",
			"assessment_ratings.sensitivity"),
		enumRule("idempotency.state", idempotencyStates(), "idempotency_keys.state"),
		rangeRule("page.size", 1, MaxPageSize),
		listRule("page.items", MaxPageSize),
		rangeRule("page.length", 0, MaxPageSize),
		rangeRule("page.number", 1, MaxListPage),
		textRule("page.cursor", 0, MaxCursorLen),
		// Versions, counts and event positions (see MaxSafeInteger).
		rangeRule("version", 1, MaxSafeInteger),
		rangeRule("count", 0, MaxSafeInteger),
		rangeRule("event.seq", 1, MaxSafeInteger),
		// A position in the event log: 0 is before the first event.
		rangeRule("event.position", 0, MaxSafeInteger),
		supporterShares(),
		enumRule("supporter.status", SupporterStatuses()),
		textRule("supporter.code", 1, MaxInvitationCodeInput),
		// The live stream's event types, as the API groups them by the shape of their data.
		enumRule("event.message_created", []string{EventMessageCreated}),
		enumRule("event.message_read", []string{EventMessageRead}),
		enumRule("event.conversation_created", []string{EventConversationCreated}),
		enumRule("event.record_changed", []string{EventGoalUpdated, EventGoalProposed, EventReferralUpdated}),
		enumRule("event.record_hidden", []string{EventGoalHidden, EventConversationHidden}),
		enumRule("event.agenda_due", []string{EventAgendaDue}),
		enumRule("agenda.kind", AgendaKinds(), "reminders.kind"),
		enumRule("agenda.ref_type", AgendaRefTypes()),
		textRule("push.endpoint", MinPushEndpoint, MaxPushEndpoint, "push_subscriptions.endpoint"),
		textRule("push.key", 1, MaxPushKey),
	}
}

// supporterShares is a set of shares: each one known, each at most once.
// (The columns' CHECK, an array containment, is not a rule's kind.)
func supporterShares() Rule {
	r := enumRule("supporter.shares", SupporterShares())
	r.MaxItems = len(SupporterShares())
	return r
}

// providerSharesRule is a set of provider shares: each one known, each at most
// once. (The column's CHECK, an array containment, is not a rule's kind.)
func providerSharesRule() Rule {
	r := enumRule("referral.shared_with_provider", ProviderShares())
	r.MaxItems = len(ProviderShares())
	return r
}

func profileRules() []Rule {
	channels := enumRule("client.contact_channels", ContactChannels())
	channels.MaxItems = MaxContactChannels
	roles := enumRule("person.roles", KnownRoles())
	roles.MaxItems = len(KnownRoles())
	profileList := listRule("client.profile_list", MaxProfileListItems)
	profileList.MaxLen = MaxProfileItem
	return []Rule{
		enumRule("person.role", KnownRoles()),
		roles,
		textRule("person.display_name", 1, MaxDisplayName),
		// A name as shown: empty when the identity provider gave none.
		textRule("person.name", 0, MaxDisplayName),
		textRule("person.pronouns", 0, MaxPronouns),
		listRule("person.supporting", MaxSupportedClients),
		profileList,
		textRule("language_tag", 0, MaxLanguageTag),
		channels,
		textRule("client.phone", 0, MaxPhone),
		textRule("email", 0, MaxEmail),
		textRule("client.best_times", 0, MaxBestTimes),
		textRule("client.time_zone", 1, MaxTimeZone),
		textRule("client.clock", 5, 5),
		textRule("care_team.team_role", 0, MaxTeamRole),
		listRule("care_team.members", MaxCareTeam),
		listRule("consent.items", MaxConsents),
	}
}

func directoryRules() []Rule {
	rules := []Rule{
		enumRule("hsds.service_status", hsds.ServiceStatuses(), "services.status"),
		enumRule("hsds.location_type", hsds.LocationTypes(), "locations.location_type"),
		enumRule("hsds.address_type", hsds.AddressTypes()),
		// The columns also allow '' (HSDS: not given).
		enumRule("hsds.wkst", hsds.Weekdays(), "schedules.wkst"),
		enumRule("hsds.freq", hsds.Frequencies(), "schedules.freq"),
		rangeRule("hsds.utc_offset", hsds.MinUTCOffset, hsds.MaxUTCOffset, "schedules.timezone"),
	}
	// The lengths and counts are package hsds's, which holds imports to them too.
	for _, l := range hsds.Limits() {
		rules = append(rules, Rule{Name: l.Name, MinLen: l.MinLen, MaxLen: l.MaxLen, MaxItems: l.MaxItems})
	}
	return rules
}

// assessmentRules covers self-assessments, their summary and suggestions.
func assessmentRules() []Rule {
	return []Rule{
		enumRule("assessment.domain", AssessmentDomains(), "assessment_ratings.domain"),
		rangeRule("assessment.rating", MinAssessmentRating, MaxAssessmentRating, "assessment_ratings.rating"),
		textRule("assessment.strengths", 0, MaxAssessmentStrengths, "assessment_ratings.strengths"),
		enumRule("assessment.status", AssessmentStatuses(), "assessments.status"),
		listRule("assessment.ratings", len(AssessmentDomains())),
		listRule("assessment.domains", len(AssessmentDomains())),
		listRule("assessment.anchors", MaxAssessmentRating),
		listRule("assessment.points", MaxSummaryPoints),
		// A change between two ratings: -4 (5 to 1) to 4 (1 to 5).
		rangeRule("assessment.change", MinAssessmentRating-MaxAssessmentRating, MaxAssessmentRating-MinAssessmentRating),
		textRule("assessment.label", 1, MaxDomainLabel),
		textRule("assessment.anchor", 1, MaxDomainAnchor),
		enumRule("assessment.language", AssessmentLanguages()),
		enumRule("assessment.template_id", GoalTemplateIDs()),
		textRule("assessment_goal.template_id", 1, MaxTemplateID, "assessment_goals.template_id"),
		textRule("suggestion.reason", 1, MaxSuggestionReason),
		textRule("suggestion.href", 1, MaxSuggestionHref),
		listRule("suggestion.goal_templates", MaxSuggestionTemplates),
		listRule("suggestion.directory_searches", MaxSuggestionSearches),
	}
}
