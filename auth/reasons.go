package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Why a token was refused, in words a developer can act on.

// TokenError is a refused token and why; errors.Is(err, ErrInvalidToken)
// holds for it. Reason names what failed and the values compared, e.g.
// `issuer mismatch: expected "https://a", got "https://b"`. It quotes claim
// values of the token (bounded) and never the token itself. Production
// answers 401 without it (it goes to the debug log); dev mode shows it.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

// Is makes every TokenError match ErrInvalidToken.
func (e *TokenError) Is(target error) bool { return target == ErrInvalidToken }

func invalid(format string, args ...any) error {
	return &TokenError{Reason: fmt.Sprintf(format, args...)}
}

// Reason returns why a token was refused, or "" when err is no TokenError.
func Reason(err error) string {
	var te *TokenError
	if errors.As(err, &te) {
		return te.Reason
	}
	return ""
}

// maxQuoted bounds a token's value quoted in a reason, so a hostile token
// cannot make a 401 (or a log line) large.
const maxQuoted = 200

// quote quotes a value taken from a token, escaping control characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		s = string([]rune(s)[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// recordingKeySet hands the verified payload back to Verify (through the
// keyErrSlot in ctx), so a failure after the signature check can be
// explained from claims known to be genuine.
type recordingKeySet struct{ oidc.KeySet }

func (k recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	p, err := k.KeySet.VerifySignature(ctx, jwt)
	if slot, ok := ctx.Value(keyErrKey{}).(*keyErrSlot); ok && err == nil {
		slot.payload = p
	}
	return p, err
}

// whyRejected turns a failure of go-oidc's verification into a TokenError
// (or the key set's availability error).
func (v *Verifier) whyRejected(slot *keyErrSlot, h header, err error) error {
	if slot.err != nil {
		return slot.err
	}
	if slot.payload == nil {
		r := "unknown signing key: no key of this server's issuer verifies the signature (signed by another key, or altered)"
		if h.kid != "" {
			r += "; token kid " + quote(h.kid)
		}
		if h.iss != "" && h.iss != v.issuer {
			r += fmt.Sprintf("; unverified, it names issuer %s where this server expects %s", quote(h.iss), quote(v.issuer))
		}
		return invalid("%s", r)
	}
	// The signature verified: the genuine claims say what go-oidc refused.
	var claims map[string]json.RawMessage
	if json.Unmarshal(slot.payload, &claims) != nil {
		return invalid("claims are not a JSON object")
	}
	if cerr := v.checkClaims(claims); cerr != nil {
		return invalid("%v", cerr)
	}
	return invalid("%v", err)
}

// audience reads aud: one string or an array of strings (RFC 7519 §4.1.3).
func audience(c map[string]json.RawMessage) ([]string, error) {
	if !present(c, "aud") {
		return nil, nil
	}
	var one string
	if json.Unmarshal(c["aud"], &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(c["aud"], &many); err != nil {
		return nil, errors.New("aud claim is not a string or an array of strings")
	}
	return many, nil
}
