package domain

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// Apps is what Waypoint knows of apps besides what clients decide: which are
// first-party (the service's own front ends, which a client cannot revoke,
// so they cannot lock themself out). There is no app registry: an app's name
// is its id.
type Apps struct {
	FirstParty []string
}

// IsFirstParty reports whether app is one of the service's own front ends.
func (r Apps) IsFirstParty(app string) bool { return slices.Contains(r.FirstParty, app) }

// Name is how an app is shown; its id, for want of a registry.
func (r Apps) Name(app string) string { return app }

// ClientApp is an app that acted on a client's data, and the client's decision about it.
type ClientApp struct {
	AppID       string
	Name        string
	FirstParty  bool
	FirstUsedAt time.Time
	LastUsedAt  time.Time
	ScopesUsed  Strings
	// RevokedAt is set while the client has revoked the app.
	RevokedAt *time.Time
}

// App statuses.
const (
	AppAllowed = "allowed"
	AppRevoked = "revoked"
)

// Status is allowed or revoked.
func (c ClientApp) Status() string {
	if c.RevokedAt != nil {
		return AppRevoked
	}
	return AppAllowed
}

const clientAppColumns = `ca.app_id, ca.first_used_at, ca.last_used_at, to_jsonb(ca.scopes_used) AS scopes_used, ca.revoked_at`

const ownerOnlyApps = "only the client decides which apps may act on their data"

// ListClientApps lists the apps that acted on a client's data (the client's
// own use through an app included), by app id. Only the client sees it.
func (s *Store) ListClientApps(ctx context.Context, a Actor, apps Apps, clientID uuid.UUID, cursor string, limit int) ([]ClientApp, string, error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !utf8.Valid(b) || !valid.Text(string(b)) {
			return nil, "", InvalidIn(SourceSelection, "cursor", "cursor is not one this API returned")
		}
		after = string(b)
	}
	var out []ClientApp
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := reachOrForbid(tx, a, clientID, ReachOwner, ResourceClientApp, ownerOnlyApps); err != nil {
			return err
		}
		if err := tx.Raw(`SELECT `+clientAppColumns+` FROM client_apps ca WHERE ca.client_id = ? AND ca.app_id > ?
			ORDER BY ca.app_id LIMIT ?`, clientID, after, limit+1).Scan(&out).Error; err != nil {
			return fmt.Errorf("list apps: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceClientApp, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(out[limit-1].AppID))
	}
	for i := range out {
		out[i].Name, out[i].FirstParty = apps.Name(out[i].AppID), apps.IsFirstParty(out[i].AppID)
	}
	return out, next, nil
}

// RevokeApp revokes an app's access to the client's data: from the next
// request, tokens of that app (anyone's) see none of this client's records
// (403 where they name one) and its event streams skip this client's
// events. First-party apps cannot be revoked (409). Idempotent.
func (s *Store) RevokeApp(ctx context.Context, a Actor, apps Apps, clientID uuid.UUID, appID string) (ClientApp, error) {
	return s.decideApp(ctx, a, apps, clientID, appID, true)
}

// AllowApp allows a revoked app again. Idempotent.
func (s *Store) AllowApp(ctx context.Context, a Actor, apps Apps, clientID uuid.UUID, appID string) (ClientApp, error) {
	return s.decideApp(ctx, a, apps, clientID, appID, false)
}

func (s *Store) decideApp(ctx context.Context, a Actor, apps Apps, clientID uuid.UUID, appID string, revoke bool) (ClientApp, error) {
	if appID == "" || utf8.RuneCountInString(appID) > MaxAppID || !valid.Text(appID) {
		return ClientApp{}, InvalidIn(SourceTarget, "appId", "an app id is 1 to %d characters of text", MaxAppID)
	}
	var rows []ClientApp
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := reachOrForbid(tx, a, clientID, ReachOwner, ResourceClientApp, ownerOnlyApps); err != nil {
			return err
		}
		if revoke && apps.IsFirstParty(appID) {
			return &Error{Kind: KindConflict, Source: SourceTarget, Field: "appId", Message: "this is one of this " +
				"service's own apps (first-party), which cannot be revoked, so that you cannot lock yourself out of your data"}
		}
		set := `revoked_at = NULL`
		if revoke {
			set = `revoked_at = COALESCE(ca.revoked_at, now())`
		}
		if err := tx.Raw(`UPDATE client_apps ca SET `+set+` WHERE ca.client_id = ? AND ca.app_id = ? RETURNING `+clientAppColumns,
			clientID, appID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("decide app: %w", err)
		}
		if len(rows) == 0 {
			return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "appId",
				Message: "no app with this id has acted on this client's data"}
		}
		return logAccess(tx, a, ActionWrite, ResourceClientApp, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return ClientApp{}, err
	}
	out := rows[0]
	out.Name, out.FirstParty = apps.Name(appID), apps.IsFirstParty(appID)
	return out, nil
}
