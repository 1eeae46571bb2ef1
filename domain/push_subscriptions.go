package domain

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// PushSubscription is one of a client's browsers accepting Web Push.
type PushSubscription struct {
	ID        uuid.UUID
	Endpoint  string
	CreatedAt time.Time
}

// PushSubscriptionInput is the browser's PushSubscription JSON.
type PushSubscriptionInput struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// pushKey decodes a subscription key: base64url as browsers give it
// (PushSubscription.toJSON), padded or not; standard base64 is accepted too.
func pushKey(v string) ([]byte, bool) {
	v = strings.TrimRight(v, "=")
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(v)
	return b, err == nil
}

// check validates the subscription: an https endpoint without credentials,
// the browser's P-256 public key as an uncompressed point on the curve (65
// bytes), and a 16-byte authentication secret (RFC 8291).
func (in PushSubscriptionInput) check() (p256dh, auth []byte, err error) {
	u, perr := url.Parse(in.Endpoint)
	switch {
	case len(in.Endpoint) < MinPushEndpoint || len(in.Endpoint) > MaxPushEndpoint || perr != nil:
		return nil, nil, Invalid("endpoint", "endpoint is the push service URL the browser gave (https, at most %d characters)", MaxPushEndpoint)
	case u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "":
		return nil, nil, Invalid("endpoint", "endpoint must be an https URL without credentials or fragment")
	}
	p256dh, ok := pushKey(in.P256dh)
	if !ok || len(p256dh) != 65 || p256dh[0] != 4 {
		return nil, nil, Invalid("keys.p256dh", "keys.p256dh is the base64url of an uncompressed P-256 public key (65 bytes)")
	}
	if _, err := ecdh.P256().NewPublicKey(p256dh); err != nil {
		return nil, nil, Invalid("keys.p256dh", "keys.p256dh is not a point on the P-256 curve")
	}
	auth, ok = pushKey(in.Auth)
	if !ok || len(auth) != 16 {
		return nil, nil, Invalid("keys.auth", "keys.auth is the base64url of a 16-byte secret")
	}
	return p256dh, auth, nil
}

// pushOwner is the client record whose push subscriptions the actor
// manages: their own; anyone without one gets 403 (only clients get
// reminders on their phone).
func pushOwner(a Actor) (uuid.UUID, error) {
	if a.ClientID == uuid.Nil || !a.Is(RoleClient) {
		return uuid.Nil, Forbidden("push subscriptions are a client's: reminders go to the client whose agenda it is")
	}
	return a.ClientID, nil
}

// SubscribePush records a browser's push subscription for the actor (a
// client). The same endpoint again replaces its keys and keeps its id
// (created false). At most MaxPushSubscriptions per client: the client row
// is locked while counting, so concurrent subscriptions cannot exceed it.
func (s *Store) SubscribePush(ctx context.Context, a Actor, in PushSubscriptionInput) (PushSubscription, bool, error) {
	clientID, err := pushOwner(a)
	if err != nil {
		return PushSubscription{}, false, err
	}
	p256dh, auth, err := in.check()
	if err != nil {
		return PushSubscription{}, false, err
	}
	var out PushSubscription
	created := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var n []int
		if err := tx.Raw(`SELECT (SELECT count(*) FROM push_subscriptions p WHERE p.client_id = c.id AND p.endpoint <> ?)
			FROM clients c WHERE c.id = ? AND ? FOR UPDATE OF c`, in.Endpoint, clientID, a.ClientScope("c.id", ReachOwner)).Scan(&n).Error; err != nil {
			return fmt.Errorf("count push subscriptions: %w", err)
		}
		if len(n) == 0 {
			return NotFound("client")
		}
		if n[0] >= MaxPushSubscriptions {
			return &Error{Kind: KindConflict, Message: fmt.Sprintf("at most %d push subscriptions; delete one you no longer use", MaxPushSubscriptions)}
		}
		var rows []struct {
			PushSubscription
			Inserted bool
		}
		if err := tx.Raw(`INSERT INTO push_subscriptions AS p (client_id, id, endpoint, p256dh, auth) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (client_id, endpoint) DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
			RETURNING p.id, p.endpoint, p.created_at, (xmax = 0) AS inserted`,
			clientID, newID(), in.Endpoint, p256dh, auth).Scan(&rows).Error; err != nil {
			return fmt.Errorf("save push subscription: %w", err)
		}
		out, created = rows[0].PushSubscription, rows[0].Inserted
		return nil
	})
	return out, created, err
}

