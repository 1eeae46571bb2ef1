package domain

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Group is a mutual-aid group as the actor may see it. An administrator
// (MyRole "observer") sees only that it exists.
type Group struct {
	ID           uuid.UUID
	Name         string
	Purpose      string
	Kind         string
	Schedule     string
	Open         bool
	Facilitators JSONValue[[]GroupPerson]
	MemberCount  int64
	MyRole       string
	Version      int64
	CreatedAt    time.Time
}

// GroupPerson names a person as the group sees them.
type GroupPerson struct {
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name"`
}

// GroupInput is a new group, or (pointers set) a change to one.
type GroupInput struct {
	Name, Purpose, Kind, Schedule *string
	Open                          *bool
}

// groupStanding is how the actor stands in a group they can see.
type groupStanding struct {
	Facilitator bool
	Member      bool
}

func (st groupStanding) content() bool { return st.Facilitator || st.Member }

var errObserver = Forbidden("administrators see that a group exists, not what happens in it")

// standing finds the group (404 unless the actor may see it exist) and how
// the actor stands in it.
func standing(tx *gorm.DB, a Actor, groupID uuid.UUID) (groupStanding, error) {
	var rows []groupStanding
	err := tx.Raw(`SELECT ? AS facilitator, ? AS member FROM groups g WHERE g.id = ? AND ?`,
		a.groupFacilitator("g.id"), a.groupMember("g.id"), groupID, a.GroupScope("g.id", GroupExistence)).Scan(&rows).Error
	if err != nil {
		return groupStanding{}, fmt.Errorf("read group standing: %w", err)
	}
	if len(rows) == 0 {
		return groupStanding{}, NotFound("group")
	}
	return rows[0], nil
}

// contentStanding is standing for what only members and facilitators see.
func contentStanding(tx *gorm.DB, a Actor, groupID uuid.UUID) (groupStanding, error) {
	st, err := standing(tx, a, groupID)
	if err == nil && !st.content() {
		err = errObserver
	}
	return st, err
}

func groupSelect(a Actor) clause.Expr {
	return clause.Expr{SQL: `SELECT g.id, g.name, g.purpose, g.kind, g.schedule, g.open, g.version, g.created_at,
		COALESCE((SELECT jsonb_agg(jsonb_build_object('person_id', p.id, 'display_name', p.display_name) ORDER BY f.added_at, p.id)
			FROM group_facilitators f JOIN people p ON p.id = f.person_id WHERE f.group_id = g.id), '[]'::jsonb) AS facilitators,
		(SELECT count(*) FROM group_members m WHERE m.group_id = g.id AND m.status = 'member') AS member_count,
		CASE WHEN ? THEN 'facilitator' WHEN ? THEN 'member' ELSE 'observer' END AS my_role
		FROM groups g`, Vars: []any{a.groupFacilitator("g.id"), a.groupMember("g.id")}}
}

func getGroup(tx *gorm.DB, a Actor, id uuid.UUID) (Group, error) {
	var out []Group
	if err := tx.Raw(`? WHERE g.id = ? AND ?`, groupSelect(a), id, a.GroupScope("g.id", GroupExistence)).Scan(&out).Error; err != nil {
		return Group{}, fmt.Errorf("read group: %w", err)
	}
	if len(out) == 0 {
		return Group{}, NotFound("group")
	}
	return out[0], nil
}

// GetGroup reads a group the actor may see.
func (s *Store) GetGroup(ctx context.Context, a Actor, id uuid.UUID) (Group, error) {
	var out Group
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		out, err = getGroup(tx, a, id)
		return err
	})
	return out, err
}

// ListGroups lists the groups the actor may see, oldest first.
func (s *Store) ListGroups(ctx context.Context, a Actor, cursor string, limit int) ([]Group, string, error) {
	return listPage(ctx, s, cursor, listSpec[Group]{what: "groups",
		query: `? WHERE ?`, args: []any{groupSelect(a), a.GroupScope("g.id", GroupExistence)},
		col: "g.id", filter: ListFilter{Limit: limit}, id: func(g Group) uuid.UUID { return g.ID }})
}

