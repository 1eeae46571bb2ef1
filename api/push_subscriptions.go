package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// PushSubscriptionKeys are the browser's keys for encrypting pushes (RFC 8291).
type PushSubscriptionKeys struct {
	P256dh string `json:"p256dh" rule:"push.key" example:"BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM" doc:"The browser's P-256 public key: base64url of the uncompressed point (65 bytes)"`
	Auth   string `json:"auth" rule:"push.key" example:"tBHItJI5svbpez7KI4CCXg" doc:"The authentication secret: base64url of 16 bytes"`
}

// PushSubscriptionInput is the browser's PushSubscription, as its toJSON() gives it.
type PushSubscriptionInput struct {
	Endpoint       string               `json:"endpoint" rule:"push.endpoint" format:"uri" example:"https://fcm.googleapis.com/fcm/send/c1KrmpTuRm0:APA91bH" doc:"The push service URL (https)"`
	ExpirationTime *float64             `json:"expirationTime,omitempty" rule:"count" nullable:"true" doc:"As the browser sends it (milliseconds since 1970, or null); ignored"`
	Keys           PushSubscriptionKeys `json:"keys"`
}

// PushSubscription is one of the client's browsers receiving reminders.
type PushSubscription struct {
	ID        uuid.UUID `json:"id"`
	Endpoint  string    `json:"endpoint" rule:"push.endpoint" format:"uri" example:"https://fcm.googleapis.com/fcm/send/c1KrmpTuRm0:APA91bH"`
	CreatedAt time.Time `json:"created_at"`
}

func pushSubscriptionDTO(p domain.PushSubscription) PushSubscription {
	return PushSubscription{ID: p.ID, Endpoint: p.Endpoint, CreatedAt: p.CreatedAt}
}

type createPushSubscriptionInput struct {
	Body PushSubscriptionInput
}

type pushSubscriptionOutput struct {
	Status   int
	Location string `header:"Location" doc:"The subscription's URL"`
	Body     PushSubscription
}

type pushSubscriptionsOutput struct {
	Body Page[PushSubscription]
}

type pushSubscriptionPath struct {
	SubscriptionID uuid.UUID `path:"subscriptionId" doc:"Push subscription id"`
}

func (s *Server) registerPushSubscriptions() {
	create := Idempotent(alsoAnswers(op(http.MethodPost, "/v1/me/push-subscriptions", "createPushSubscription", "Reminders",
		"Receive reminders on this browser (Web Push)",
		"Send the browser's PushSubscription (pushManager.subscribe with the server's VAPID public key as applicationServerKey, "+
			"then subscription.toJSON()). The endpoint must be https; keys.p256dh must be an uncompressed P-256 point and keys.auth "+
			"16 bytes (422 otherwise). 201 with its id; the same endpoint again answers 200 with the same id (its keys replaced). "+
			"At most 10 per client (409). Reminders say only \"You have a reminder from Waypoint\" unless the client set "+
			"contact_preferences.push_previews, and never arrive in the client's quiet hours. Only a client has reminders: anyone else gets 403.",
		"profile:write", http.StatusConflict, http.StatusUnprocessableEntity), http.StatusOK), s.replayForPushSubscription)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createPushSubscriptionInput) (*pushSubscriptionOutput, error) {
		p, created, err := s.store.SubscribePush(ctx, actorFrom(ctx), domain.PushSubscriptionInput{
			Endpoint: in.Body.Endpoint, P256dh: in.Body.Keys.P256dh, Auth: in.Body.Keys.Auth})
		if err != nil {
			return nil, err
		}
		st := http.StatusOK
		if created {
			st = http.StatusCreated
		}
		return &pushSubscriptionOutput{Status: st, Location: "/v1/me/push-subscriptions/" + p.ID.String(), Body: pushSubscriptionDTO(p)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/me/push-subscriptions", "listPushSubscriptions", "Reminders",
		"List the browsers receiving my reminders",
		"The caller's own push subscriptions, oldest first. Only a client has them: anyone else gets 403.",
		"profile:read", invalid),
		func(ctx context.Context, in *PageParams) (*pushSubscriptionsOutput, error) {
			rows, next, err := s.store.PushSubscriptions(ctx, actorFrom(ctx), in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &pushSubscriptionsOutput{Body: newPage(rows, next, pushSubscriptionDTO)}, nil
		})

	del := op(http.MethodDelete, "/v1/me/push-subscriptions/{subscriptionId}", "deletePushSubscription", "Reminders",
		"Stop reminders on a browser",
		"Deletes one of the caller's push subscriptions (no If-Match: a subscription never changes). Someone else's, or an unknown id, is 404.",
		"profile:write", notFound, invalid)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *pushSubscriptionPath) (*struct{}, error) {
		return nil, s.store.UnsubscribePush(ctx, actorFrom(ctx), in.SubscriptionID)
	})
}

// replayForPushSubscription guards a replay: the subscription must still be the caller's.
func (s *Server) replayForPushSubscription(ctx context.Context, _ huma.Context, body []byte) error {
	id, err := uuid.Parse(storedID(body))
	if err != nil {
		return err
	}
	return s.store.ReplayPushSubscription(ctx, actorFrom(ctx), id)
}
