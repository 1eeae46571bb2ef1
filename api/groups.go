package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const groupTag = "Groups"

// GroupPerson names a person as a group sees them.
type GroupPerson struct {
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name" rule:"person.name" example:"Wanda"`
}

// Group is a mutual-aid group. Administrators see it too (existence only:
// they get 403 on its members, goals, posts and sessions).
type Group struct {
	ID           uuid.UUID     `json:"id"`
	Name         string        `json:"name" rule:"group.name" example:"Budgeting together"`
	Purpose      string        `json:"purpose" rule:"group.purpose" example:"Make a budget that works and stick to it, together"`
	Kind         string        `json:"kind" rule:"group.kind" example:"skills"`
	Schedule     string        `json:"schedule" rule:"group.schedule" example:"Tuesdays 6pm, library room B" doc:"The usual meeting time, in words"`
	Open         bool          `json:"open" doc:"Open to new members (facilitators may invite); a closed group takes no invitations"`
	Facilitators []GroupPerson `json:"facilitators" rule:"group.facilitators"`
	MemberCount  int64         `json:"member_count" rule:"count" doc:"Current members (accepted, not left or removed)"`
	MyRole       string        `json:"my_role" rule:"group.role" example:"member" doc:"facilitator, member, or observer (an administrator: sees that the group exists, not its content)"`
	Version      int64         `json:"version" rule:"version"`
	CreatedAt    time.Time     `json:"created_at"`
}

func groupDTO(g domain.Group) Group {
	fs := make([]GroupPerson, len(g.Facilitators.V))
	for i, f := range g.Facilitators.V {
		fs[i] = GroupPerson(f)
	}
	return Group{ID: g.ID, Name: g.Name, Purpose: g.Purpose, Kind: g.Kind, Schedule: g.Schedule, Open: g.Open,
		Facilitators: fs, MemberCount: g.MemberCount, MyRole: g.MyRole, Version: g.Version, CreatedAt: g.CreatedAt.UTC()}
}

// GroupCreate is a new group.
type GroupCreate struct {
	Name     string  `json:"name" rule:"group.name" example:"Budgeting together"`
	Purpose  *string `json:"purpose,omitempty" rule:"group.purpose"`
	Kind     string  `json:"kind" rule:"group.kind" example:"skills"`
	Schedule *string `json:"schedule,omitempty" rule:"group.schedule"`
	Open     *bool   `json:"open,omitempty" doc:"Default true"`
}

// GroupPatch changes a group (JSON Merge Patch).
type GroupPatch struct {
	Name     *string `json:"name,omitempty" rule:"group.name"`
	Purpose  *string `json:"purpose,omitempty" rule:"group.purpose"`
	Kind     *string `json:"kind,omitempty" rule:"group.kind"`
	Schedule *string `json:"schedule,omitempty" rule:"group.schedule"`
	Open     *bool   `json:"open,omitempty"`
}

// GroupMember is a member as the group sees them: the name they chose and
// whether they share their progress, never their client record.
type GroupMember struct {
	PersonID        uuid.UUID  `json:"person_id"`
	DisplayName     string     `json:"display_name" rule:"group_member.display_name" example:"Ali"`
	ShareMyProgress bool       `json:"share_my_progress" doc:"Whether the member's own check-ins on group goals are visible to the group"`
	ClientID        *uuid.UUID `json:"client_id,omitempty" doc:"Only for a facilitator on this member's care team: which client of their caseload the member is (recorded in that client's access log)"`
	JoinedAt        *time.Time `json:"joined_at,omitempty"`
	Version         int64      `json:"version" rule:"version"`
}

func groupMemberDTO(m domain.GroupMember) GroupMember {
	return GroupMember{PersonID: m.PersonID, DisplayName: m.DisplayName, ShareMyProgress: m.ShareMyProgress, ClientID: m.ClientID,
		JoinedAt: utcPtr(m.JoinedAt), Version: m.Version}
}

// GroupMemberPatch is what a member changes about how they show themselves.
type GroupMemberPatch struct {
	DisplayName     *string `json:"display_name,omitempty" rule:"group_member.display_name" example:"Ali" doc:"The name the group sees; empty: your first name"`
	ShareMyProgress *bool   `json:"share_my_progress,omitempty"`
}

// GroupInvitationCreate names the client to invite.
type GroupInvitationCreate struct {
	ClientID uuid.UUID `json:"client_id" doc:"A client of your caseload (you are on their care team)"`
}

// GroupInvitation is a client's invitation to a group, and then its state.
type GroupInvitation struct {
	ID            uuid.UUID `json:"id"`
	GroupID       uuid.UUID `json:"group_id"`
	GroupName     string    `json:"group_name" rule:"group.name"`
	Status        string    `json:"status" rule:"group_member.status" example:"invited" doc:"invited, declined, member (accepted), left, removed"`
	RemovedReason string    `json:"removed_reason,omitempty" rule:"group.reason" doc:"Why a facilitator removed you (status removed)"`
	CreatedAt     time.Time `json:"created_at"`
}

