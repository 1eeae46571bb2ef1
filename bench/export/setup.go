package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
)

// account is a signed-in client: the token and the client record.
type account struct {
	token, clientID, personID string
}

// world is what setUp made: the big client, and a small one for warming up.
type world struct {
	big, small account
}

// setUp provisions the people through the API (alice, whose export is
// measured; bob, a small client; wanda on both care teams; adam, an admin),
// gives alice goals, check-ins and conversations through the API, then bulk
// loads her messages and access-log entries in SQL.
func setUp(ctx context.Context, hc *http.Client, srv *server, c config) (*world, error) {
	conn, err := pgx.Connect(ctx, c.db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	mint, err := minter(ctx, conn, srv.issuer)
	if err != nil {
		return nil, err
	}
	api := func(method, path, token string, body any, want int, out any) error {
		return load.Call(ctx, hc, method, srv.url+path, token, body, want, out)
	}
	login := func(subject, role string) (account, error) {
		a := account{token: mint(subject, role)}
		var me struct {
			ID       string `json:"id"`
			ClientID string `json:"client_id"`
		}
		err := api(http.MethodGet, "/v1/me", a.token, nil, http.StatusOK, &me)
		a.personID, a.clientID = me.ID, me.ClientID
		return a, err
	}
	var w world
	var wanda, adam account
	for _, p := range []struct {
		acc           *account
		subject, role string
	}{{&w.big, "alice", "client"}, {&w.small, "bob", "client"}, {&wanda, "wanda", "worker"}, {&adam, "adam", "admin"}} {
		if *p.acc, err = login(p.subject, p.role); err != nil {
			return nil, err
		}
	}
	log.Printf("seeding goals and conversations through the API ...")
	for _, cl := range []account{w.big, w.small} {
		if err := api(http.MethodPut, "/v1/clients/"+cl.clientID+"/care-team/"+wanda.personID, adam.token, nil, http.StatusCreated, nil); err != nil {
			return nil, err
		}
	}
	convs, err := seedRecords(api, w, wanda)
	if err != nil {
		return nil, err
	}
	log.Printf("loading %d messages and %d access-log entries ...", c.messages, c.accessLog)
	if err := loadMessages(ctx, conn, w.big, wanda, convs, c.messages); err != nil {
		return nil, err
	}
	return &w, loadAccessLog(ctx, conn, w.big, wanda, c.accessLog)
}

type apiCall func(method, path, token string, body any, want int, out any) error

// seedRecords gives alice 20 goals (3 steps, 5 check-ins each, each read
// once by wanda) and 10 conversations with wanda; bob gets one of each. It
// returns alice's conversations.
func seedRecords(api apiCall, w world, wanda account) ([]string, error) {
	for i := 0; i < 20; i++ {
		var g struct{ ID string }
		body := map[string]any{"title": fmt.Sprintf("Goal %d: find stable housing", i), "why_it_matters": "So my kids have a home",
			"steps": []any{map[string]any{"title": "Call the housing office"}, map[string]any{"title": "Gather documents"},
				map[string]any{"title": "Visit two flats"}}}
		if err := api(http.MethodPost, "/v1/clients/"+w.big.clientID+"/goals", w.big.token, body, http.StatusCreated, &g); err != nil {
			return nil, err
		}
		for r := 0; r < 5; r++ {
			if err := api(http.MethodPost, "/v1/goals/"+g.ID+"/check-ins", w.big.token, map[string]any{"rating": r + 3, "note": "Some progress"},
				http.StatusCreated, nil); err != nil {
				return nil, err
			}
		}
		if err := api(http.MethodGet, "/v1/goals/"+g.ID, wanda.token, nil, http.StatusOK, nil); err != nil {
			return nil, err
		}
	}
	var convs []string
	for i := 0; i < 10; i++ {
		var cv struct{ ID string }
		if err := api(http.MethodPost, "/v1/conversations", w.big.token, map[string]any{"subject": fmt.Sprintf("Topic %d", i)}, http.StatusCreated, &cv); err != nil {
			return nil, err
		}
		convs = append(convs, cv.ID)
	}
	if err := api(http.MethodPost, "/v1/clients/"+w.small.clientID+"/goals", w.small.token, map[string]any{"title": "Get a job"}, http.StatusCreated, nil); err != nil {
		return nil, err
	}
	var cv struct{ ID string }
	if err := api(http.MethodPost, "/v1/conversations", w.small.token, map[string]any{"subject": "Hello"}, http.StatusCreated, &cv); err != nil {
		return nil, err
	}
	return convs, api(http.MethodPost, "/v1/conversations/"+cv.ID+"/messages", w.small.token, map[string]any{"body": "Hi"}, http.StatusCreated, nil)
}

// loadMessages copies n messages into alice's conversations, round robin,
// alternating between alice and wanda, with bodies of 20 to 600 characters;
// ids are UUIDv7 in order, as the API assigns them.
func loadMessages(ctx context.Context, conn *pgx.Conn, alice, wanda account, convs []string, n int) error {
	words := strings.Fields("I called the housing office again today and they said the application is still being reviewed " +
		"can we meet on Thursday afternoon to go through the forms together thank you so much for your help with the deposit")
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-time.Duration(n) * time.Second)
	rows := make([][]any, 0, n)
	for i := 0; i < n; i++ {
		var b strings.Builder
		for target := 20 + rng.IntN(580); b.Len() < target; {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		sender := alice.personID
		if i%2 == 1 {
			sender = wanda.personID
		}
		rows = append(rows, []any{alice.clientID, convs[i%len(convs)], uuid.Must(uuid.NewV7()).String(), sender,
			strings.TrimSpace(b.String()), start.Add(time.Duration(i) * time.Second)})
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"client_id", "conversation_id", "id", "sender_id", "body", "created_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy messages: %w", err)
	}
	_, err = conn.Exec(ctx, `UPDATE conversations c SET last_message_id = m.id, activity_id = m.id
		FROM (SELECT DISTINCT ON (conversation_id) conversation_id, id FROM messages WHERE client_id = $1
			ORDER BY conversation_id, id DESC) m
		WHERE c.client_id = $1 AND c.id = m.conversation_id`, alice.clientID)
	if err == nil {
		_, err = conn.Exec(ctx, `UPDATE conversation_participants p SET read_up_to = c.last_message_id, read_at = now()
			FROM conversations c WHERE c.client_id = p.client_id AND c.id = p.conversation_id AND p.client_id = $1 AND p.person_id = $2`,
			alice.clientID, wanda.personID)
	}
	return err
}

