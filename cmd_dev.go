package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
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
	fs.Var(&roles, "role", "role: client, worker, admin, directory_editor or provider (repeatable). Default for a seeded persona: "+
		"its role (alice, bob: client; wanda, will: worker; adam: admin); required for any other subject")
	noRole := fs.Bool("no-role", false, "mint a token with no Waypoint role (a supporter, a stranger, tests); "+
		"the person it names then holds no role until a token with one is used")
	server := fs.String("server", "", "ask the running dev server at this URL (e.g. http://127.0.0.1:8080) for the token, "+
		"so it carries that server's issuer and key; without it the token is minted here from WAYPOINT_ADDR and DATABASE_URL")
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
		granted, err := tokenRoles(e, *subject, roles, *noRole)
		if err != nil {
			return err
		}
		req := devissuer.TokenRequest{Subject: *subject, Name: *name, Roles: granted, ClientID: *clientID, TTL: *ttl}
		if *scope != "" {
			req.Scopes = strings.Fields(*scope)
		}
		var tok string
		if *server != "" {
			tok, err = fetchDevToken(ctx, *server, req)
		} else {
			tok, err = devToken(ctx, e, req)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, tok)
		return nil
	}
}

// tokenRoles settles the roles of a dev token. The server stores each
// person's roles from their latest token, so a token with fewer roles than a
// persona's seeded ones demotes that persona: that is only ever done on
// purpose (--no-role, or --role naming others), and then said on stderr.
func tokenRoles(e cli, subject string, roles []string, noRole bool) ([]string, error) {
	for _, r := range roles {
		if !slices.Contains(auth.KnownRoles(), r) {
			return nil, configErrorf("dev token: --role must be one of %s, got %q", strings.Join(auth.KnownRoles(), ", "), r)
		}
	}
	if noRole && len(roles) > 0 {
		return nil, configErrorf("dev token: --role and --no-role exclude each other")
	}
	var seeded []string
	persona := slices.IndexFunc(devissuer.DefaultPersonas(), func(p devissuer.Persona) bool { return p.Subject == subject })
	if persona >= 0 {
		seeded = devissuer.DefaultPersonas()[persona].Roles
	}
	switch {
	case noRole:
		roles = []string{}
	case len(roles) == 0 && persona < 0:
		return nil, configErrorf("dev token: --role is required for %q, which is no seeded persona (%s; or --no-role for a token with no Waypoint role)",
			subject, strings.Join(auth.KnownRoles(), ", "))
	case len(roles) == 0:
		return slices.Clone(seeded), nil
	}
	var dropped []string
	for _, r := range seeded {
		if !slices.Contains(roles, r) {
			dropped = append(dropped, r)
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(e.stderr, "waypoint: dev token: warning: %s's seeded role is %s; once this token is used the server records that %s "+
			"holds %s instead (records such as a client record are kept, but out of reach) until a token with --role %s is used\n",
			subject, strings.Join(seeded, ", "), subject, rolesText(roles), strings.Join(dropped, " --role "))
	}
	return slices.Clip(roles), nil
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "no Waypoint role"
	}
	return "only " + strings.Join(roles, ", ")
}

// fetchDevToken asks the running dev server at base for the token (POST
// /dev/oidc/cli-token), so issuer and key are the server's own.
func fetchDevToken(ctx context.Context, base string, req devissuer.TokenRequest) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", configErrorf("dev token: --server must be the dev server's URL, like http://127.0.0.1:8080, got %q", base)
	}
	// The issuer lives at /dev/oidc on every dev server; its URL is accepted too.
	issuer := strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/dev/oidc") + "/dev/oidc"
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tok, err := devissuer.FetchToken(ctx, &http.Client{}, issuer, req)
	if err == nil {
		return tok, nil
	}
	var fe *devissuer.FetchError
	if !errors.As(err, &fe) {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return "", fmt.Errorf("dev token: cannot reach the dev server at %s: %w", base, err)
	}
	switch fe.Status {
	case http.StatusBadRequest: // what it refuses is the request
		return "", configErrorf("dev token: the dev server at %s refused: %s", base, fe.Detail)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "", fmt.Errorf("dev token: %s has no dev issuer (%d): is it running in dev mode (serve --dev)?", base, fe.Status)
	}
	return "", fmt.Errorf("dev token: the dev server at %s answered %w", base, err)
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