func groupInvitationDTO(i domain.GroupInvitation) GroupInvitation {
	return GroupInvitation{ID: i.ID, GroupID: i.GroupID, GroupName: i.GroupName, Status: i.Status, RemovedReason: i.RemovedReason,
		CreatedAt: i.CreatedAt.UTC()}
}

// GroupInvitationAccept is the answer yes, with the name to show the group.
type GroupInvitationAccept struct {
	DisplayName *string `json:"display_name,omitempty" rule:"group_member.display_name" example:"Ali" doc:"The name the group will see (a first name or a nickname); default: your first name"`
}

// GroupProgress is a group goal's aggregate; every member is null while
// fewer than 3 take part or have checked in.
type GroupProgress struct {
	Improving        *int64   `json:"improving" rule:"count"`
	Steady           *int64   `json:"steady" rule:"count"`
	Worsening        *int64   `json:"worsening" rule:"count"`
	MeanLatestRating *float64 `json:"mean_latest_rating" rule:"group_goal.mean_rating" doc:"Mean of each participant's latest rating, one decimal"`
}

// GroupGoal is a shared goal with aggregate progress.
type GroupGoal struct {
	ID           uuid.UUID     `json:"id"`
	GroupID      uuid.UUID     `json:"group_id"`
	Title        string        `json:"title" rule:"group_goal.title" example:"Save $50 this month"`
	Participants int64         `json:"participants" rule:"count" doc:"Members taking part (opted in)"`
	Progress     GroupProgress `json:"progress" doc:"How participants are doing, compared between their last two check-ins (one check-in counts as steady)"`
	TakingPart   bool          `json:"taking_part" doc:"Whether you take part"`
	ProposedBy   uuid.UUID     `json:"proposed_by"`
	CreatedAt    time.Time     `json:"created_at"`
}

func groupGoalDTO(g domain.GroupGoal) GroupGoal {
	return GroupGoal{ID: g.ID, GroupID: g.GroupID, Title: g.Title, Participants: g.Participants, TakingPart: g.TakingPart,
		ProposedBy: g.ProposedBy, CreatedAt: g.CreatedAt.UTC(),
		Progress: GroupProgress{Improving: g.Improving, Steady: g.Steady, Worsening: g.Worsening, MeanLatestRating: g.MeanLatest}}
}

// GroupGoalCreate proposes a shared goal.
type GroupGoalCreate struct {
	Title string `json:"title" rule:"group_goal.title" example:"Save $50 this month"`
}

// GroupGoalJoin optionally links one of your own goals.
type GroupGoalJoin struct {
	GoalID *uuid.UUID `json:"goal_id,omitempty" doc:"One of your own goals to link (nobody else sees the link)"`
}

// GroupCheckIn is a participant's check-in on a group goal.
type GroupCheckIn struct {
	ID          uuid.UUID `json:"id"`
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name" rule:"group_member.display_name"`
	Rating      int       `json:"rating" rule:"group_check_in.rating"`
	Note        string    `json:"note,omitempty" rule:"group_check_in.note"`
	CreatedAt   time.Time `json:"created_at"`
}

func groupCheckInDTO(c domain.GroupCheckIn) GroupCheckIn {
	return GroupCheckIn{ID: c.ID, PersonID: c.PersonID, DisplayName: c.DisplayName, Rating: c.Rating, Note: c.Note, CreatedAt: c.CreatedAt.UTC()}
}

// GroupCheckInCreate is a check-in on a group goal.
type GroupCheckInCreate struct {
	Rating int    `json:"rating" rule:"group_check_in.rating" example:"6"`
	Note   string `json:"note,omitempty" rule:"group_check_in.note"`
}

// GroupReply is a reply to a post.
type GroupReply struct {
	ID        uuid.UUID   `json:"id"`
	PostID    uuid.UUID   `json:"post_id"`
	Author    GroupPerson `json:"author"`
	Body      string      `json:"body" rule:"group_post.body"`
	CreatedAt time.Time   `json:"created_at"`
}

func replyDTO(r domain.GroupReply) GroupReply {
	return GroupReply{ID: r.ID, PostID: r.PostID, Author: GroupPerson{PersonID: r.AuthorID, DisplayName: r.AuthorName}, Body: r.Body,
		CreatedAt: r.CreatedAt.UTC()}
}

// GroupPost is a post on the mutual-aid board.
type GroupPost struct {
	ID           uuid.UUID    `json:"id"`
	GroupID      uuid.UUID    `json:"group_id"`
	Kind         string       `json:"kind" rule:"group_post.kind" example:"offer"`
	Body         string       `json:"body" rule:"group_post.body" example:"I can drive two people to the food bank Friday"`
	Author       GroupPerson  `json:"author"`
	Resolved     bool         `json:"resolved"`
	Hidden       bool         `json:"hidden" doc:"Hidden by a facilitator: only its author and the facilitators still see it"`
	HiddenReason string       `json:"hidden_reason,omitempty" rule:"group.reason" doc:"Why it is hidden (its author and the facilitators only)"`
	ReplyCount   int          `json:"reply_count" rule:"group_post.reply_count"`
	Reports      *int64       `json:"reports,omitempty" rule:"count" doc:"How many members reported it (facilitators only)"`
	Replies      []GroupReply `json:"replies,omitempty" rule:"group_post.replies" doc:"All replies, oldest first (on GET /v1/group-posts/{postId})"`
	Version      int64        `json:"version" rule:"version"`
	CreatedAt    time.Time    `json:"created_at"`
}