func checkGroupInput(in GroupInput, create bool) error {
	if in.Name != nil && (strings.TrimSpace(*in.Name) == "") {
		return Invalid("name", "a group needs a name")
	}
	if create && in.Name == nil {
		return Invalid("name", "a group needs a name")
	}
	if in.Kind != nil && !contains(GroupKinds(), *in.Kind) {
		return Invalid("kind", "kind is one of %s", strings.Join(GroupKinds(), ", "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// CreateGroup starts a group; its creator, a worker, facilitates it.
func (s *Store) CreateGroup(ctx context.Context, a Actor, in GroupInput) (Group, error) {
	if !a.Is(RoleWorker) {
		return Group{}, Forbidden("only workers start groups (they facilitate them)")
	}
	if err := checkGroupInput(in, true); err != nil {
		return Group{}, err
	}
	id := newID()
	var out Group
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`WITH g AS (INSERT INTO groups (id, name, purpose, kind, schedule, open, created_by)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id)
			INSERT INTO group_facilitators (group_id, person_id) SELECT id, ? FROM g`,
			id, strings.TrimSpace(*in.Name), deref(in.Purpose, ""), deref(in.Kind, "other"), deref(in.Schedule, ""),
			deref(in.Open, true), a.PersonID, a.PersonID).Error
		if err != nil {
			return fmt.Errorf("insert group: %w", err)
		}
		out, err = getGroup(tx, a, id)
		return err
	})
	return out, err
}

// UpdateGroup changes a group's name, purpose, kind, schedule or openness:
// its facilitators only.
func (s *Store) UpdateGroup(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in GroupInput) (Group, error) {
	if err := checkGroupInput(in, false); err != nil {
		return Group{}, err
	}
	set := map[string]any{}
	for col, v := range map[string]*string{"purpose": in.Purpose, "kind": in.Kind, "schedule": in.Schedule} {
		if v != nil {
			set[col] = *v
		}
	}
	if in.Name != nil {
		set["name"] = strings.TrimSpace(*in.Name)
	}
	if in.Open != nil {
		set["open"] = *in.Open
	}
	var out Group
	err := s.tx(ctx, func(tx *gorm.DB) error {
		st, err := standing(tx, a, id)
		if err != nil {
			return err
		}
		if !st.Facilitator {
			return Forbidden("only the group's facilitators change it")
		}
		if err := conditionalUpdate(ctx, tx, "groups", id, pre, set, a.groupFacilitator("groups.id")); err != nil {
			return err
		}
		out, err = getGroup(tx, a, id)
		return err
	})
	return out, err
}

// GroupMember is a member as the group sees them. ClientID is set only for
// a facilitator who is on that client's care team.
type GroupMember struct {
	PersonID        uuid.UUID
	DisplayName     string
	ShareMyProgress bool
	ClientID        *uuid.UUID
	JoinedAt        *time.Time
	Version         int64
}

func memberSelect(a Actor) clause.Expr {
	return clause.Expr{SQL: `SELECT m.person_id, m.display_name, m.share_my_progress, m.joined_at, m.version,
		CASE WHEN ? AND ? THEN m.client_id END AS client_id FROM group_members m`,
		Vars: []any{a.groupFacilitator("m.group_id"), careTeamMember(column("m.client_id"), a.PersonID)}}
}

// ListGroupMembers lists a group's current members (members and facilitators
// only). A facilitator's read that shows a member is a client of their
// caseload is written to that client's access log.
func (s *Store) ListGroupMembers(ctx context.Context, a Actor, groupID uuid.UUID, cursor string, limit int) ([]GroupMember, string, error) {
	return listPage(ctx, s, cursor, listSpec[GroupMember]{what: "group members",
		query: `? WHERE m.group_id = ? AND m.status = 'member'`, args: []any{memberSelect(a), groupID},
		col: "m.person_id", filter: ListFilter{Limit: limit}, id: func(m GroupMember) uuid.UUID { return m.PersonID },
		before: func(tx *gorm.DB) error {
			_, err := contentStanding(tx, a, groupID)
			return err
		},
		after: func(tx *gorm.DB, rows []GroupMember) error { return logCaseloadSeen(tx, a, groupID, rows) }})
}

// logCaseloadSeen records, in each client's access log, that a facilitator
// saw this client of theirs is in the group.
func logCaseloadSeen(tx *gorm.DB, a Actor, groupID uuid.UUID, ms []GroupMember) error {
	var clients []uuid.UUID
	var ids []string
	for _, m := range ms {
		if m.ClientID != nil && *m.ClientID != a.ClientID {
			clients, ids = append(clients, *m.ClientID), append(ids, groupID.String())
		}
	}
	if len(clients) == 0 {
		return nil
	}
	return logAccess(tx, a, ActionRead, ResourceGroupMembership, clients, ids)
}

func getMember(tx *gorm.DB, a Actor, groupID, personID uuid.UUID) (GroupMember, error) {
	var out []GroupMember
	if err := tx.Raw(`? WHERE m.group_id = ? AND m.person_id = ? AND m.status = 'member'`, memberSelect(a), groupID, personID).Scan(&out).Error; err != nil {
		return GroupMember{}, fmt.Errorf("read group member: %w", err)
	}
	if len(out) == 0 {
		return GroupMember{}, NotFound("group member")
	}
	return out[0], nil
}

// GetGroupMember reads one current member (members and facilitators only).
func (s *Store) GetGroupMember(ctx context.Context, a Actor, groupID, personID uuid.UUID) (GroupMember, error) {
	var out GroupMember
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := contentStanding(tx, a, groupID); err != nil {
			return err
		}
		var err error
		if out, err = getMember(tx, a, groupID, personID); err != nil {
			return err
		}
		return logCaseloadSeen(tx, a, groupID, []GroupMember{out})
	})
	return out, err
}

