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

// GroupPost is a post on a group's mutual-aid board.
type GroupPost struct {
	ID           uuid.UUID
	GroupID      uuid.UUID
	AuthorID     uuid.UUID
	AuthorName   string
	Kind         string
	Body         string
	Resolved     bool
	Hidden       bool
	HiddenReason string
	ReplyCount   int
	Reports      *int64
	Version      int64
	CreatedAt    time.Time
	Replies      JSONValue[[]GroupReply]
}

// GroupReply is a reply to a post.
type GroupReply struct {
	ID         uuid.UUID `json:"id"`
	PostID     uuid.UUID `json:"post_id"`
	AuthorID   uuid.UUID `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// groupName is how person (a column) shows in group g (a column): their
// member display name, else (a facilitator) their name.
func groupName(g, person string) string {
	return `COALESCE((SELECT gm.display_name FROM group_members gm WHERE gm.group_id = ` + g + ` AND gm.person_id = ` + person + `),
		(SELECT pp.display_name FROM people pp WHERE pp.id = ` + person + `), '')`
}

// postVisible holds for posts under alias the actor may read: the group's
// content scope, and a hidden post only for its author and the facilitators.
func postVisible(a Actor, alias string) clause.Expr {
	return clause.Expr{SQL: `(? AND (NOT ` + alias + `.hidden OR ` + alias + `.author_id = ? OR ?))`,
		Vars: []any{a.GroupScope(alias+".group_id", GroupContent), a.PersonID, a.groupFacilitator(alias + ".group_id")}}
}

func postSelect(a Actor, withReplies bool) clause.Expr {
	replies := `'[]'::jsonb`
	if withReplies {
		replies = `COALESCE((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'post_id', r.post_id, 'author_id', r.author_id,
			'author_name', ` + groupName("r.group_id", "r.author_id") + `, 'body', r.body, 'created_at', r.created_at) ORDER BY r.id)
			FROM group_post_replies r WHERE r.post_id = p.id), '[]'::jsonb)`
	}
	return clause.Expr{SQL: `SELECT p.id, p.group_id, p.author_id, ` + groupName("p.group_id", "p.author_id") + ` AS author_name,
		p.kind, p.body, p.resolved, p.hidden,
		CASE WHEN p.author_id = ? OR ? THEN p.hidden_reason ELSE '' END AS hidden_reason,
		p.reply_count, p.version, p.created_at,
		CASE WHEN ? THEN (SELECT count(*) FROM group_post_reports rp WHERE rp.post_id = p.id) END AS reports,
		` + replies + ` AS replies
		FROM group_posts p`, Vars: []any{a.PersonID, a.groupFacilitator("p.group_id"), a.groupFacilitator("p.group_id")}}
}

// postStanding finds the post's group and how the actor stands in it: 404
// unless the actor may read the post, 403 for an administrator.
func postStanding(tx *gorm.DB, a Actor, postID uuid.UUID) (uuid.UUID, groupStanding, error) {
	var gid []uuid.UUID
	if err := tx.Raw(`SELECT p.group_id FROM group_posts p WHERE p.id = ? AND (NOT p.hidden OR p.author_id = ? OR ?)`,
		postID, a.PersonID, a.groupFacilitator("p.group_id")).Scan(&gid).Error; err != nil {
		return uuid.Nil, groupStanding{}, fmt.Errorf("read post: %w", err)
	}
	if len(gid) == 0 {
		return uuid.Nil, groupStanding{}, NotFound("group post")
	}
	st, err := standing(tx, a, gid[0])
	if IsKind(err, KindNotFound) {
		return uuid.Nil, st, NotFound("group post")
	}
	if err == nil && !st.content() {
		err = errObserver
	}
	return gid[0], st, err
}

func getPost(tx *gorm.DB, a Actor, id uuid.UUID) (GroupPost, error) {
	var out []GroupPost
	if err := tx.Raw(`? WHERE p.id = ? AND ?`, postSelect(a, true), id, postVisible(a, "p")).Scan(&out).Error; err != nil {
		return GroupPost{}, fmt.Errorf("read post: %w", err)
	}
	if len(out) == 0 {
		return GroupPost{}, NotFound("group post")
	}
	return out[0], nil
}

// GetGroupPost reads one post with its replies.
func (s *Store) GetGroupPost(ctx context.Context, a Actor, id uuid.UUID) (GroupPost, error) {
	var out GroupPost
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := postStanding(tx, a, id); err != nil {
			return err
		}
		var err error
		out, err = getPost(tx, a, id)
		return err
	})
	return out, err
}

// ListGroupPosts lists a group's board, newest first, without replies.
func (s *Store) ListGroupPosts(ctx context.Context, a Actor, groupID uuid.UUID, cursor string, limit int) ([]GroupPost, string, error) {
	return listPage(ctx, s, cursor, listSpec[GroupPost]{what: "posts",
		query: `? WHERE p.group_id = ? AND ?`, args: []any{postSelect(a, false), groupID, postVisible(a, "p")},
		col: "p.id", filter: ListFilter{Limit: limit, Desc: true}, id: func(p GroupPost) uuid.UUID { return p.ID },
		before: func(tx *gorm.DB) error {
			_, err := contentStanding(tx, a, groupID)
			return err
		}})
}

// CreateGroupPost posts a message, offer or ask: any member or facilitator.
func (s *Store) CreateGroupPost(ctx context.Context, a Actor, groupID uuid.UUID, kind, body string) (GroupPost, error) {
	if !contains(GroupPostKinds(), kind) {
		return GroupPost{}, Invalid("kind", "kind is one of %s", strings.Join(GroupPostKinds(), ", "))
	}
	if strings.TrimSpace(body) == "" {
		return GroupPost{}, Invalid("body", "write something")
	}
	var out GroupPost
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := contentStanding(tx, a, groupID); err != nil {
			return err
		}
		id := newID()
		res := tx.Exec(`INSERT INTO group_posts (group_id, id, author_id, kind, body) SELECT g.id, ?, ?, ?, ? FROM groups g WHERE g.id = ? AND ?`,
			id, a.PersonID, kind, body, groupID, a.GroupScope("g.id", GroupContent))
		if res.Error != nil {
			return fmt.Errorf("insert post: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return NotFound("group")
		}
		var err error
		if out, err = getPost(tx, a, id); err != nil {
			return err
		}
		return emitGroupEvent(tx, EventGroupPostCreated, groupID, id, GroupPostEventData{GroupID: groupID, PostID: id, Change: "created"})
	})
	return out, err
}

// PostPatch changes a post: resolved (its author, offers and asks), hidden
// with a reason (a facilitator).
type PostPatch struct {
	Resolved     *bool
	Hidden       *bool
	HiddenReason *string
}

// UpdateGroupPost applies p under pre.
func (s *Store) UpdateGroupPost(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p PostPatch) (GroupPost, error) {
	var out GroupPost
	err := s.tx(ctx, func(tx *gorm.DB) error {
		_, st, err := postStanding(tx, a, id)
		if err != nil {
			return err
		}
		cur, err := getPost(tx, a, id)
		if err != nil {
			return err
		}
		set := map[string]any{}
		var conds []string
		var vars []any
		change := ""
		if p.Resolved != nil {
			if cur.AuthorID != a.PersonID {
				return Forbidden("only the author marks their offer or ask resolved")
			}
			if cur.Kind == GroupPostMessage {
				return Invalid("resolved", "only offers and asks are resolved")
			}
			set["resolved"] = *p.Resolved
			conds, vars = append(conds, "author_id = ?"), append(vars, a.PersonID)
			change = "resolved"
		}
		if p.Hidden != nil || p.HiddenReason != nil {
			if !st.Facilitator {
				return Forbidden("only a facilitator hides a post")
			}
			hide := deref(p.Hidden, cur.Hidden)
			reason := strings.TrimSpace(deref(p.HiddenReason, cur.HiddenReason))
			if hide && reason == "" {
				return Invalid("hidden_reason", "say why the post is hidden: its author sees the reason")
			}
			if !hide {
				reason = ""
			}
			set["hidden"], set["hidden_reason"] = hide, reason
			conds, vars = append(conds, "?"), append(vars, a.groupFacilitator("group_posts.group_id"))
			change = map[bool]string{true: "hidden", false: "unhidden"}[hide]
		}
		scope := clause.Expr{SQL: "TRUE"}
		if len(conds) > 0 {
			scope = clause.Expr{SQL: strings.Join(conds, " AND "), Vars: vars}
		}
		if err := conditionalUpdate(ctx, tx, "group_posts", id, pre, set, scope); err != nil {
			if IsKind(err, KindNotFound) {
				return NotFound("group post")
			}
			return err
		}
		if out, err = getPost(tx, a, id); err != nil {
			return err
		}
		if change == "" {
			return nil
		}
		return emitGroupEvent(tx, EventGroupPostUpdated, out.GroupID, id, GroupPostEventData{GroupID: out.GroupID, PostID: id, Change: change})
	})
	return out, err
}

// ReplyToGroupPost adds a reply (at most MaxGroupPostReplies per post).
func (s *Store) ReplyToGroupPost(ctx context.Context, a Actor, postID uuid.UUID, body string) (GroupReply, error) {
	if strings.TrimSpace(body) == "" {
		return GroupReply{}, Invalid("body", "write something")
	}
	var out GroupReply
	err := s.tx(ctx, func(tx *gorm.DB) error {
		groupID, _, err := postStanding(tx, a, postID)
		if err != nil {
			return err
		}
		res := tx.Exec(`UPDATE group_posts p SET reply_count = reply_count + 1, version = version + 1, updated_at = now()
			WHERE p.id = ? AND p.reply_count < ? AND ?`, postID, MaxGroupPostReplies, postVisible(a, "p"))
		if res.Error != nil {
			return fmt.Errorf("count reply: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(KindConflict, "the post has %d replies, the most it takes; start a new post", MaxGroupPostReplies)
		}
		id := newID()
		if err := tx.Exec(`INSERT INTO group_post_replies (group_id, post_id, id, author_id, body) VALUES (?, ?, ?, ?, ?)`,
			groupID, postID, id, a.PersonID, body).Error; err != nil {
			return fmt.Errorf("insert reply: %w", err)
		}
		if err := tx.Raw(`SELECT r.id, r.post_id, r.author_id, `+groupName("r.group_id", "r.author_id")+` AS author_name, r.body, r.created_at
			FROM group_post_replies r WHERE r.id = ?`, id).Scan(&out).Error; err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
		return emitGroupEvent(tx, EventGroupPostUpdated, groupID, postID, GroupPostEventData{GroupID: groupID, PostID: postID, Change: "replied"})
	})
	return out, err
}

// GroupPostReport is a member's report of a post to the facilitators.
type GroupPostReport struct {
	PostID    uuid.UUID
	Reason    string
	CreatedAt time.Time
}

// ReportGroupPost reports a post to the group's facilitators: members only
// (facilitators hide posts instead). Reporting again updates the reason.
func (s *Store) ReportGroupPost(ctx context.Context, a Actor, postID uuid.UUID, reason string) (GroupPostReport, error) {
	var out GroupPostReport
	err := s.tx(ctx, func(tx *gorm.DB) error {
		groupID, st, err := postStanding(tx, a, postID)
		if err != nil {
			return err
		}
		if !st.Member {
			return Forbidden("members report posts; facilitators hide them")
		}
		return tx.Raw(`INSERT INTO group_post_reports AS r (group_id, post_id, person_id, reason) VALUES (?, ?, ?, ?)
			ON CONFLICT (post_id, person_id) DO UPDATE SET reason = EXCLUDED.reason
			RETURNING r.post_id, r.reason, r.created_at`, groupID, postID, a.PersonID, strings.TrimSpace(reason)).Scan(&out).Error
	})
	return out, err
}

// GroupSession is a scheduled meeting of a group, with counts only.
type GroupSession struct {
	ID           uuid.UUID
	GroupID      uuid.UUID
	StartsAt     time.Time
	Place        string
	Link         string
	Yes          int64
	No           int64
	Maybe        int64
	Attended     int64
	MyResponse   *string
	MyAttendance *bool
	CreatedAt    time.Time
}

func sessionSelect(a Actor) clause.Expr {
	return clause.Expr{SQL: `SELECT s.id, s.group_id, s.starts_at, s.place, s.link, s.created_at,
		count(sp.*) FILTER (WHERE sp.response = 'yes') AS yes,
		count(sp.*) FILTER (WHERE sp.response = 'no') AS no,
		count(sp.*) FILTER (WHERE sp.response = 'maybe') AS maybe,
		count(sp.*) FILTER (WHERE sp.attended) AS attended,
		max(sp.response) FILTER (WHERE sp.person_id = ?) AS my_response,
		bool_or(sp.attended) FILTER (WHERE sp.person_id = ?) AS my_attendance
		FROM group_sessions s LEFT JOIN group_session_people sp ON sp.session_id = s.id`, Vars: []any{a.PersonID, a.PersonID}}
}

func getSession(tx *gorm.DB, a Actor, id uuid.UUID) (GroupSession, error) {
	var out []GroupSession
	if err := tx.Raw(`? WHERE s.id = ? AND ? GROUP BY s.id`, sessionSelect(a), id, a.GroupScope("s.group_id", GroupContent)).Scan(&out).Error; err != nil {
		return GroupSession{}, fmt.Errorf("read session: %w", err)
	}
	if len(out) == 0 {
		return GroupSession{}, NotFound("group session")
	}
	return out[0], nil
}

// sessionStanding finds a session's group and the actor's standing in it.
func sessionStanding(tx *gorm.DB, a Actor, id uuid.UUID) (uuid.UUID, groupStanding, error) {
	var gid []uuid.UUID
	if err := tx.Raw(`SELECT group_id FROM group_sessions WHERE id = ?`, id).Scan(&gid).Error; err != nil {
		return uuid.Nil, groupStanding{}, fmt.Errorf("read session: %w", err)
	}
	if len(gid) == 0 {
		return uuid.Nil, groupStanding{}, NotFound("group session")
	}
	st, err := standing(tx, a, gid[0])
	if IsKind(err, KindNotFound) {
		return uuid.Nil, st, NotFound("group session")
	}
	if err == nil && !st.content() {
		err = errObserver
	}
	return gid[0], st, err
}

// ListGroupSessions lists a group's sessions in order of creation.
func (s *Store) ListGroupSessions(ctx context.Context, a Actor, groupID uuid.UUID, cursor string, limit int) ([]GroupSession, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var out []GroupSession
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := contentStanding(tx, a, groupID); err != nil {
			return err
		}
		q, args := `? WHERE s.group_id = ? AND ?`, []any{sessionSelect(a), groupID, a.GroupScope("s.group_id", GroupContent)}
		if after != uuid.Nil {
			q, args = q+` AND s.id > ?`, append(args, after)
		}
		q, args = q+` GROUP BY s.id ORDER BY s.id LIMIT ?`, append(args, limit+1)
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, func(s GroupSession) uuid.UUID { return s.ID })
	return out, next, nil
}

// SessionInput is a session to schedule.
type SessionInput struct {
	StartsAt    time.Time
	Place, Link string
}

// CreateGroupSession schedules a session: facilitators only.
func (s *Store) CreateGroupSession(ctx context.Context, a Actor, groupID uuid.UUID, in SessionInput) (GroupSession, error) {
	if in.StartsAt.IsZero() {
		return GroupSession{}, Invalid("starts_at", "when does it start?")
	}
	var out GroupSession
	err := s.tx(ctx, func(tx *gorm.DB) error {
		st, err := contentStanding(tx, a, groupID)
		if err != nil {
			return err
		}
		if !st.Facilitator {
			return Forbidden("facilitators schedule sessions")
		}
		id := newID()
		res := tx.Exec(`INSERT INTO group_sessions (group_id, id, starts_at, place, link, created_by) SELECT g.id, ?, ?, ?, ?, ? FROM groups g
			WHERE g.id = ? AND ?`, id, in.StartsAt.UTC(), in.Place, in.Link, a.PersonID, groupID, a.groupFacilitator("g.id"))
		if res.Error != nil {
			return fmt.Errorf("insert session: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return NotFound("group")
		}
		if out, err = getSession(tx, a, id); err != nil {
			return err
		}
		return emitGroupEvent(tx, EventGroupSessionScheduled, groupID, id,
			GroupSessionEventData{GroupID: groupID, SessionID: id, StartsAt: out.StartsAt.UTC()})
	})
	return out, err
}

// RSVP answers a session invitation: the actor, a member, only. It is a
// membership-style PUT (idempotent).
func (s *Store) RSVP(ctx context.Context, a Actor, sessionID uuid.UUID, response string) (GroupSession, error) {
	if !contains(RSVPResponses(), response) {
		return GroupSession{}, Invalid("response", "response is one of %s", strings.Join(RSVPResponses(), ", "))
	}
	var out GroupSession
	err := s.tx(ctx, func(tx *gorm.DB) error {
		_, st, err := sessionStanding(tx, a, sessionID)
		if err != nil {
			return err
		}
		if !st.Member {
			return Forbidden("members answer; facilitators run the session")
		}
		if err := tx.Exec(`INSERT INTO group_session_people (group_id, session_id, person_id, response)
			SELECT s.group_id, s.id, ?, ? FROM group_sessions s WHERE s.id = ? AND ?
			ON CONFLICT (session_id, person_id) DO UPDATE SET response = EXCLUDED.response, updated_at = now()`,
			a.PersonID, response, sessionID, a.groupMember("s.group_id")).Error; err != nil {
			return fmt.Errorf("rsvp: %w", err)
		}
		out, err = getSession(tx, a, sessionID)
		return err
	})
	return out, err
}

// Attendance is one member's attendance of a session.
type Attendance struct {
	SessionID uuid.UUID
	PersonID  uuid.UUID
	Attended  bool
}

// RecordAttendance records whether a current member attended: facilitators only.
func (s *Store) RecordAttendance(ctx context.Context, a Actor, sessionID, personID uuid.UUID, attended bool) (Attendance, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		_, st, err := sessionStanding(tx, a, sessionID)
		if err != nil {
			return err
		}
		if !st.Facilitator {
			return Forbidden("facilitators record attendance")
		}
		res := tx.Exec(`INSERT INTO group_session_people (group_id, session_id, person_id, attended)
			SELECT s.group_id, s.id, m.person_id, ? FROM group_sessions s
			JOIN group_members m ON m.group_id = s.group_id AND m.person_id = ? AND m.status = 'member'
			WHERE s.id = ? AND ?
			ON CONFLICT (session_id, person_id) DO UPDATE SET attended = EXCLUDED.attended, updated_at = now()`,
			attended, personID, sessionID, a.groupFacilitator("s.group_id"))
		if res.Error != nil {
			return fmt.Errorf("record attendance: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return NotFound("group member")
		}
		return nil
	})
	return Attendance{SessionID: sessionID, PersonID: personID, Attended: attended}, err
}