// loadAccessLog copies n reads by wanda into alice's access log.
func loadAccessLog(ctx context.Context, conn *pgx.Conn, alice, wanda account, n int) error {
	rows := make([][]any, 0, n)
	for i := 0; i < n; i++ {
		rows = append(rows, []any{alice.clientID, uuid.Must(uuid.NewV7()).String(), wanda.personID, "waypoint-web", "read", "goal",
			uuid.Must(uuid.NewV7()).String(), "care_team_worker", "Find stable housing", uuid.Must(uuid.NewV7()).String()})
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"access_log"},
		[]string{"client_id", "id", "actor_person_id", "app_id", "action", "resource", "resource_id", "relationship", "label", "request_id"},
		pgx.CopyFromRows(rows))
	return err
}

// minter signs tokens with the server's dev key (the server stores it).
func minter(ctx context.Context, conn *pgx.Conn, issuer string) (func(subject, role string) string, error) {
	var pemKey string
	if err := conn.QueryRow(ctx, `SELECT pem FROM dev_signing_keys WHERE id = 1`).Scan(&pemKey); err != nil {
		return nil, fmt.Errorf("dev signing key: %w", err)
	}
	key, err := devissuer.ParseKey([]byte(pemKey))
	if err != nil {
		return nil, err
	}
	iss, err := devissuer.New(issuer, "waypoint", key, devissuer.DefaultPersonas())
	if err != nil {
		return nil, err
	}
	return func(subject, role string) string {
		tok, err := iss.Mint(devissuer.TokenRequest{Subject: subject, Name: subject, Roles: []string{role}, TTL: time.Hour})
		if err != nil {
			log.Fatalf("mint: %v", err)
		}
		return tok
	}, nil
}

// errIncomplete is a document that ended without "complete": true.
var errIncomplete = errors.New("incomplete export")