// defaultGroupName is the name a member shows when they choose none: the
// first word of their name, or "Member" (an expression on person_id).
const defaultGroupName = `COALESCE(NULLIF(left(split_part((SELECT pn.display_name FROM people pn WHERE pn.id = person_id), ' ', 1), 60), ''), 'Member')`

// MemberPatch is what a member changes about how they show themselves.
type MemberPatch struct {
	DisplayName     *string
	ShareMyProgress *bool
}

// UpdateGroupMember changes the actor's own display name or sharing in a group.
func (s *Store) UpdateGroupMember(ctx context.Context, a Actor, groupID, personID uuid.UUID, pre Precondition, p MemberPatch) (GroupMember, error) {
	set := map[string]any{}
	if p.DisplayName != nil {
		if name := strings.TrimSpace(*p.DisplayName); name != "" {
			set["display_name"] = name
		} else {
			set["display_name"] = gorm.Expr(defaultGroupName)
		}
	}
	if p.ShareMyProgress != nil {
		set["share_my_progress"] = *p.ShareMyProgress
	}
	var out GroupMember
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := contentStanding(tx, a, groupID); err != nil {
			return err
		}
		m, err := getMember(tx, a, groupID, personID)
		if err != nil {
			return err
		}
		if m.PersonID != a.PersonID {
			return Forbidden("only the member decides how they show themselves")
		}
		var ids []uuid.UUID
		if err := tx.Raw(`SELECT id FROM group_members WHERE group_id = ? AND person_id = ?`, groupID, personID).Scan(&ids).Error; err != nil {
			return fmt.Errorf("read membership: %w", err)
		}
		if len(ids) == 0 {
			return NotFound("group member")
		}
		own := clause.Expr{SQL: "person_id = ? AND status = 'member'", Vars: []any{a.PersonID}}
		if err := conditionalUpdate(ctx, tx, "group_members", ids[0], pre, set, own); err != nil {
			return err
		}
		out, err = getMember(tx, a, groupID, personID)
		return err
	})
	return out, err
}

