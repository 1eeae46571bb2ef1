package domain

// Limits of groups (issue #14).
const (
	MaxGroupName        = 200
	MaxGroupPurpose     = 2000
	MaxGroupSchedule    = 200
	MaxGroupDisplayName = 60
	MaxGroupReason      = 500
	MaxGroupGoalTitle   = 200
	MaxGroupPostBody    = 4000
	// MaxGroupPostReplies bounds the replies of one post, so a post carries
	// all of them.
	MaxGroupPostReplies = 100
	MaxSessionPlace     = 200
	MaxSessionLink      = 2000
	// MaxGroupFacilitators bounds a group's facilitators (listed in full).
	MaxGroupFacilitators = 10
	// GroupAggregateMin is the fewest participants for which a group goal's
	// progress is shown: below it, one person's ratings could be inferred.
	GroupAggregateMin = 3
)

// Group kinds, membership states, post kinds, RSVP responses.
const (
	GroupMemberInvited  = "invited"
	GroupMemberDeclined = "declined"
	GroupMemberActive   = "member"
	GroupMemberLeft     = "left"
	GroupMemberRemoved  = "removed"

	GroupPostMessage = "message"
	GroupPostOffer   = "offer"
	GroupPostAsk     = "ask"
)

// GroupKinds lists the kinds of group.
func GroupKinds() []string { return []string{"support", "skills", "education", "other"} }

// GroupMemberStatuses lists the states of a membership (and its invitation).
func GroupMemberStatuses() []string {
	return []string{GroupMemberInvited, GroupMemberDeclined, GroupMemberActive, GroupMemberLeft, GroupMemberRemoved}
}

// GroupPostKinds lists the kinds of post on the mutual-aid board.
func GroupPostKinds() []string { return []string{GroupPostMessage, GroupPostOffer, GroupPostAsk} }

// RSVPResponses lists the answers to a session invitation.
func RSVPResponses() []string { return []string{"yes", "no", "maybe"} }

// GroupRoles lists how the caller stands in a group.
func GroupRoles() []string { return []string{"facilitator", "member", "observer"} }

// Group event types: group.invitation is keyed by the invited client's
// client_id; the others by group_id.
const (
	EventGroupInvitation       = "group.invitation"
	EventGroupMemberJoined     = "group.member.joined"
	EventGroupMemberLeft       = "group.member.left"
	EventGroupPostCreated      = "group.post.created"
	EventGroupPostUpdated      = "group.post.updated"
	EventGroupGoalProgress     = "group.goal.progress"
	EventGroupSessionScheduled = "group.session.scheduled"
)

func groupRules() []Rule {
	return []Rule{
		textRule("group.name", 1, MaxGroupName, "groups.name"),
		textRule("group.purpose", 0, MaxGroupPurpose, "groups.purpose"),
		enumRule("group.kind", GroupKinds(), "groups.kind"),
		textRule("group.schedule", 0, MaxGroupSchedule, "groups.schedule"),
		listRule("group.facilitators", MaxGroupFacilitators),
		enumRule("group.role", GroupRoles()),
		enumRule("group_member.status", GroupMemberStatuses(), "group_members.status"),
		textRule("group_member.display_name", 0, MaxGroupDisplayName, "group_members.display_name"),
		textRule("group.reason", 0, MaxGroupReason, "group_members.removed_reason", "group_posts.hidden_reason", "group_post_reports.reason"),
		textRule("group_goal.title", 1, MaxGroupGoalTitle, "group_goals.title"),
		rangeRule("group_check_in.rating", MinCheckInRating, MaxCheckInRating, "group_goal_check_ins.rating"),
		textRule("group_check_in.note", 0, MaxCheckInNote, "group_goal_check_ins.note"),
		enumRule("group_post.kind", GroupPostKinds(), "group_posts.kind"),
		enumRule("group_post.change", []string{"created", "replied", "resolved", "hidden", "unhidden"}),
		textRule("group_post.body", 1, MaxGroupPostBody, "group_posts.body", "group_post_replies.body"),
		rangeRule("group_post.reply_count", 0, MaxGroupPostReplies, "group_posts.reply_count"),
		listRule("group_post.replies", MaxGroupPostReplies),
		textRule("group_session.place", 0, MaxSessionPlace, "group_sessions.place"),
		textRule("group_session.link", 0, MaxSessionLink, "group_sessions.link"),
		enumRule("group_session.response", RSVPResponses(), "group_session_people.response"),
		rangeRule("group_goal.mean_rating", MinCheckInRating, MaxCheckInRating),
		enumRule("event.group_invitation", []string{EventGroupInvitation}),
		enumRule("event.group_member", []string{EventGroupMemberJoined, EventGroupMemberLeft}),
		enumRule("event.group_post", []string{EventGroupPostCreated, EventGroupPostUpdated}),
		enumRule("event.group_goal_progress", []string{EventGroupGoalProgress}),
		enumRule("event.group_session_scheduled", []string{EventGroupSessionScheduled}),
	}
}
