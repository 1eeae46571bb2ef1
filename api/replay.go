package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/domain"
)

// storedResponse is a successful response kept for idempotent replay. The
// domain saves it as an opaque outcome; its HTTP shape is the api's: the
// outcome's code is the status, its meta the headers.
type storedResponse struct {
	Status  int
	Headers http.Header
	Body    []byte
}

func (r storedResponse) outcome() (domain.SavedOutcome, error) {
	meta, err := json.Marshal(r.Headers)
	if err != nil {
		return domain.SavedOutcome{}, fmt.Errorf("encode stored headers: %w", err)
	}
	return domain.SavedOutcome{Code: r.Status, Meta: meta, Body: r.Body}, nil
}

func storedResponseFrom(o domain.SavedOutcome) (storedResponse, error) {
	r := storedResponse{Status: o.Code, Body: o.Body}
	if len(o.Meta) > 0 {
		if err := json.Unmarshal(o.Meta, &r.Headers); err != nil {
			return storedResponse{}, fmt.Errorf("decode stored headers: %w", err)
		}
	}
	return r, nil
}

// write answers with the stored response again, byte for byte, marked as a replay.
func (r storedResponse) write(ctx huma.Context) {
	for name, vals := range r.Headers {
		for i, v := range vals {
			if i == 0 {
				ctx.SetHeader(name, v)
			} else {
				ctx.AppendHeader(name, v)
			}
		}
	}
	ctx.SetHeader("Idempotent-Replayed", "true")
	ctx.SetStatus(r.Status)
	_, _ = ctx.BodyWriter().Write(r.Body)
}
