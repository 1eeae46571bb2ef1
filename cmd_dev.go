package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

// newDevIssuer builds the embedded issuer with the signing key kept in the
// database, so `dev token` and every dev server on it sign alike.
func newDevIssuer(ctx context.Context, store *openedStore, issuerURL, audience string) (*devissuer.Issuer, error) {
	pemKey, err := store.DevSigningKey(ctx, func() ([]byte, error) {
		k, err := devissuer.GenerateKey()
		if err != nil {
			return nil, err
		}
		return devissuer.MarshalKey(k)
	})
	if err != nil {
		return nil, err
	}
	key, err := devissuer.ParseKey(pemKey)
	if err != nil {
		return nil, fmt.Errorf("dev signing key: %w", err)
	}
	return devissuer.New(issuerURL, audience, key, devissuer.DefaultPersonas())
}

// seedPersonas makes the demo people exist before their first sign-in, so an
// administrator can put a worker on a care team straight away.
func seedPersonas(ctx context.Context, store *openedStore, issuer string) error {
	for _, p := range devissuer.DefaultPersonas() {
		if _, err := store.Provision(ctx, domain.Identity{Issuer: issuer, Subject: p.Subject, Name: p.Name, Roles: p.Roles}); err != nil {
			return fmt.Errorf("seed persona %s: %w", p.Subject, err)
		}
	}
	return nil
}

// multiFlag collects a repeatable flag; comma-separated values are split.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

func devTokenFlags(fs *flag.FlagSet) action {
	subject := fs.String("subject", "", "subject (user id) of the token, e.g. alice (required)")
	var roles multiFlag
	fs.Var(&roles, "role", "role: client, worker, admin or directory_editor (repeatable; none: a token with no Waypoint role)")
	scope := fs.String("scope", "", "space-separated scopes (default: all Waypoint scopes)")
	clientID := fs.String("client-id", devissuer.DefaultClientID, "app id (azp) of the token (the default is a first-party app in dev mode)")
	name := fs.String("name", "", "display name (default: the persona's name or the subject)")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	return func(ctx context.Context, e cli, _ []string) error {
		if strings.TrimSpace(*subject) == "" {
			return configErrorf("dev token: --subject is required")
		}
		if *ttl <= 0 {
			return configErrorf("dev token: --ttl must be positive, got %s", *ttl)
		}
		for _, r := range roles {
			if !slices.Contains(auth.KnownRoles(), r) {
				return configErrorf("dev token: --role must be one of %s, got %q", strings.Join(auth.KnownRoles(), ", "), r)
			}
		}
		req := devissuer.TokenRequest{Subject: *subject, Name: *name, Roles: slices.Clip(roles), ClientID: *clientID, TTL: *ttl}
		if *scope != "" {
			req.Scopes = strings.Fields(*scope)
		}
		tok, err := devToken(ctx, e, req)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, tok)
		return nil
	}
}

// devToken mints a token the dev server accepts: same issuer (from
// WAYPOINT_ADDR), same signing key (from DATABASE_URL).
func devToken(ctx context.Context, e cli, req devissuer.TokenRequest) (string, error) {
	c, err := loadServeConfig(e.env, true)
	if err != nil {
		return "", err
	}
	st, err := openStore(ctx, c.DB, true)
	if err != nil {
		return "", err
	}
	defer st.Close()
	iss, err := newDevIssuer(ctx, st, c.IssuerURL, c.Audience)
	if err != nil {
		return "", err
	}
	if req.Name == "" {
		req.Name = req.Subject
		for _, p := range devissuer.DefaultPersonas() {
			if p.Subject == req.Subject {
				req.Name = p.Name
			}
		}
	}
	tok, err := iss.Mint(req)
	if err != nil {
		// The key works (it was just loaded): what Mint refuses is the request.
		return "", configErrorf("dev token: %v", err)
	}
	return tok, nil
}