func postDTO(p domain.GroupPost) GroupPost {
	var rs []GroupReply
	for _, r := range p.Replies.V {
		rs = append(rs, replyDTO(r))
	}
	return GroupPost{ID: p.ID, GroupID: p.GroupID, Kind: p.Kind, Body: p.Body, Author: GroupPerson{PersonID: p.AuthorID, DisplayName: p.AuthorName},
		Resolved: p.Resolved, Hidden: p.Hidden, HiddenReason: p.HiddenReason, ReplyCount: p.ReplyCount, Reports: p.Reports, Replies: rs,
		Version: p.Version, CreatedAt: p.CreatedAt.UTC()}
}

// GroupPostCreate is a new post.
type GroupPostCreate struct {
	Kind string `json:"kind" rule:"group_post.kind" example:"offer"`
	Body string `json:"body" rule:"group_post.body" example:"I can drive two people to the food bank Friday"`
}

// GroupPostPatch resolves (the author) or hides (a facilitator) a post.
type GroupPostPatch struct {
	Resolved     *bool   `json:"resolved,omitempty" doc:"The author of an offer or ask"`
	Hidden       *bool   `json:"hidden,omitempty" doc:"A facilitator; hiding needs hidden_reason"`
	HiddenReason *string `json:"hidden_reason,omitempty" rule:"group.reason" doc:"Shown to the author"`
}

// GroupReplyCreate is a reply.
type GroupReplyCreate struct {
	Body string `json:"body" rule:"group_post.body" example:"I'd love a ride, thank you!"`
}

// GroupPostReportCreate is a report to the facilitators.
type GroupPostReportCreate struct {
	Reason string `json:"reason,omitempty" rule:"group.reason" example:"This shares someone's address"`
}

// GroupPostReport is a report as recorded.
type GroupPostReport struct {
	PostID    uuid.UUID `json:"post_id"`
	Reason    string    `json:"reason" rule:"group.reason"`
	CreatedAt time.Time `json:"created_at"`
}

// RSVPCounts counts the answers to a session.
type RSVPCounts struct {
	Yes   int64 `json:"yes" rule:"count"`
	No    int64 `json:"no" rule:"count"`
	Maybe int64 `json:"maybe" rule:"count"`
}

// GroupSession is a scheduled meeting, with counts only.
type GroupSession struct {
	ID           uuid.UUID  `json:"id"`
	GroupID      uuid.UUID  `json:"group_id"`
	StartsAt     time.Time  `json:"starts_at"`
	Place        string     `json:"place,omitempty" rule:"group_session.place" example:"Library, room B"`
	Link         string     `json:"link,omitempty" rule:"group_session.link"`
	RSVPs        RSVPCounts `json:"rsvps"`
	Attended     int64      `json:"attended" rule:"count" doc:"How many attended, as the facilitators recorded"`
	MyRSVP       *string    `json:"my_rsvp,omitempty" rule:"group_session.response"`
	MyAttendance *bool      `json:"my_attendance,omitempty" doc:"Whether you attended (once recorded)"`
	CreatedAt    time.Time  `json:"created_at"`
}

func sessionDTO(s domain.GroupSession) GroupSession {
	return GroupSession{ID: s.ID, GroupID: s.GroupID, StartsAt: s.StartsAt.UTC(), Place: s.Place, Link: s.Link,
		RSVPs: RSVPCounts{Yes: s.Yes, No: s.No, Maybe: s.Maybe}, Attended: s.Attended, MyRSVP: s.MyResponse,
		MyAttendance: s.MyAttendance, CreatedAt: s.CreatedAt.UTC()}
}

// GroupSessionCreate schedules a session.
type GroupSessionCreate struct {
	StartsAt time.Time `json:"starts_at" example:"2026-12-08T18:00:00Z"`
	Place    string    `json:"place,omitempty" rule:"group_session.place" example:"Library, room B"`
	Link     string    `json:"link,omitempty" rule:"group_session.link" doc:"A video-call link, if the session is online"`
}

// RSVP is a member's answer to a session.
type RSVP struct {
	Response string `json:"response" rule:"group_session.response" example:"yes"`
}

// AttendanceInput records attendance.
type AttendanceInput struct {
	Attended bool `json:"attended"`
}

// GroupAttendance is one member's recorded attendance.
type GroupAttendance struct {
	SessionID uuid.UUID `json:"session_id"`
	PersonID  uuid.UUID `json:"person_id"`
	Attended  bool      `json:"attended"`
}