// RemoveGroupMember ends a membership: the member leaving (204 also when
// they already left), or a facilitator removing them with a reason the
// member sees in their invitations. Access ends with the statement: every
// group query and event delivery reads the membership as it is now.
func (s *Store) RemoveGroupMember(ctx context.Context, a Actor, groupID, personID uuid.UUID, reason string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if personID == a.PersonID {
			res := tx.Exec(`UPDATE group_members SET status = 'left', share_my_progress = false, version = version + 1, updated_at = now()
				WHERE group_id = ? AND person_id = ? AND status = 'member'`, groupID, a.PersonID)
			if res.Error != nil {
				return fmt.Errorf("leave group: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				var gone bool
				if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = ? AND person_id = ? AND status IN ('left', 'removed'))`,
					groupID, a.PersonID).Scan(&gone).Error; err != nil {
					return fmt.Errorf("read membership: %w", err)
				}
				if gone {
					return nil
				}
				if _, err := standing(tx, a, groupID); err != nil {
					return err
				}
				return NotFound("group member")
			}
			return afterMemberGone(tx, groupID, personID)
		}
		st, err := contentStanding(tx, a, groupID)
		if err != nil {
			return err
		}
		if _, err := getMember(tx, a, groupID, personID); err != nil {
			return err
		}
		if !st.Facilitator {
			return Forbidden("only a facilitator removes a member; a member may only leave")
		}
		if strings.TrimSpace(reason) == "" {
			return InvalidIn(SourceSelection, "reason", "say why: the member sees the reason")
		}
		res := tx.Exec(`UPDATE group_members SET status = 'removed', removed_reason = ?, share_my_progress = false,
				version = version + 1, updated_at = now()
			WHERE group_id = ? AND person_id = ? AND status = 'member' AND ?`, strings.TrimSpace(reason), groupID, personID,
			a.groupFacilitator("group_members.group_id"))
		if res.Error != nil {
			return fmt.Errorf("remove member: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return NotFound("group member")
		}
		return afterMemberGone(tx, groupID, personID)
	})
}

// afterMemberGone takes a former member out of the group's goals and tells
// those who remain.
func afterMemberGone(tx *gorm.DB, groupID, personID uuid.UUID) error {
	if err := tx.Exec(`DELETE FROM group_goal_participants WHERE group_id = ? AND person_id = ?`, groupID, personID).Error; err != nil {
		return fmt.Errorf("leave group goals: %w", err)
	}
	return emitGroupEvent(tx, EventGroupMemberLeft, groupID, personID, GroupMemberEventData{GroupID: groupID, PersonID: personID})
}

// GroupInvitation is a client's invitation to (and then membership of) a group.
type GroupInvitation struct {
	ID            uuid.UUID
	GroupID       uuid.UUID
	GroupName     string
	Status        string
	RemovedReason string
	CreatedAt     time.Time
}

const invitationSelect = `SELECT m.id, m.group_id, g.name AS group_name, m.status, m.removed_reason, m.created_at
	FROM group_members m JOIN groups g ON g.id = m.group_id`

// InviteToGroup invites a client of the facilitator's caseload. The client
// decides (accept or decline); a client who declined, left or was removed
// can be invited again.
func (s *Store) InviteToGroup(ctx context.Context, a Actor, groupID, clientID uuid.UUID) (GroupInvitation, error) {
	var out GroupInvitation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		st, err := standing(tx, a, groupID)
		if err != nil {
			return err
		}
		if !st.Facilitator {
			return Forbidden("only the group's facilitators invite")
		}
		var open, onCaseload bool
		if err := tx.Raw(`SELECT g.open, ? AS on_caseload FROM groups g WHERE g.id = ?`,
			careTeamMember(clientID, a.PersonID), groupID).Row().Scan(&open, &onCaseload); err != nil {
			return fmt.Errorf("read group: %w", err)
		}
		if !onCaseload {
			return Invalid("client_id", "invite clients of your own caseload (you are on their care team)")
		}
		if !open {
			return Errorf(KindConflict, "the group is closed to new members; open it first")
		}
		id := newID()
		var ids []uuid.UUID
		err = tx.Raw(`INSERT INTO group_members AS m (group_id, person_id, client_id, id, status, invited_by)
			SELECT ?, c.person_id, c.id, ?, 'invited', ? FROM clients c WHERE c.id = ?
			ON CONFLICT (group_id, person_id) DO UPDATE SET status = 'invited', id = EXCLUDED.id, invited_by = EXCLUDED.invited_by,
				removed_reason = '', version = m.version + 1, updated_at = now(), created_at = now()
			WHERE m.status IN ('declined', 'left', 'removed')
			RETURNING m.id`, groupID, id, a.PersonID, clientID).Scan(&ids).Error
		if err != nil {
			return fmt.Errorf("invite: %w", err)
		}
		if len(ids) == 0 {
			return Errorf(KindConflict, "the client is already invited to or a member of this group")
		}
		if err := tx.Raw(invitationSelect+` WHERE m.id = ?`, id).Scan(&out).Error; err != nil {
			return fmt.Errorf("read invitation: %w", err)
		}
		if err := logAccess(tx, a, ActionWrite, ResourceGroupMembership, []uuid.UUID{clientID}, []string{groupID.String()}); err != nil {
			return err
		}
		return emitEvent(tx, Event{Type: EventGroupInvitation, ClientID: clientID, SubjectID: id,
			Data: GroupInvitationEventData{InvitationID: id, GroupID: groupID}},
			clause.Expr{SQL: `SELECT person_id FROM clients WHERE id = ?`, Vars: []any{clientID}})
	})
	return out, err
}

// myInvitations is the condition on membership rows under m that are the actor's own.
func (a Actor) myInvitations() clause.Expr {
	if a.ClientID == uuid.Nil || !a.Is(RoleClient) {
		return clause.Expr{SQL: "FALSE"}
	}
	own := clause.Expr{SQL: "m.person_id = ?", Vars: []any{a.PersonID}}
	if a.AppID == "" || a.ignoreRevocations {
		return own
	}
	return clause.Expr{SQL: "(? AND ?)", Vars: []any{own, a.appAllowedBy(a.ClientID)}}
}

// ListMyGroupInvitations lists the actor's invitations with their state
// (invited, declined, member, left, removed with the reason), oldest first.
func (s *Store) ListMyGroupInvitations(ctx context.Context, a Actor, cursor string, limit int) ([]GroupInvitation, string, error) {
	return listPage(ctx, s, cursor, listSpec[GroupInvitation]{what: "group invitations",
		query: invitationSelect + ` WHERE ?`, args: []any{a.myInvitations()},
		col: "m.id", filter: ListFilter{Limit: limit}, id: func(i GroupInvitation) uuid.UUID { return i.ID }})
}

// AnswerGroupInvitation accepts (with the name to show the group) or
// declines an invitation: the invited client only.
func (s *Store) AnswerGroupInvitation(ctx context.Context, a Actor, id uuid.UUID, accept bool, displayName *string) (GroupInvitation, error) {
	var out GroupInvitation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []GroupInvitation
		if err := tx.Raw(invitationSelect+` WHERE m.id = ? AND ?`, id, a.myInvitations()).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read invitation: %w", err)
		}
		if len(rows) == 0 {
			return NotFound("group invitation")
		}
		var res *gorm.DB
		if accept {
			name := ""
			if displayName != nil {
				name = strings.TrimSpace(*displayName)
			}
			res = tx.Exec(`UPDATE group_members m SET status = 'member', joined_at = now(), version = m.version + 1, updated_at = now(),
					display_name = COALESCE(NULLIF(?, ''), `+defaultGroupName+`)
				WHERE m.id = ? AND m.person_id = ? AND m.status = 'invited'`, name, id, a.PersonID)
		} else {
			res = tx.Exec(`UPDATE group_members SET status = 'declined', version = version + 1, updated_at = now()
				WHERE id = ? AND person_id = ? AND status = 'invited'`, id, a.PersonID)
		}
		if res.Error != nil {
			return fmt.Errorf("answer invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(KindConflict, "the invitation is %s, not open for an answer", rows[0].Status)
		}
		if err := tx.Raw(invitationSelect+` WHERE m.id = ?`, id).Scan(&out).Error; err != nil {
			return fmt.Errorf("read invitation: %w", err)
		}
		if !accept {
			return nil
		}
		return emitGroupEvent(tx, EventGroupMemberJoined, out.GroupID, a.PersonID, GroupMemberEventData{GroupID: out.GroupID, PersonID: a.PersonID})
	})
	return out, err
}

// Group event data: ids and counts only, never what people wrote.
type (
	// GroupInvitationEventData is the data of group.invitation.
	GroupInvitationEventData struct {
		InvitationID uuid.UUID `json:"invitation_id"`
		GroupID      uuid.UUID `json:"group_id"`
	}
	// GroupMemberEventData is the data of group.member.joined and group.member.left.
	GroupMemberEventData struct {
		GroupID  uuid.UUID `json:"group_id"`
		PersonID uuid.UUID `json:"person_id" doc:"Who joined or left (or was removed)"`
	}
	// GroupPostEventData is the data of group.post.created and group.post.updated.
	GroupPostEventData struct {
		GroupID uuid.UUID `json:"group_id"`
		PostID  uuid.UUID `json:"post_id"`
		Change  string    `json:"change" rule:"group_post.change" doc:"What happened to the post"`
	}
	// GroupGoalEventData is the data of group.goal.progress.
	GroupGoalEventData struct {
		GroupID      uuid.UUID `json:"group_id"`
		GroupGoalID  uuid.UUID `json:"group_goal_id"`
		Participants int64     `json:"participants" rule:"count" doc:"Members taking part now"`
	}
	// GroupSessionEventData is the data of group.session.scheduled.
	GroupSessionEventData struct {
		GroupID   uuid.UUID `json:"group_id"`
		SessionID uuid.UUID `json:"session_id"`
		StartsAt  time.Time `json:"starts_at"`
	}
)

// emitGroupEvent writes an event keyed by group_id, addressed to the
// group's current members and facilitators; delivery checks them again
// (eventSelect), so whoever leaves stops hearing at once.
func emitGroupEvent(tx *gorm.DB, typ string, groupID, subject uuid.UUID, data any) error {
	return emitKeyed(tx, Event{Type: typ, SubjectID: subject, Data: data}, uuid.Nil, groupID,
		clause.Expr{SQL: `SELECT person_id FROM group_members WHERE group_id = ? AND status = 'member'
			UNION SELECT person_id FROM group_facilitators WHERE group_id = ?`, Vars: []any{groupID, groupID}})
}

// GroupGoal is a shared goal with its aggregate progress.
type GroupGoal struct {
	ID           uuid.UUID
	GroupID      uuid.UUID
	Title        string
	ProposedBy   uuid.UUID
	CreatedAt    time.Time
	Participants int64
	Reporting    int64
	Improving    *int64
	Steady       *int64
	Worsening    *int64
	MeanLatest   *float64
	TakingPart   bool
}

// groupGoalSelect reads group goals with their aggregate: of the
// participants who checked in, how many rose, held or fell between their
// last two check-ins (one check-in: steady), and the mean of their latest.
func groupGoalSelect(a Actor) clause.Expr {
	return clause.Expr{SQL: `SELECT gg.id, gg.group_id, gg.title, gg.proposed_by, gg.created_at,
		(SELECT count(*) FROM group_goal_participants p WHERE p.group_goal_id = gg.id) AS participants,
		agg.reporting, agg.improving, agg.steady, agg.worsening, round(agg.mean_latest, 1)::float8 AS mean_latest,
		EXISTS (SELECT 1 FROM group_goal_participants p WHERE p.group_goal_id = gg.id AND p.person_id = ?) AS taking_part
		FROM group_goals gg LEFT JOIN LATERAL (
			SELECT count(*) AS reporting,
				count(*) FILTER (WHERE l.prev IS NOT NULL AND l.rating > l.prev) AS improving,
				count(*) FILTER (WHERE l.prev IS NULL OR l.rating = l.prev) AS steady,
				count(*) FILTER (WHERE l.rating < l.prev) AS worsening,
				avg(l.rating) AS mean_latest
			FROM (SELECT
				(SELECT c.rating FROM group_goal_check_ins c WHERE c.group_goal_id = gg.id AND c.person_id = p.person_id ORDER BY c.id DESC LIMIT 1) AS rating,
				(SELECT c.rating FROM group_goal_check_ins c WHERE c.group_goal_id = gg.id AND c.person_id = p.person_id ORDER BY c.id DESC OFFSET 1 LIMIT 1) AS prev
				FROM group_goal_participants p WHERE p.group_goal_id = gg.id) l
			WHERE l.rating IS NOT NULL) agg ON TRUE`, Vars: []any{a.PersonID}}
}

// suppress hides the aggregate while fewer than GroupAggregateMin take part
// or have checked in: below that, one person's ratings could be read off it.
func (g *GroupGoal) suppress() {
	if g.Participants < GroupAggregateMin || g.Reporting < GroupAggregateMin {
		g.Improving, g.Steady, g.Worsening, g.MeanLatest = nil, nil, nil, nil
	}
}

func getGroupGoal(tx *gorm.DB, a Actor, id uuid.UUID) (GroupGoal, groupStanding, error) {
	var gid []uuid.UUID
	if err := tx.Raw(`SELECT group_id FROM group_goals WHERE id = ?`, id).Scan(&gid).Error; err != nil {
		return GroupGoal{}, groupStanding{}, fmt.Errorf("read group goal: %w", err)
	}
	if len(gid) == 0 {
		return GroupGoal{}, groupStanding{}, NotFound("group goal")
	}
	st, err := standing(tx, a, gid[0])
	if IsKind(err, KindNotFound) {
		return GroupGoal{}, st, NotFound("group goal")
	}
	if err == nil && !st.content() {
		err = errObserver
	}
	if err != nil {
		return GroupGoal{}, st, err
	}
	var out []GroupGoal
	if err := tx.Raw(`? WHERE gg.id = ? AND ?`, groupGoalSelect(a), id, a.GroupScope("gg.group_id", GroupContent)).Scan(&out).Error; err != nil {
		return GroupGoal{}, st, fmt.Errorf("read group goal: %w", err)
	}
	if len(out) == 0 {
		return GroupGoal{}, st, NotFound("group goal")
	}
	out[0].suppress()
	return out[0], st, nil
}

// GetGroupGoal reads a group goal with its aggregate progress.
func (s *Store) GetGroupGoal(ctx context.Context, a Actor, id uuid.UUID) (GroupGoal, error) {
	var out GroupGoal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		out, _, err = getGroupGoal(tx, a, id)
		return err
	})
	return out, err
}

// ListGroupGoals lists a group's shared goals, oldest first.
func (s *Store) ListGroupGoals(ctx context.Context, a Actor, groupID uuid.UUID, cursor string, limit int) ([]GroupGoal, string, error) {
	out, next, err := listPage(ctx, s, cursor, listSpec[GroupGoal]{what: "group goals",
		query: `? WHERE gg.group_id = ? AND ?`, args: []any{groupGoalSelect(a), groupID, a.GroupScope("gg.group_id", GroupContent)},
		col: "gg.id", filter: ListFilter{Limit: limit}, id: func(g GroupGoal) uuid.UUID { return g.ID },
		before: func(tx *gorm.DB) error {
			_, err := contentStanding(tx, a, groupID)
			return err
		}})
	for i := range out {
		out[i].suppress()
	}
	return out, next, err
}

// CreateGroupGoal proposes a shared goal: any member or facilitator.
func (s *Store) CreateGroupGoal(ctx context.Context, a Actor, groupID uuid.UUID, title string) (GroupGoal, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return GroupGoal{}, Invalid("title", "a goal needs a title")
	}
	var out GroupGoal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := contentStanding(tx, a, groupID); err != nil {
			return err
		}
		id := newID()
		res := tx.Exec(`INSERT INTO group_goals (group_id, id, title, proposed_by) SELECT g.id, ?, ?, ? FROM groups g WHERE g.id = ? AND ?`,
			id, title, a.PersonID, groupID, a.GroupScope("g.id", GroupContent))
		if res.Error != nil {
			return fmt.Errorf("insert group goal: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return NotFound("group")
		}
		var err error
		out, _, err = getGroupGoal(tx, a, id)
		return err
	})
	return out, err
}

// JoinGroupGoal opts the actor, a member, into a group goal, optionally
// linking one of their own goals (seen by no one else); joining again
// changes the link.
func (s *Store) JoinGroupGoal(ctx context.Context, a Actor, id uuid.UUID, link *uuid.UUID) (GroupGoal, error) {
	var out GroupGoal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		g, st, err := getGroupGoal(tx, a, id)
		if err != nil {
			return err
		}
		if !st.Member {
			return Forbidden("members take part in group goals; facilitators guide them")
		}
		if link != nil {
			var ok bool
			if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM goals g WHERE g.id = ? AND ?)`, *link, a.ownRecord("g.client_id")).Scan(&ok).Error; err != nil {
				return fmt.Errorf("read linked goal: %w", err)
			}
			if !ok {
				return Invalid("goal_id", "link one of your own goals")
			}
		}
		res := tx.Exec(`INSERT INTO group_goal_participants (group_id, group_goal_id, person_id, linked_goal_id)
			SELECT gg.group_id, gg.id, ?, ? FROM group_goals gg WHERE gg.id = ? AND ?
			ON CONFLICT (group_goal_id, person_id) DO UPDATE SET linked_goal_id = EXCLUDED.linked_goal_id`,
			a.PersonID, link, id, a.groupMember("gg.group_id"))
		if res.Error != nil {
			return fmt.Errorf("join group goal: %w", res.Error)
		}
		if out, _, err = getGroupGoal(tx, a, id); err != nil {
			return err
		}
		if g.TakingPart {
			return nil
		}
		return emitGroupEvent(tx, EventGroupGoalProgress, out.GroupID, id,
			GroupGoalEventData{GroupID: out.GroupID, GroupGoalID: id, Participants: out.Participants})
	})
	return out, err
}

