package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// A cached token stops being accepted at its exp: the cache never outlives
// the verdict Verify would give.
func TestTokenCacheRefusesExpiredTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.ClockSkew = -1 // no leeway: refused as soon as exp has passed
	v := newVerifier(t, cfg)
	exp := time.Now().Add(1500 * time.Millisecond).Unix()
	tok := iss.Token(t, "alice", []string{auth.RoleClient}, authtest.WithClaim("exp", exp))
	for range 2 { // the second is answered from the cache
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
	}
	time.Sleep(time.Until(time.Unix(exp, 0).Add(100 * time.Millisecond)))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("expired cached token: want ErrInvalidToken, got %v", err)
	}
}

// Each token is verified on its own: another token of the same subject is
// not accepted because the first is cached, and its roles and scopes are
// its own.
func TestTokenCacheIsPerToken(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config())
	ctx := context.Background()
	asClient := iss.Token(t, "alice", []string{auth.RoleClient})
	if p, err := v.Verify(ctx, asClient); err != nil || !slices.Equal(p.Roles, []string{auth.RoleClient}) {
		t.Fatalf("client token: %+v, %v", p, err)
	}
	asWorker := iss.Token(t, "alice", []string{auth.RoleWorker}, authtest.WithScopes("goals:read"))
	p, err := v.Verify(ctx, asWorker)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Roles, []string{auth.RoleWorker}) || !slices.Equal(p.Scopes, []string{"goals:read"}) {
		t.Fatalf("second token of the same subject: roles %v scopes %v, want its own", p.Roles, p.Scopes)
	}
	// The cached first token still answers with its own roles.
	if p, err := v.Verify(ctx, asClient); err != nil || !slices.Equal(p.Roles, []string{auth.RoleClient}) {
		t.Fatalf("client token again: %+v, %v", p, err)
	}

	// A token whose payload was swapped under the cached token's signature
	// is a different token, and its signature does not verify.
	parts := strings.Split(asClient, ".")
	forged := parts[0] + "." + strings.Split(asWorker, ".")[1] + "." + parts[2]
	if _, err := v.Verify(ctx, forged); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("payload swapped under a cached token's signature: want ErrInvalidToken, got %v", err)
	}
	// And one byte more or less is another token too.
	if _, err := v.Verify(ctx, asClient+"A"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("cached token with a byte appended: want ErrInvalidToken, got %v", err)
	}
}

// What Verify returns from the cache is the caller's: changing it does not
// change what the next request gets.
func TestTokenCacheReturnsCopies(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config())
	tok := iss.Token(t, "alice", []string{auth.RoleClient})
	for range 2 {
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Roles, []string{auth.RoleClient}) {
			t.Fatalf("roles %v", p.Roles)
		}
		p.Roles[0] = auth.RoleAdmin
		p.Subject = "mallory"
	}
}
