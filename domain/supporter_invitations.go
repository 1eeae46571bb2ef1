package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// SupporterInvitation is a client's pending invitation of a supporter. Code
// is set only in the answer to the request that minted it: the database
// keeps its SHA-256 alone.
type SupporterInvitation struct {
	ClientID        uuid.UUID
	ID              uuid.UUID
	Code            string `gorm:"-"`
	Shares          Strings
	AccessExpiresAt *time.Time
	ExpiresAt       time.Time
	CreatedAt       time.Time
}

// InvitationInput is what the client grants with an invitation.
type InvitationInput struct {
	Shares []string
	// AccessExpiresAt ends the supporter's access; nil: until the client ends it.
	AccessExpiresAt *time.Time
}

// codeAlphabet is Crockford's base32: digits and capitals without I, L, O
// and U, so a code read aloud or copied by hand survives (see normalizeCode).
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLen is the length of a code: 12 symbols of 5 bits, 60 random bits.
const codeLen = 12

// newInvitationCode draws a code from the operating system's CSPRNG. Each
// byte gives 5 bits (256 is a multiple of 32, so no symbol is favoured).
// It is written in groups of four: 7KQ2-M9XD-4HTB.
func newInvitationCode() (display, normalized string) {
	var b [codeLen]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[x&31])
	}
	display = sb.String()
	return display, strings.ReplaceAll(display, "-", "")
}

// normalizeCode reads a code as a person may type it: any case, with or
// without dashes and spaces, O for 0 and I or L for 1. ok is false unless
// it is then exactly codeLen symbols of the alphabet.
func normalizeCode(in string) (string, bool) {
	if len(in) > MaxInvitationCodeInput {
		return "", false
	}
	var sb strings.Builder
	for _, r := range strings.ToUpper(in) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		case r > 127 || !strings.ContainsRune(codeAlphabet, r):
			return "", false
		}
		sb.WriteRune(r)
	}
	if sb.Len() != codeLen {
		return "", false
	}
	return sb.String(), true
}

// codeHash is what the database keeps of a normalized code. SHA-256 without
// salt is enough here: the code has 60 bits from a CSPRNG and lives 7 days,
// so no dictionary or precomputation applies, and trying 2^59 codes against
// a stolen table takes years on a GPU; the lookup needs a deterministic hash.
func codeHash(normalized string) []byte {
	h := sha256.Sum256([]byte(normalized))
	return h[:]
}

// cleanShares checks shares against the known ones and returns them as a
// set in canonical order.
func cleanShares(field string, in []string) (Strings, error) {
	if len(in) == 0 {
		return nil, Invalid(field, "choose at least one of %s; to end someone's access, remove them as a supporter",
			strings.Join(SupporterShares(), ", "))
	}
	out := Strings{}
	for i, s := range in {
		if !slices.Contains(SupporterShares(), s) {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "a share is one of %s", strings.Join(SupporterShares(), ", "))
		}
	}
	for _, s := range SupporterShares() {
		if slices.Contains(in, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// futureTime checks an access expiry: nil or zero is none, else it must lie ahead.
func futureTime(field string, t *time.Time) (*time.Time, error) {
	if t == nil || t.IsZero() {
		return nil, nil
	}
	if !t.After(time.Now()) {
		return nil, Invalid(field, "must be in the future")
	}
	u := t.UTC()
	return &u, nil
}

// requireOwner passes when the actor is the client clientID; else it is
// 403 for those who can see the client record and 404 for everyone else.
func requireOwner(tx *gorm.DB, a Actor, clientID uuid.UUID, msg string) error {
	return reachOrForbid(tx, a, clientID, ReachOwner, ResourceSupporter, msg)
}

const invitationColumns = `i.client_id, i.id, to_jsonb(i.shares) AS shares, i.access_expires_at, i.expires_at, i.created_at`

// CreateSupporterInvitation mints a one-time code for the client (and only
// the client) to hand to a person they choose.
func (s *Store) CreateSupporterInvitation(ctx context.Context, a Actor, clientID uuid.UUID, in InvitationInput) (SupporterInvitation, error) {
	shares, err := cleanShares("shares", in.Shares)
	if err != nil {
		return SupporterInvitation{}, err
	}
	until, err := futureTime("access_expires_at", in.AccessExpiresAt)
	if err != nil {
		return SupporterInvitation{}, err
	}
	display, code := newInvitationCode()
	var out SupporterInvitation
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireOwner(tx, a, clientID, "only the client invites their supporters"); err != nil {
			return err
		}
		err := tx.Raw(`INSERT INTO supporter_invitations AS i (client_id, id, code_hash, shares, access_expires_at, expires_at, created_by)
			VALUES (?, ?, ?, ?::text[], ?, now() + ?::interval, ?) RETURNING `+invitationColumns,
			clientID, newID(), codeHash(code), textArray(shares), until, interval(InvitationTTL), a.PersonID).Scan(&out).Error
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		return nil
	})
	out.Code = display
	return out, err
}

