#!/usr/bin/env bash
# Re-vendors the /docs assets (Stoplight Elements) embedded in the binary:
# api/docsui/*.gz from the pinned npm package. Bump ELEMENTS and rerun; the
# page (api/docs.go) names the same version.
set -euo pipefail
ELEMENTS=9.0.25
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@stoplight/elements@$ELEMENTS" >/dev/null && tar xzf stoplight-elements-$ELEMENTS.tgz)
for f in web-components.min.js styles.min.css; do gzip -9 -n -c "$tmp/package/$f" > "api/docsui/$f.gz"; done
cp "$tmp/package/LICENSE" api/docsui/LICENSE.stoplight-elements
cp "$tmp/package/web-components.min.js.LICENSE.txt" api/docsui/
