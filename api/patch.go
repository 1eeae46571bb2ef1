package api

import (
	"bytes"
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
)

// MergePatchType is the media type of PATCH bodies (RFC 7396).
const MergePatchType = "application/merge-patch+json"

// mergeKeys tells, for a JSON Merge Patch body, which members were sent and
// which were sent as null. Typed bodies cannot tell "absent" from "null", and
// in a merge patch null means "clear this field".
type mergeKeys map[string]bool // member name -> sent as null

func parseMergeKeys(raw []byte) mergeKeys {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return mergeKeys{}
	}
	out := make(mergeKeys, len(m))
	for k, v := range m {
		out[k] = bytes.Equal(bytes.TrimSpace(v), []byte("null"))
	}
	return out
}

// sent reports whether the member was present at all.
func (k mergeKeys) sent(name string) bool { _, ok := k[name]; return ok }

// patchValue turns a member into a domain patch value: nil when absent,
// zero when null (cleared), the value otherwise.
func patchValue[T any](k mergeKeys, name string, v *T) *T {
	if !k.sent(name) {
		return nil
	}
	if k[name] || v == nil {
		var zero T
		return &zero
	}
	return v
}

// dropRawBodyMediaTypes removes the application/octet-stream request body
// Huma documents for a RawBody field: the PATCH handlers read RawBody only to
// see which merge-patch members were sent, and answer any other media type
// 415, so advertising it would make generated clients offer a call that fails.
func dropRawBodyMediaTypes(oapi *huma.OpenAPI) {
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil || op.RequestBody == nil || len(op.RequestBody.Content) < 2 {
				continue
			}
			delete(op.RequestBody.Content, "application/octet-stream")
		}
	}
}