// interval spells d for a PostgreSQL ?::interval argument.
func interval(d time.Duration) string { return fmt.Sprintf("%d milliseconds", d.Milliseconds()) }

// pendingInvitation is the condition of an invitation that can still be redeemed.
const pendingInvitation = `i.used_at IS NULL AND i.expires_at > now()
	AND (i.access_expires_at IS NULL OR i.access_expires_at > now())`

// ListSupporterInvitations lists the client's pending invitations, oldest
// first (the client only).
func (s *Store) ListSupporterInvitations(ctx context.Context, a Actor, clientID uuid.UUID, cursor string, limit int) ([]SupporterInvitation, string, error) {
	return listPage(ctx, s, cursor, listSpec[SupporterInvitation]{what: "invitations",
		query: `SELECT ` + invitationColumns + ` FROM supporter_invitations i WHERE i.client_id = ? AND ` + pendingInvitation,
		args:  []any{clientID},
		col:   "i.id", filter: ListFilter{Limit: limit}, id: func(i SupporterInvitation) uuid.UUID { return i.ID },
		before: func(tx *gorm.DB) error {
			return requireOwner(tx, a, clientID, "only the client sees their invitations")
		}})
}

// CancelSupporterInvitation voids an invitation that was not redeemed (the
// client only). Idempotent: an invitation already gone is fine; one already
// redeemed is 409, since cancelling it would not end anyone's access.
func (s *Store) CancelSupporterInvitation(ctx context.Context, a Actor, clientID, id uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireOwner(tx, a, clientID, "only the client cancels their invitations"); err != nil {
			return err
		}
		var used []bool
		err := tx.Raw(`WITH gone AS (DELETE FROM supporter_invitations WHERE client_id = ? AND id = ? AND used_at IS NULL RETURNING id)
			SELECT true FROM supporter_invitations WHERE client_id = ? AND id = ? AND NOT EXISTS (SELECT 1 FROM gone)`,
			clientID, id, clientID, id).Scan(&used).Error
		if err != nil {
			return fmt.Errorf("cancel invitation: %w", err)
		}
		if len(used) > 0 {
			return Errorf(KindConflict, "this invitation was already redeemed; to end that person's access, remove them as a supporter")
		}
		return nil
	})
}