// LeaveGroupGoal opts the actor out of a group goal (idempotent); their
// check-ins stop counting.
func (s *Store) LeaveGroupGoal(ctx context.Context, a Actor, id uuid.UUID) (GroupGoal, error) {
	var out GroupGoal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		_, st, err := getGroupGoal(tx, a, id)
		if err != nil {
			return err
		}
		if !st.Member {
			return Forbidden("members take part in group goals; facilitators guide them")
		}
		res := tx.Exec(`DELETE FROM group_goal_participants WHERE group_goal_id = ? AND person_id = ?`, id, a.PersonID)
		if res.Error != nil {
			return fmt.Errorf("leave group goal: %w", res.Error)
		}
		if out, _, err = getGroupGoal(tx, a, id); err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return emitGroupEvent(tx, EventGroupGoalProgress, out.GroupID, id,
			GroupGoalEventData{GroupID: out.GroupID, GroupGoalID: id, Participants: out.Participants})
	})
	return out, err
}

// GroupCheckIn is a participant's check-in on a group goal.
type GroupCheckIn struct {
	ID          uuid.UUID
	PersonID    uuid.UUID
	DisplayName string
	Rating      int
	Note        string
	CreatedAt   time.Time
}

const groupCheckInSelect = `SELECT c.id, c.person_id, m.display_name, c.rating, c.note, c.created_at
	FROM group_goal_check_ins c JOIN group_members m ON m.group_id = c.group_id AND m.person_id = c.person_id`

