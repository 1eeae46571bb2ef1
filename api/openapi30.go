package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/yaml"
)

// OpenAPI30YAML is the contract downgraded to OpenAPI 3.0 (openapi/openapi-3.0.yaml):
// Huma's downgrade, then the few 3.1 constructs it leaves behind that 3.0 does not
// allow, so 3.0-only tools (and Spectral's oas3 schema) accept the document:
//   - a $ref with sibling keywords (a description): the $ref is wrapped in allOf;
//   - Huma's patternDescription extension keyword: removed (it only words Huma's error message);
//   - info.license.identifier (3.1 only): removed, the license name stays.
func OpenAPI30YAML(oapi *huma.OpenAPI) ([]byte, error) {
	b, err := oapi.Downgrade()
	if err != nil {
		return nil, fmt.Errorf("downgrade to OpenAPI 3.0: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("downgrade to OpenAPI 3.0: %w", err)
	}
	if info, ok := doc["info"].(map[string]any); ok {
		if lic, ok := info["license"].(map[string]any); ok {
			delete(lic, "identifier")
		}
	}
	strip30(doc)
	if b, err = json.Marshal(doc); err != nil {
		return nil, fmt.Errorf("downgrade to OpenAPI 3.0: %w", err)
	}
	var out bytes.Buffer
	if err := yaml.Convert(&out, bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("downgrade to OpenAPI 3.0: %w", err)
	}
	return out.Bytes(), nil
}

func strip30(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "patternDescription")
		if ref, ok := v["$ref"]; ok && len(v) > 1 {
			delete(v, "$ref")
			v["allOf"] = []any{map[string]any{"$ref": ref}}
		}
		for _, c := range v {
			strip30(c)
		}
	case []any:
		for _, c := range v {
			strip30(c)
		}
	}
}