// ReissueInvitationCode gives a pending invitation a new code and returns
// it; the old code stops working. A retried create (same Idempotency-Key)
// gets its invitation back this way, because the code it was first
// answered with is stored nowhere.
func (s *Store) ReissueInvitationCode(ctx context.Context, a Actor, clientID, id uuid.UUID) (string, error) {
	display, code := newInvitationCode()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireOwner(tx, a, clientID, "only the client invites their supporters"); err != nil {
			return err
		}
		res := tx.Exec(`UPDATE supporter_invitations i SET code_hash = ? WHERE i.client_id = ? AND i.id = ? AND `+pendingInvitation,
			codeHash(code), clientID, id)
		if res.Error != nil {
			return fmt.Errorf("reissue invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(KindConflict, "this invitation was redeemed, cancelled or has expired since; create a new one")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return display, nil
}

// RedeemSupporterInvitation makes the actor a supporter of the client who
// minted code. A code that is wrong, expired, cancelled or used is one and
// the same NotFound. Each person may try MaxRedeemAttempts codes per
// RedeemWindow. Redeeming is one transaction whose first statement takes
// the invitation conditionally, so of two concurrent redemptions exactly one
// succeeds; an own code or an active grant undoes it (409/422, the code
// stays valid).
func (s *Store) RedeemSupporterInvitation(ctx context.Context, a Actor, code string) (Supporter, error) {
	norm, ok := normalizeCode(code)
	if !ok {
		return Supporter{}, Invalid("code", "an invitation code is 12 letters and digits, like 7KQ2-M9XD-4HTB")
	}
	if err := s.countRedeemAttempt(ctx, a); err != nil {
		return Supporter{}, err
	}
	var out Supporter
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := serializeCount(tx, countSupporting, a.PersonID); err != nil {
			return err
		}
		var inv []struct {
			ClientID, ID uuid.UUID
			Own          bool
		}
		err := tx.Raw(`UPDATE supporter_invitations i SET used_at = now(), used_by = ?
			WHERE i.code_hash = ? AND `+pendingInvitation+`
			RETURNING i.client_id, i.id, EXISTS (SELECT 1 FROM clients c WHERE c.id = i.client_id AND c.person_id = ?) AS own`,
			a.PersonID, codeHash(norm), a.PersonID).Scan(&inv).Error
		if err != nil {
			return fmt.Errorf("take invitation: %w", err)
		}
		switch {
		case len(inv) == 0:
			return &Error{Kind: KindNotFound, Source: SourceContent, Field: "code",
				Message: "no pending invitation has this code: it may be mistyped, expired, cancelled or already used"}
		case inv[0].Own:
			return Invalid("code", "this is your own invitation: give the code to the person you want to invite")
		}
		if err := grantFromInvitation(tx, a, inv[0].ClientID, inv[0].ID); err != nil {
			return err
		}
		if err := checkCount(tx, MaxSupportedClients, `SELECT count(*) FROM supporters WHERE person_id = ?`, a.PersonID,
			"you support %d people already, the most one person can; leave one of them first", MaxSupportedClients); err != nil {
			return err
		}
		// A good code does not use up a try, but the tries already failed
		// stay counted: redeeming codes from a colluding client must not
		// buy more guesses.
		if err := tx.Exec(`UPDATE supporter_redeem_attempts SET attempts = greatest(attempts - 1, 0) WHERE person_id = ?`,
			a.PersonID).Error; err != nil {
			return fmt.Errorf("uncount redeem attempt: %w", err)
		}
		if out, err = readSupporter(tx, inv[0].ClientID, a.PersonID); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceSupporter, []uuid.UUID{inv[0].ClientID}, []string{a.PersonID.String()})
	})
	return out, err
}

// grantFromInvitation writes the grant an invitation carries. A grant that
// has expired is renewed; an active one is left alone (409): the client
// changes a supporter's shares with PATCH.
func grantFromInvitation(tx *gorm.DB, a Actor, clientID, invitationID uuid.UUID) error {
	res := tx.Exec(`INSERT INTO supporters AS s (client_id, person_id, id, shares, access_expires_at, invitation_id)
		SELECT i.client_id, ?, ?, i.shares, i.access_expires_at, i.id FROM supporter_invitations i
		WHERE i.client_id = ? AND i.id = ?
		ON CONFLICT (client_id, person_id) DO UPDATE SET shares = EXCLUDED.shares,
			access_expires_at = EXCLUDED.access_expires_at, invitation_id = EXCLUDED.invitation_id,
			updated_at = now(), version = s.version + 1
		WHERE s.access_expires_at IS NOT NULL AND s.access_expires_at <= now()`,
		a.PersonID, newID(), clientID, invitationID)
	if res.Error != nil {
		return fmt.Errorf("grant supporter: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(KindConflict, "you already support this person; they can change what you see, or remove you first")
	}
	return nil
}

// countRedeemAttempt counts one attempt of the actor's in its own statement
// (it must stick even when the redemption fails), refusing past the limit.
func (s *Store) countRedeemAttempt(ctx context.Context, a Actor) error {
	var row struct {
		Attempts int
		Wait     float64
	}
	err := s.db.WithContext(ctx).Raw(`INSERT INTO supporter_redeem_attempts AS t (person_id, window_start, attempts)
		VALUES (?, now(), 1)
		ON CONFLICT (person_id) DO UPDATE SET
			attempts = CASE WHEN t.window_start <= now() - ?::interval THEN 1 ELSE t.attempts + 1 END,
			window_start = CASE WHEN t.window_start <= now() - ?::interval THEN now() ELSE t.window_start END
		RETURNING attempts, extract(epoch FROM t.window_start + ?::interval - now())::float8 AS wait`,
		a.PersonID, interval(RedeemWindow), interval(RedeemWindow), interval(RedeemWindow)).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("count redeem attempt: %w", err)
	}
	if row.Attempts > MaxRedeemAttempts {
		wait := max(1, int(math.Ceil(row.Wait)))
		return &Error{Kind: KindTooManyRequests, RetryAfter: wait, Message: fmt.Sprintf(
			"too many invitation codes tried; try again in %d minutes, or ask the person who invited you to read the code out again",
			(wait+59)/60)}
	}
	return nil
}