// Paths (exported: Huma reads the parameters of embedded structs only when their type is exported).
type (
	// GroupPath addresses a group.
	GroupPath struct {
		GroupID uuid.UUID `path:"groupId" doc:"Group id"`
	}
	// GroupMemberPath addresses a member of a group.
	GroupMemberPath struct {
		GroupID  uuid.UUID `path:"groupId" doc:"Group id"`
		PersonID uuid.UUID `path:"personId" doc:"The member's person id"`
	}
	// GroupInvitationPath addresses a group invitation.
	GroupInvitationPath struct {
		InvitationID uuid.UUID `path:"invitationId" doc:"Group invitation id"`
	}
	// GroupGoalPath addresses a group goal.
	GroupGoalPath struct {
		GroupGoalID uuid.UUID `path:"groupGoalId" doc:"Group goal id"`
	}
	// GroupPostPath addresses a post.
	GroupPostPath struct {
		PostID uuid.UUID `path:"postId" doc:"Post id"`
	}
	// GroupSessionPath addresses a session.
	GroupSessionPath struct {
		SessionID uuid.UUID `path:"sessionId" doc:"Session id"`
	}
)

type (
	groupOut struct {
		ETag     string `header:"ETag" doc:"Strong ETag: the group's version"`
		Location string `header:"Location" doc:"The group's URL (on create)"`
		Body     Group
	}
	groupsOut struct {
		Body Page[Group]
	}
	listInGroupInput struct {
		GroupPath
		PageParams
	}
	createGroupInput struct {
		Body GroupCreate
	}
	patchGroupInput struct {
		GroupPath
		IfMatch string     `header:"If-Match" doc:"The ETag from your last read (required)"`
		Body    GroupPatch `contentType:"application/merge-patch+json"`
	}
	membersOut struct {
		Body Page[GroupMember]
	}
	memberOut struct {
		ETag string `header:"ETag" doc:"Strong ETag: the membership's version"`
		Body GroupMember
	}
	patchMemberInput struct {
		GroupMemberPath
		IfMatch string           `header:"If-Match" doc:"The ETag from your last read of the membership (required)"`
		Body    GroupMemberPatch `contentType:"application/merge-patch+json"`
	}
	deleteMemberInput struct {
		GroupMemberPath
		Reason string `query:"reason" rule:"group.reason" doc:"Why a facilitator removes the member (required then; the member sees it). Not used when leaving."`
	}
	inviteInput struct {
		GroupPath
		Body GroupInvitationCreate
	}
	invitationOut struct {
		Body GroupInvitation
	}
	invitationsOut struct {
		Body Page[GroupInvitation]
	}
	answerGroupInvitationInput struct {
		GroupInvitationPath
		Body *GroupInvitationAccept
	}
	groupGoalOut struct {
		Body GroupGoal
	}
	groupGoalsOut struct {
		Body Page[GroupGoal]
	}
	createGroupGoalInput struct {
		GroupPath
		Body GroupGoalCreate
	}
	joinGroupGoalInput struct {
		GroupGoalPath
		Body *GroupGoalJoin
	}
	listGroupCheckInsInput struct {
		GroupGoalPath
		PageParams
	}
	groupCheckInsOut struct {
		Body Page[GroupCheckIn]
	}
	addGroupCheckInInput struct {
		GroupGoalPath
		Body GroupCheckInCreate
	}
	groupCheckInOut struct {
		Body GroupCheckIn
	}
	postOut struct {
		ETag string `header:"ETag" doc:"Strong ETag: the post's version"`
		Body GroupPost
	}
	postsOut struct {
		Body Page[GroupPost]
	}
	createPostInput struct {
		GroupPath
		Body GroupPostCreate
	}
	patchPostInput struct {
		GroupPostPath
		IfMatch string         `header:"If-Match" doc:"The ETag from your last read (required)"`
		Body    GroupPostPatch `contentType:"application/merge-patch+json"`
	}
	replyInput struct {
		GroupPostPath
		Body GroupReplyCreate
	}
	replyOut struct {
		Body GroupReply
	}
	reportInput struct {
		GroupPostPath
		Body *GroupPostReportCreate
	}
	reportOut struct {
		Body GroupPostReport
	}
	sessionsOut struct {
		Body Page[GroupSession]
	}
	sessionOut struct {
		Body GroupSession
	}
	createSessionInput struct {
		GroupPath
		Body GroupSessionCreate
	}
	rsvpInput struct {
		GroupSessionPath
		Body RSVP
	}
	attendanceInput struct {
		GroupSessionPath
		PersonID uuid.UUID `path:"personId" doc:"The member's person id"`
		Body     AttendanceInput
	}
	attendanceOut struct {
		Body GroupAttendance
	}
)

const groupVisibility = " Members (accepted, not left or removed) and the group's facilitators see a group's content; " +
	"an administrator sees only that it exists (403 here); anyone else, including a worker on a member's care team who " +
	"does not facilitate, an invited client who has not accepted and a former member, gets 404."

func (s *Server) registerGroups() {
	s.registerGroupCore()
	s.registerGroupMembers()
	s.registerGroupGoals()
	s.registerGroupBoard()
	s.registerGroupSessions()
}

