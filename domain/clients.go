package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// ContactPreferences says how and when a client wants to be reached. Safety
// matters here: some clients cannot receive messages that others might see.
type ContactPreferences struct {
	Channels           []string `json:"channels"`
	Phone              string   `json:"phone,omitempty"`
	Email              string   `json:"email,omitempty"`
	BestTimes          string   `json:"best_times,omitempty"`
	SafeToLeaveMessage *bool    `json:"safe_to_leave_message,omitempty"`
	// TimeZone is an IANA name (Europe/Madrid); it sets the client's day
	// boundaries (when a step is due) and quiet hours. Default UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// QuietHours is when no reminder reaches the client's phone, in local
	// time; default 21:00 to 08:00.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// PushPreviews lets reminders say what they are about; default false
	// (phones are shared: "You have a reminder from Waypoint"). The client's alone.
	PushPreviews *bool `json:"push_previews,omitempty"`
	// HelpImproveServices lets Waypoint count the client's unmet needs
	// (searches that find nothing, declined referrals, barriers they report)
	// anonymously; absent means true. The client's alone.
	HelpImproveServices *bool `json:"help_improve_services,omitempty"`
}

// QuietHours is a span of local times of day (HH:MM); it may cross midnight.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Client is a person receiving services and their self-described profile.
type Client struct {
	ID                 uuid.UUID
	PersonID           uuid.UUID
	DisplayName        string
	Strengths          Strings
	Interests          Strings
	PreferredLanguage  string
	ContactPreferences JSONValue[ContactPreferences]
	Version            int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const clientColumns = `c.id, c.person_id, p.display_name, c.strengths, c.interests, c.preferred_language,
	c.contact_preferences, c.version, c.created_at, c.updated_at`

// ClientFilter narrows ListClients.
type ClientFilter struct {
	Query string
	// GoalDueFrom and GoalDueTo (dates, both inclusive, either may be zero)
	// keep clients with an open goal the actor may see whose target date
	// falls between them: "my clients with goals due this week".
	GoalDueFrom, GoalDueTo time.Time
	Cursor                 string
	Limit                  int
}

// GoalOpenStatuses are the lifecycle statuses of a goal still to be
// reached; a completed, cancelled, rejected or mistaken goal is not due.
func GoalOpenStatuses() []string {
	return []string{GoalProposed, GoalPlanned, GoalAccepted, GoalActive, GoalOnHold}
}

// goalDue is the goal-due condition of ListClients on clients c, or nil
// without one. It reads only goals the actor may see (GoalScope), so a
// private goal, or a sud one without the client's consent, never reveals
// itself by putting its client in the list; migration 00045's index serves it.
func goalDue(a Actor, f ClientFilter) (*clause.Expr, error) {
	if f.GoalDueFrom.IsZero() && f.GoalDueTo.IsZero() {
		return nil, nil
	}
	if !f.GoalDueFrom.IsZero() && !f.GoalDueTo.IsZero() && f.GoalDueTo.Before(f.GoalDueFrom) {
		return nil, InvalidIn(SourceSelection, "goal_due_to", "goal_due_to is before goal_due_from; give a date range that is not empty")
	}
	sql := "EXISTS (SELECT 1 FROM goals g WHERE g.client_id = c.id AND g.lifecycle_status = ANY (?::text[])"
	vars := []any{textArray(GoalOpenStatuses()).literal()}
	if !f.GoalDueFrom.IsZero() {
		sql += " AND g.target_date >= ?::date"
		vars = append(vars, f.GoalDueFrom.Format(time.DateOnly))
	}
	if !f.GoalDueTo.IsZero() {
		sql += " AND g.target_date <= ?::date"
		vars = append(vars, f.GoalDueTo.Format(time.DateOnly))
	}
	sql += " AND ?)"
	vars = append(vars, a.GoalScope("g", ReachGoalsShared))
	return &clause.Expr{SQL: sql, Vars: vars}, nil
}

// ListClients lists the clients the actor may see: a worker's caseload, every
// client for an admin, only themself for a client.
func (s *Store) ListClients(ctx context.Context, a Actor, f ClientFilter) ([]Client, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	due, err := goalDue(a, f)
	if err != nil {
		return nil, "", err
	}
	var out []Client
	err = s.tx(ctx, func(tx *gorm.DB) error {
		q := clientsQuery(tx, a, f, after, due)
		if err := q.Scan(&out).Error; err != nil {
			return fmt.Errorf("list clients: %w", err)
		}
		ids := make([]uuid.UUID, 0, len(out))
		for i, c := range out {
			if i < f.Limit {
				ids = append(ids, c.ID)
			}
		}
		return logAccess(tx, a, ActionRead, ResourceClient, ids, uuidStrings(ids))
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(c Client) uuid.UUID { return c.ID })
	return out, next, nil
}

// clientsQuery is ListClients' query: the actor's clients, filtered, in id order.
func clientsQuery(tx *gorm.DB, a Actor, f ClientFilter, after uuid.UUID, due *clause.Expr) *gorm.DB {
	q := tx.Table("clients c").Joins("JOIN people p ON p.id = c.person_id").
		Select(clientColumns).Where(a.ClientScope("c.id", ReachRecord)).Order("c.id").Limit(f.Limit + 1)
	if after != uuid.Nil {
		q = q.Where("c.id > ?", after)
	}
	if f.Query != "" {
		q = q.Where("p.display_name ILIKE ?", "%"+escapeLike(f.Query)+"%")
	}
	if due != nil {
		q = q.Where(*due)
	}
	return q
}

// ExplainListClients returns EXPLAIN (ANALYZE, BUFFERS) of ListClients'
// query for the benchmark (bench/caseload); it runs the query, not the
// access log.
func (s *Store) ExplainListClients(ctx context.Context, a Actor, f ClientFilter) (string, error) {
	due, err := goalDue(a, f)
	if err != nil {
		return "", err
	}
	db := s.db.WithContext(ctx)
	query := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var out []Client
		return clientsQuery(tx, a, f, uuid.Nil, due).Scan(&out)
	})
	var lines []string
	if err := db.Raw("EXPLAIN (ANALYZE, BUFFERS) " + query).Scan(&lines).Error; err != nil {
		return "", fmt.Errorf("explain list clients: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

// GetClient returns one client the actor may see, else NotFound.
func (s *Store) GetClient(ctx context.Context, a Actor, id uuid.UUID) (Client, error) {
	var c Client
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		c, err = getClient(tx, a, id, ReachRecord, ResourceClient)
		if err != nil {
			return err
		}
		return logAccess(tx, a, ActionRead, ResourceClient, []uuid.UUID{id}, []string{id.String()})
	})
	return c, err
}

// getClient reads a client record the actor reaches, else NotFound; the
// request was after resource of theirs (for the denied entry).
func getClient(tx *gorm.DB, a Actor, id uuid.UUID, reach Reach, resource string) (Client, error) {
	var c Client
	res := tx.Table("clients c").Joins("JOIN people p ON p.id = c.person_id").
		Select(clientColumns).Where("c.id = ? AND ?", id, a.ClientScope("c.id", reach)).Scan(&c)
	if res.Error != nil {
		return Client{}, fmt.Errorf("get client: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Client{}, missing(a, clientTarget(id, reach, resource))
	}
	return c, nil
}

// ClientPatch is a merge patch of the profile; nil fields are unchanged.
type ClientPatch struct {
	Strengths         *[]string
	Interests         *[]string
	PreferredLanguage *string
	// ContactPreferences is the JSON Merge Patch of the contact preferences
	// object as sent: nil leaves them, "null" resets them, an object is merged
	// member by member (null members removed), so a partial patch never drops
	// a safety setting such as safe_to_leave_message.
	ContactPreferences json.RawMessage
}

// UpdateClient changes a client's profile. The client and the workers on
// their care team may; an admin can see the record but not rewrite it.
func (s *Store) UpdateClient(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p ClientPatch) (Client, error) {
	set := map[string]any{}
	if p.Strengths != nil {
		set["strengths"] = cleanList(*p.Strengths)
	}
	if p.Interests != nil {
		set["interests"] = cleanList(*p.Interests)
	}
	if p.PreferredLanguage != nil {
		set["preferred_language"] = strings.TrimSpace(*p.PreferredLanguage)
	}
	var zone, owners string
	if p.ContactPreferences != nil {
		var err error
		if zone, owners, err = contactPatchFollowUp(p.ContactPreferences); err != nil {
			return Client{}, err
		}
		switch {
		case string(p.ContactPreferences) == "null" && a.IsClient(id):
			set["contact_preferences"] = gorm.Expr("'{}'::jsonb")
		case string(p.ContactPreferences) == "null":
			// The care team's reset keeps the client's own decision to opt out.
			set["contact_preferences"] = gorm.Expr("jsonb_strip_nulls(jsonb_build_object('help_improve_services', contact_preferences -> 'help_improve_services'))")
		default:
			patch, err := contactPatch(p.ContactPreferences)
			if err != nil {
				return Client{}, err
			}
			set["contact_preferences"] = gorm.Expr("jsonb_strip_nulls(contact_preferences || ?::jsonb)", patch)
		}
	}
	var c Client
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if owners != "" && !a.IsClient(id) {
			return s.forbiddenIfVisible(tx, a, id, owners)
		}
		if zone != "" {
			var known []bool
			if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = ?)`, zone).Scan(&known).Error; err != nil {
				return fmt.Errorf("check time zone: %w", err)
			}
			if len(known) != 1 || !known[0] {
				return Invalid("contact_preferences.time_zone", "an IANA time zone name such as America/Los_Angeles")
			}
		}
		if err := conditionalUpdate(ctx, tx, "clients", id, pre, set, a.ClientScope("id", ReachCare)); err != nil {
			if IsKind(err, KindNotFound) {
				return s.forbiddenIfVisible(tx, a, id, "only the client and their care team can change this profile")
			}
			return err
		}
		var err error
		if c, err = getClient(tx, a, id, ReachCare, ResourceClient); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceClient, []uuid.UUID{id}, []string{id.String()})
	})
	return c, err
}

// forbiddenIfVisible turns a refused write into 403 when the actor can see
// the client record, and into 404 when they cannot (no existence leak).
func (s *Store) forbiddenIfVisible(tx *gorm.DB, a Actor, clientID uuid.UUID, msg string) error {
	if _, err := getClient(tx, a, clientID, ReachRecord, ResourceClient); err != nil {
		return err
	}
	return Forbidden("%s", msg)
}

// cleanList trims entries, drops empty ones and duplicates, keeping order.
func cleanList(in []string) Strings {
	out := Strings{}
	seen := map[string]bool{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" || seen[strings.ToLower(v)] {
			continue
		}
		seen[strings.ToLower(v)] = true
		out = append(out, v)
	}
	return out
}

// contactPatch checks a contact preferences merge patch and re-encodes it,
// so what reaches jsonb is exactly what was checked: an object, text that can
// be stored, and a phone number on one line (a control character in it could
// break the SMS gateway or hide digits from the worker who dials).
func contactPatch(raw json.RawMessage) (string, error) {
	const field = "contact_preferences"
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "", Invalid(field, "contact_preferences must be an object or null")
	}
	for k, v := range m {
		s, isText := v.(string)
		switch {
		case !valid.Text(k):
			return "", Invalid(field, "a member name contains U+0000 or invalid UTF-8")
		case isText && !valid.Text(s):
			return "", Invalid(field+"."+k, "contains U+0000 or invalid UTF-8")
		case isText && k == "phone" && !valid.Line(s):
			return "", Invalid(field+".phone", "a phone number is one line without control or formatting characters")
		case isText && k == "email" && !valid.Email(s):
			return "", Invalid(field+".email", "an email address like alice@example.org, with at most 64 characters before the @")
		case k == "time_zone" && v != nil && (!isText || !validTimeZone(s)):
			return "", Invalid(field+".time_zone", "an IANA time zone name such as America/Los_Angeles")
		case (k == "push_previews" || k == "help_improve_services") && v != nil:
			if _, ok := v.(bool); !ok {
				return "", Invalid(field+"."+k, "%s is true or false", k)
			}
		case k == "quiet_hours" && v != nil:
			q, ok := v.(map[string]any)
			st, _ := q["start"].(string)
			en, _ := q["end"].(string)
			if !ok || len(q) != 2 || !validClock(st) || !validClock(en) {
				return "", Invalid(field+".quiet_hours", "quiet_hours is {\"start\": \"HH:MM\", \"end\": \"HH:MM\"} in local time, such as 21:00 to 08:00")
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode contact preferences: %w", err)
	}
	return string(b), nil
}

// contactPatchFollowUp reads what UpdateClient checks beyond the patch's
// shape: the time zone set (checked against PostgreSQL's list too, which
// computes with it) and whether the patch touches a member only the client
// may set (push_previews, help_improve_services): owners is then the refusal
// for anyone else, "" when it touches none.
func contactPatchFollowUp(raw json.RawMessage) (zone, owners string, err error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return "", "", nil // null, or refused by contactPatch
	}
	if z, ok := m["time_zone"]; ok {
		_ = json.Unmarshal(z, &zone)
	}
	if _, ok := m["push_previews"]; ok {
		owners = "only the client decides whether reminders show what they are about (push_previews)"
	} else if _, ok := m["help_improve_services"]; ok {
		owners = "only the client decides whether their unmet needs are counted to improve services (help_improve_services)"
	}
	return zone, owners, nil
}
