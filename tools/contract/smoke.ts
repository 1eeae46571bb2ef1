// Smoke program for the generated TypeScript client (make test-clients):
// openapi-typescript types from openapi/openapi.yaml + openapi-fetch, run
// against a dev server. WAYPOINT_URL and WAYPOINT_TOKEN come from
// scripts/test-clients.sh. Exits non-zero on the first surprise.
import createClient from "openapi-fetch";
import type { paths, components } from "./gen/waypoint.js";

type Goal = components["schemas"]["Goal"];
type Problem = components["schemas"]["Problem"];

function fail(msg: string): never {
  console.error(`typescript client: ${msg}`);
  process.exit(1);
}

const baseUrl = process.env.WAYPOINT_URL ?? fail("WAYPOINT_URL is not set");
const token = process.env.WAYPOINT_TOKEN ?? fail("WAYPOINT_TOKEN is not set");
// JSON and problem+json only: the types of the JSON representation (goals also come as application/fhir+json).
const api = createClient<paths, "application/json" | "application/problem+json">({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

const me = await api.GET("/v1/me");
if (!me.data) fail(`GET /v1/me: ${me.response.status}`);
const clientId = me.data.client_id ?? fail("alice has no client record");

// Create three goals, then read them back two at a time.
const created: string[] = [];
for (const title of ["Find a dentist", "Renew my ID", "Open a bank account"]) {
  const r = await api.POST("/v1/clients/{clientId}/goals", {
    params: { path: { clientId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { title: `ts: ${title}` },
  });
  if (!r.data) fail(`create goal: ${r.response.status} ${JSON.stringify(r.error)}`);
  created.push(r.data.id);
}

const seen: Goal[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const r = await api.GET("/v1/clients/{clientId}/goals", {
    params: { path: { clientId }, query: { limit: 2, ...(cursor ? { cursor } : {}) } },
  });
  if (!r.data) fail(`list goals: ${r.response.status}`);
  if (!Array.isArray(r.data.items)) fail("page items is not an array");
  seen.push(...r.data.items);
  cursor = r.data.next_cursor;
  pages++;
} while (cursor && pages < 100);
if (pages < 2) fail(`expected several pages of 2, got ${pages}`);
for (const id of created) {
  if (!seen.some((g) => g.id === id)) fail(`goal ${id} missing from the list`);
}

// A stale If-Match is 412 with a problem whose type is always present.
const goal = await api.GET("/v1/goals/{goalId}", { params: { path: { goalId: created[0] ?? fail("no goal") } } });
if (!goal.data) fail(`get goal: ${goal.response.status}`);
const etag = goal.response.headers.get("ETag") ?? fail("no ETag");
const patch = (ifMatch: string) =>
  api.PATCH("/v1/goals/{goalId}", {
    params: { path: { goalId: goal.data.id }, header: { "If-Match": ifMatch } },
    body: { priority: "high" },
    headers: { "Content-Type": "application/merge-patch+json" },
  });
const ok = await patch(etag);
if (!ok.data || ok.data.priority !== "high") fail(`patch with the current ETag: ${ok.response.status}`);
const stale = await patch(etag); // the version moved on
if (stale.response.status !== 412) fail(`stale If-Match: want 412, got ${stale.response.status}`);
const problem: Problem | undefined = stale.error;
if (!problem || typeof problem.type !== "string" || problem.status !== 412) fail(`412 problem: ${JSON.stringify(problem)}`);
const fresh = stale.response.headers.get("ETag") ?? fail("412 without the current ETag");
const retried = await patch(fresh);
if (!retried.data) fail(`retry with the ETag of the 412: ${retried.response.status}`);

console.log(`typescript client: ok (${created.length} goals created, ${seen.length} listed in ${pages} pages, 412 handled)`);