func (s *Server) registerGroupCore() {
	handle(s.api, op(http.MethodGet, "/v1/groups", "listGroups", groupTag, "List groups",
		"The groups you are a member of or facilitate, oldest first (an administrator: every group, existence only). "+
			"Invitations you have not answered are at GET /v1/group-invitations.",
		"groups:read", invalid),
		func(ctx context.Context, in *PageParams) (*groupsOut, error) {
			rows, next, err := s.store.ListGroups(ctx, actorFrom(ctx), in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &groupsOut{Body: newPage(rows, next, groupDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/groups", "createGroup", groupTag, "Start a group",
		"A worker starts a group and becomes its facilitator (clients and administrators: 403). Then invite clients of your "+
			"caseload (POST /v1/groups/{groupId}/invitations).",
		"groups:write", invalid, tooLarge, badType), func(ctx context.Context, hc huma.Context, body []byte) error {
		// A replay is refused as a fresh request would be: 403 once the caller is no worker.
		if !actorFrom(ctx).Is(domain.RoleWorker) {
			return domain.Forbidden("only workers start groups (they facilitate them)")
		}
		return s.replayForGroup("")(ctx, hc, body)
	})
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createGroupInput) (*groupOut, error) {
		kind := in.Body.Kind
		g, err := s.store.CreateGroup(ctx, actorFrom(ctx), domain.GroupInput{Name: &in.Body.Name, Purpose: in.Body.Purpose,
			Kind: &kind, Schedule: in.Body.Schedule, Open: in.Body.Open})
		if err != nil {
			return nil, err
		}
		return &groupOut{ETag: etag(g.Version), Location: "/v1/groups/" + g.ID.String(), Body: groupDTO(g)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/groups/{groupId}", "getGroup", groupTag, "Get a group",
		"Name, purpose, kind, schedule, facilitators and member count. Members, facilitators and administrators see it; "+
			"anyone else (an invited client who has not accepted, a former member, a worker who does not facilitate) gets 404.",
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *GroupPath) (*groupOut, error) {
			g, err := s.store.GetGroup(ctx, actorFrom(ctx), in.GroupID)
			if err != nil {
				return nil, err
			}
			return &groupOut{ETag: etag(g.Version), Body: groupDTO(g)}, nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/groups/{groupId}", "patchGroup", groupTag, "Change a group",
		"JSON Merge Patch of name, purpose, kind, schedule and open. Facilitators only (members and administrators: 403). "+
			"Requires If-Match (missing: 428, stale: 412)."+groupVisibility,
		"groups:write", notFound, invalid, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchGroupInput) (*groupOut, error) {
			p := domain.GroupInput{Name: in.Body.Name, Purpose: in.Body.Purpose, Kind: in.Body.Kind, Schedule: in.Body.Schedule, Open: in.Body.Open}
			g, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Group, error) {
				return s.store.UpdateGroup(ctx, actorFrom(ctx), in.GroupID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return &groupOut{ETag: etag(g.Version), Body: groupDTO(g)}, nil
		})
}

func (s *Server) registerGroupMembers() {
	handle(s.api, op(http.MethodGet, "/v1/groups/{groupId}/members", "listGroupMembers", groupTag, "List a group's members",
		"Current members as they chose to show themselves: person_id, display_name, share_my_progress. Never their client "+
			"record, goals, contact details or other groups. A facilitator also sees client_id for members who are clients of "+
			"their own caseload; that sighting is written to the client's access log."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *listInGroupInput) (*membersOut, error) {
			rows, next, err := s.store.ListGroupMembers(ctx, actorFrom(ctx), in.GroupID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &membersOut{Body: newPage(rows, next, groupMemberDTO)}, nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/groups/{groupId}/members/{personId}", "patchGroupMember", groupTag,
		"Change how you show yourself in a group",
		"Your own display name and share_my_progress (whether others see your check-ins on group goals). Only the member "+
			"themself (others who can see the group: 403). Requires If-Match of the membership (missing: 428, stale: 412)."+groupVisibility,
		"groups:write", notFound, invalid, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchMemberInput) (*memberOut, error) {
			m, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.GroupMember, error) {
				return s.store.UpdateGroupMember(ctx, actorFrom(ctx), in.GroupID, in.PersonID, v,
					domain.MemberPatch{DisplayName: in.Body.DisplayName, ShareMyProgress: in.Body.ShareMyProgress})
			})
			if err != nil {
				return nil, err
			}
			return &memberOut{ETag: etag(m.Version), Body: groupMemberDTO(m)}, nil
		})

	del := op(http.MethodDelete, "/v1/groups/{groupId}/members/{personId}", "deleteGroupMember", groupTag, "Leave a group, or remove a member",
		"Your own person id: you leave, at once (204 also when you already left): the group's pages answer 404 and your open "+
			"event streams stop carrying its events. Another member's: facilitators only (members: 403), with a reason the "+
			"member sees in GET /v1/group-invitations. Membership-style: no If-Match."+groupVisibility,
		"groups:write", notFound, invalid)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *deleteMemberInput) (*struct{}, error) {
		return nil, s.store.RemoveGroupMember(ctx, actorFrom(ctx), in.GroupID, in.PersonID, in.Reason)
	})

	invite := Idempotent(op(http.MethodPost, "/v1/groups/{groupId}/invitations", "createGroupInvitation", groupTag, "Invite a client",
		"A facilitator invites a client of their own caseload (422 for anyone else); the client accepts or declines. A client "+
			"already invited or a member, or a closed group: 409. Recorded in the client's access log; the client gets "+
			"group.invitation."+groupVisibility,
		"groups:write", notFound, invalid, conflict, tooLarge, badType), s.replayForGroup("groupId"))
	invite.DefaultStatus = http.StatusCreated
	handle(s.api, invite, func(ctx context.Context, in *inviteInput) (*invitationOut, error) {
		inv, err := s.store.InviteToGroup(ctx, actorFrom(ctx), in.GroupID, in.Body.ClientID)
		if err != nil {
			return nil, err
		}
		return &invitationOut{Body: groupInvitationDTO(inv)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/group-invitations", "listGroupInvitations", groupTag, "List my group invitations",
		"Your invitations, oldest first, with their state: invited (answer it), declined, member, left, removed (with the "+
			"facilitator's reason). Only a client has any.",
		"groups:read", invalid),
		func(ctx context.Context, in *PageParams) (*invitationsOut, error) {
			rows, next, err := s.store.ListMyGroupInvitations(ctx, actorFrom(ctx), in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &invitationsOut{Body: newPage(rows, next, groupInvitationDTO)}, nil
		})

	for _, accept := range []bool{true, false} {
		id, verb, summary := "acceptGroupInvitation", "accept", "Accept a group invitation"
		desc := "Join the group, showing it the display_name you choose (default: your first name). "
		if !accept {
			id, verb, summary, desc = "declineGroupInvitation", "decline", "Decline a group invitation", "Say no; a facilitator may invite you again later. "
		}
		handle(s.api, op(http.MethodPost, "/v1/group-invitations/{invitationId}/"+verb, id, groupTag, summary,
			desc+"The invited client only (anyone else: 404). An invitation no longer open: 409.",
			"groups:write", notFound, invalid, conflict, tooLarge, badType),
			func(ctx context.Context, in *answerGroupInvitationInput) (*invitationOut, error) {
				var name *string
				if in.Body != nil {
					name = in.Body.DisplayName
				}
				inv, err := s.store.AnswerGroupInvitation(ctx, actorFrom(ctx), in.InvitationID, accept, name)
				if err != nil {
					return nil, err
				}
				return &invitationOut{Body: groupInvitationDTO(inv)}, nil
			})
	}
}

func (s *Server) registerGroupGoals() {
	handle(s.api, op(http.MethodGet, "/v1/groups/{groupId}/goals", "listGroupGoals", groupTag, "List a group's shared goals",
		"Oldest first, each with its aggregate progress (null while fewer than 3 take part or have checked in)."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *listInGroupInput) (*groupGoalsOut, error) {
			rows, next, err := s.store.ListGroupGoals(ctx, actorFrom(ctx), in.GroupID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &groupGoalsOut{Body: newPage(rows, next, groupGoalDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/groups/{groupId}/goals", "createGroupGoal", groupTag, "Propose a shared goal",
		"Any member or facilitator. Members then opt in one by one (POST /v1/group-goals/{groupGoalId}/join)."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType), s.replayForGroup("groupId"))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createGroupGoalInput) (*groupGoalOut, error) {
		g, err := s.store.CreateGroupGoal(ctx, actorFrom(ctx), in.GroupID, in.Body.Title)
		if err != nil {
			return nil, err
		}
		return &groupGoalOut{Body: groupGoalDTO(g)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/group-goals/{groupGoalId}", "getGroupGoal", groupTag, "Get a shared goal",
		"With participants and aggregate progress: how many improve, hold steady or worsen between their last two check-ins, "+
			"and the mean of their latest ratings; every progress member is null while fewer than 3 take part or have checked in, "+
			"so nobody's rating can be read off it. Individual ratings: GET .../check-ins."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *GroupGoalPath) (*groupGoalOut, error) {
			g, err := s.store.GetGroupGoal(ctx, actorFrom(ctx), in.GroupGoalID)
			if err != nil {
				return nil, err
			}
			return &groupGoalOut{Body: groupGoalDTO(g)}, nil
		})

	handle(s.api, op(http.MethodPost, "/v1/group-goals/{groupGoalId}/join", "joinGroupGoal", groupTag, "Take part in a shared goal",
		"A member opts in (facilitators: 403), optionally linking one of their own goals (goal_id; 422 unless it is yours; "+
			"nobody else sees the link). Joining again changes the link. Emits group.goal.progress."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType),
		func(ctx context.Context, in *joinGroupGoalInput) (*groupGoalOut, error) {
			var link *uuid.UUID
			if in.Body != nil {
				link = in.Body.GoalID
			}
			g, err := s.store.JoinGroupGoal(ctx, actorFrom(ctx), in.GroupGoalID, link)
			if err != nil {
				return nil, err
			}
			return &groupGoalOut{Body: groupGoalDTO(g)}, nil
		})

	handle(s.api, op(http.MethodPost, "/v1/group-goals/{groupGoalId}/leave", "leaveGroupGoal", groupTag, "Stop taking part in a shared goal",
		"Your check-ins stop counting. Idempotent. Members only (facilitators: 403)."+groupVisibility,
		"groups:write", notFound, invalid),
		func(ctx context.Context, in *GroupGoalPath) (*groupGoalOut, error) {
			g, err := s.store.LeaveGroupGoal(ctx, actorFrom(ctx), in.GroupGoalID)
			if err != nil {
				return nil, err
			}
			return &groupGoalOut{Body: groupGoalDTO(g)}, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/group-goals/{groupGoalId}/check-ins", "listGroupGoalCheckIns", groupTag,
		"List check-ins on a shared goal",
		"Your own check-ins, and those of members who chose share_my_progress, oldest first. Needs goals:read: these are "+
			"people's own ratings."+groupVisibility,
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *listGroupCheckInsInput) (*groupCheckInsOut, error) {
			rows, next, err := s.store.ListGroupCheckIns(ctx, actorFrom(ctx), in.GroupGoalID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &groupCheckInsOut{Body: newPage(rows, next, groupCheckInDTO)}, nil
		})

	add := Idempotent(op(http.MethodPost, "/v1/group-goals/{groupGoalId}/check-ins", "addGroupGoalCheckIn", groupTag,
		"Check in on a shared goal",
		"A rating 0-10 and an optional note, by a member taking part (not taking part: 409; facilitators: 403). Others see "+
			"it only if you share your progress; the group sees the aggregate. Emits group.goal.progress."+groupVisibility,
		"goals:write", notFound, invalid, conflict, tooLarge, badType), s.replayForGroupGoal)
	add.DefaultStatus = http.StatusCreated
	handle(s.api, add, func(ctx context.Context, in *addGroupCheckInInput) (*groupCheckInOut, error) {
		c, err := s.store.AddGroupCheckIn(ctx, actorFrom(ctx), in.GroupGoalID, in.Body.Rating, in.Body.Note)
		if err != nil {
			return nil, err
		}
		return &groupCheckInOut{Body: groupCheckInDTO(c)}, nil
	})
}

func (s *Server) registerGroupBoard() {
	handle(s.api, op(http.MethodGet, "/v1/groups/{groupId}/posts", "listGroupPosts", groupTag, "Read a group's board",
		"Messages, offers and asks, newest first, without replies (GET /v1/group-posts/{postId} has them). A hidden post "+
			"shows only to its author (with the reason) and the facilitators."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *listInGroupInput) (*postsOut, error) {
			rows, next, err := s.store.ListGroupPosts(ctx, actorFrom(ctx), in.GroupID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &postsOut{Body: newPage(rows, next, postDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/groups/{groupId}/posts", "createGroupPost", groupTag, "Post to a group's board",
		"A message, an offer (\"I can drive two people to the food bank Friday\") or an ask, by any member or facilitator. "+
			"Delivered live as group.post.created."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType), s.replayForGroup("groupId"))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createPostInput) (*postOut, error) {
		p, err := s.store.CreateGroupPost(ctx, actorFrom(ctx), in.GroupID, in.Body.Kind, in.Body.Body)
		if err != nil {
			return nil, err
		}
		return &postOut{ETag: etag(p.Version), Body: postDTO(p)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/group-posts/{postId}", "getGroupPost", groupTag, "Read a post",
		"One post with all its replies and its ETag. A hidden post: its author and the facilitators only (others: 404)."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *GroupPostPath) (*postOut, error) {
			p, err := s.store.GetGroupPost(ctx, actorFrom(ctx), in.PostID)
			if err != nil {
				return nil, err
			}
			return &postOut{ETag: etag(p.Version), Body: postDTO(p)}, nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/group-posts/{postId}", "patchGroupPost", groupTag, "Resolve or hide a post",
		"JSON Merge Patch. resolved: the author of an offer or ask (422 on a message). hidden with hidden_reason: a "+
			"facilitator (the author sees the reason). Anyone else: 403. Requires If-Match (missing: 428, stale: 412). "+
			"Emits group.post.updated."+groupVisibility,
		"groups:write", notFound, invalid, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchPostInput) (*postOut, error) {
			p, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.GroupPost, error) {
				return s.store.UpdateGroupPost(ctx, actorFrom(ctx), in.PostID, v,
					domain.PostPatch{Resolved: in.Body.Resolved, Hidden: in.Body.Hidden, HiddenReason: in.Body.HiddenReason})
			})
			if err != nil {
				return nil, err
			}
			return &postOut{ETag: etag(p.Version), Body: postDTO(p)}, nil
		})

	reply := Idempotent(op(http.MethodPost, "/v1/group-posts/{postId}/replies", "createGroupPostReply", groupTag, "Reply to a post",
		"Any member or facilitator; at most 100 replies per post (409 beyond). Emits group.post.updated."+groupVisibility,
		"groups:write", notFound, invalid, conflict, tooLarge, badType), s.replayForGroupPost)
	reply.DefaultStatus = http.StatusCreated
	handle(s.api, reply, func(ctx context.Context, in *replyInput) (*replyOut, error) {
		r, err := s.store.ReplyToGroupPost(ctx, actorFrom(ctx), in.PostID, in.Body.Body)
		if err != nil {
			return nil, err
		}
		return &replyOut{Body: replyDTO(r)}, nil
	})

	report := Idempotent(op(http.MethodPost, "/v1/group-posts/{postId}/reports", "reportGroupPost", groupTag, "Report a post",
		"A member tells the facilitators a post needs their attention (facilitators hide posts instead: 403). Reporting "+
			"again replaces your reason. Facilitators see how many reported a post."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType), s.replayForGroupPost)
	report.DefaultStatus = http.StatusCreated
	handle(s.api, report, func(ctx context.Context, in *reportInput) (*reportOut, error) {
		reason := ""
		if in.Body != nil {
			reason = in.Body.Reason
		}
		r, err := s.store.ReportGroupPost(ctx, actorFrom(ctx), in.PostID, reason)
		if err != nil {
			return nil, err
		}
		return &reportOut{Body: GroupPostReport{PostID: r.PostID, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}}, nil
	})
}

func (s *Server) registerGroupSessions() {
	handle(s.api, op(http.MethodGet, "/v1/groups/{groupId}/sessions", "listGroupSessions", groupTag, "List a group's sessions",
		"Each with RSVP and attendance counts only, plus your own RSVP and attendance."+groupVisibility,
		"groups:read", notFound, invalid),
		func(ctx context.Context, in *listInGroupInput) (*sessionsOut, error) {
			rows, next, err := s.store.ListGroupSessions(ctx, actorFrom(ctx), in.GroupID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &sessionsOut{Body: newPage(rows, next, sessionDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/groups/{groupId}/sessions", "createGroupSession", groupTag, "Schedule a session",
		"Facilitators only (members: 403): a time and a place or a link. Emits group.session.scheduled."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType), s.replayForGroup("groupId"))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createSessionInput) (*sessionOut, error) {
		ss, err := s.store.CreateGroupSession(ctx, actorFrom(ctx), in.GroupID,
			domain.SessionInput{StartsAt: in.Body.StartsAt, Place: in.Body.Place, Link: in.Body.Link})
		if err != nil {
			return nil, err
		}
		return &sessionOut{Body: sessionDTO(ss)}, nil
	})

	handle(s.api, op(http.MethodPut, "/v1/group-sessions/{sessionId}/rsvp", "putGroupSessionRsvp", groupTag, "RSVP to a session",
		"yes, no or maybe: members only (facilitators: 403). Membership-style PUT: idempotent, no If-Match."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType),
		func(ctx context.Context, in *rsvpInput) (*sessionOut, error) {
			ss, err := s.store.RSVP(ctx, actorFrom(ctx), in.SessionID, in.Body.Response)
			if err != nil {
				return nil, err
			}
			return &sessionOut{Body: sessionDTO(ss)}, nil
		})

	handle(s.api, op(http.MethodPut, "/v1/group-sessions/{sessionId}/attendance/{personId}", "putGroupSessionAttendance", groupTag,
		"Record attendance",
		"Whether a current member attended (not a member: 404). Facilitators only (members: 403). The member sees their own "+
			"attendance; the group sees the count. Membership-style PUT: idempotent, no If-Match."+groupVisibility,
		"groups:write", notFound, invalid, tooLarge, badType),
		func(ctx context.Context, in *attendanceInput) (*attendanceOut, error) {
			at, err := s.store.RecordAttendance(ctx, actorFrom(ctx), in.SessionID, in.PersonID, in.Body.Attended)
			if err != nil {
				return nil, err
			}
			return &attendanceOut{Body: GroupAttendance{SessionID: at.SessionID, PersonID: at.PersonID, Attended: at.Attended}}, nil
		})
}

// replayForGroup guards a creation in a group (path parameter param; ""
// for a group created, named by the stored id): the caller must still see
// the group's content.
func (s *Server) replayForGroup(param string) ReplayGuard {
	return func(ctx context.Context, hc huma.Context, body []byte) error {
		id, err := uuid.Parse(storedID(body))
		if param != "" {
			id, err = pathUUID(hc, param)
		}
		if err != nil {
			return err
		}
		return s.store.ReplayForGroup(ctx, actorFrom(ctx), id)
	}
}

// replayForGroupGoal guards a check-in: the caller must still see the goal.
func (s *Server) replayForGroupGoal(ctx context.Context, hc huma.Context, _ []byte) error {
	id, err := pathUUID(hc, "groupGoalId")
	if err != nil {
		return err
	}
	_, err = s.store.GetGroupGoal(ctx, actorFrom(ctx), id)
	return err
}

// replayForGroupPost guards a reply or report: the caller must still see the post.
func (s *Server) replayForGroupPost(ctx context.Context, hc huma.Context, _ []byte) error {
	id, err := pathUUID(hc, "postId")
	if err != nil {
		return err
	}
	_, err = s.store.GetGroupPost(ctx, actorFrom(ctx), id)
	return err
}