// PushSubscriptions lists the actor's own push subscriptions, oldest first.
func (s *Store) PushSubscriptions(ctx context.Context, a Actor, cursor string, limit int) ([]PushSubscription, string, error) {
	clientID, err := pushOwner(a)
	if err != nil {
		return nil, "", err
	}
	return listPage(ctx, s, cursor, listSpec[PushSubscription]{what: "push subscriptions",
		query: `SELECT p.id, p.endpoint, p.created_at FROM push_subscriptions p WHERE p.client_id = ? AND ?`,
		args:  []any{clientID, a.ClientScope("p.client_id", ReachOwner)},
		col:   "p.id", filter: ListFilter{Limit: limit}, id: func(p PushSubscription) uuid.UUID { return p.ID }})
}

// UnsubscribePush deletes one of the actor's push subscriptions; anyone
// else's (or none) is 404.
func (s *Store) UnsubscribePush(ctx context.Context, a Actor, id uuid.UUID) error {
	clientID, err := pushOwner(a)
	if err != nil {
		return err
	}
	res := s.db.WithContext(ctx).Exec(`DELETE FROM push_subscriptions p WHERE p.client_id = ? AND p.id = ? AND ?`,
		clientID, id, a.ClientScope("p.client_id", ReachOwner))
	if res.Error != nil {
		return fmt.Errorf("delete push subscription: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return NotFound("push subscription")
	}
	return nil
}

// ReplayPushSubscription guards an Idempotency-Key replay of a subscription:
// it must still be the actor's.
func (s *Store) ReplayPushSubscription(ctx context.Context, a Actor, id uuid.UUID) error {
	clientID, err := pushOwner(a)
	if err != nil {
		return err
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM push_subscriptions p WHERE p.client_id = ? AND p.id = ?`, clientID, id).
		Scan(&n).Error; err != nil {
		return fmt.Errorf("read push subscription: %w", err)
	}
	if n == 0 {
		return NotFound("push subscription")
	}
	return nil
}

// DevVAPIDKeys returns dev mode's VAPID key pair, stored in the database so
// every replica and restart signs with the same one; gen makes it the first
// time (a concurrent first start keeps whichever committed first).
func (s *Store) DevVAPIDKeys(ctx context.Context, gen func() (private, public string, err error)) (private, public string, err error) {
	var rows []struct{ PrivateKey, PublicKey string }
	read := func() error {
		return s.db.WithContext(ctx).Raw(`SELECT private_key, public_key FROM vapid_keys`).Scan(&rows).Error
	}
	if err := read(); err != nil {
		return "", "", fmt.Errorf("read VAPID keys: %w", err)
	}
	if len(rows) == 0 {
		priv, pub, err := gen()
		if err != nil {
			return "", "", fmt.Errorf("generate VAPID keys: %w", err)
		}
		if err := s.db.WithContext(ctx).Exec(`INSERT INTO vapid_keys (private_key, public_key) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			priv, pub).Error; err != nil {
			return "", "", fmt.Errorf("store VAPID keys: %w", err)
		}
		if err := read(); err != nil || len(rows) == 0 {
			return "", "", fmt.Errorf("read VAPID keys: %w", err)
		}
	}
	return rows[0].PrivateKey, rows[0].PublicKey, nil
}