// ListGroupCheckIns lists the actor's own check-ins on a group goal and
// those of current members who chose share_my_progress, oldest first.
func (s *Store) ListGroupCheckIns(ctx context.Context, a Actor, id uuid.UUID, cursor string, limit int) ([]GroupCheckIn, string, error) {
	return listPage(ctx, s, cursor, listSpec[GroupCheckIn]{what: "group check-ins",
		query: groupCheckInSelect + ` WHERE c.group_goal_id = ? AND (c.person_id = ? OR (m.status = 'member' AND m.share_my_progress))`,
		args:  []any{id, a.PersonID},
		col:   "c.id", filter: ListFilter{Limit: limit}, id: func(c GroupCheckIn) uuid.UUID { return c.ID },
		before: func(tx *gorm.DB) error {
			_, _, err := getGroupGoal(tx, a, id)
			return err
		}})
}

// AddGroupCheckIn records the actor's check-in on a group goal they take part in.
func (s *Store) AddGroupCheckIn(ctx context.Context, a Actor, id uuid.UUID, rating int, note string) (GroupCheckIn, error) {
	if rating < MinCheckInRating || rating > MaxCheckInRating {
		return GroupCheckIn{}, Invalid("rating", "a rating is %d to %d", MinCheckInRating, MaxCheckInRating)
	}
	var out GroupCheckIn
	err := s.tx(ctx, func(tx *gorm.DB) error {
		g, st, err := getGroupGoal(tx, a, id)
		if err != nil {
			return err
		}
		if !st.Member {
			return Forbidden("members check in on group goals; facilitators guide them")
		}
		cid := newID()
		res := tx.Exec(`INSERT INTO group_goal_check_ins (group_id, group_goal_id, id, person_id, rating, note)
			SELECT p.group_id, p.group_goal_id, ?, p.person_id, ?, ? FROM group_goal_participants p
			WHERE p.group_goal_id = ? AND p.person_id = ? AND ?`, cid, rating, note, id, a.PersonID, a.groupMember("p.group_id"))
		if res.Error != nil {
			return fmt.Errorf("insert group check-in: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(KindConflict, "take part in the goal first (POST /v1/group-goals/%s/join)", id)
		}
		if err := tx.Raw(groupCheckInSelect+` WHERE c.id = ?`, cid).Scan(&out).Error; err != nil {
			return fmt.Errorf("read group check-in: %w", err)
		}
		return emitGroupEvent(tx, EventGroupGoalProgress, g.GroupID, id,
			GroupGoalEventData{GroupID: g.GroupID, GroupGoalID: id, Participants: g.Participants})
	})
	return out, err
}

// ReplayForGroup re-checks a request that created something in a group
// (or the group itself): the actor must still see the group's content.
func (s *Store) ReplayForGroup(ctx context.Context, a Actor, groupID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		_, err := contentStanding(tx, a, groupID)
		return err
	})
}
