// A hand-written TypeScript client of Waypoint's HTTP API (fetch only), kept
// type-checking by CI (tsc --noEmit, strict). docs/third-party-guide.md walks
// through it: tokens and refresh, problem+json errors, cursor pagination,
// Idempotency-Key, ETag/If-Match, rate limits and live events.

/** An RFC 9457 problem+json error, as every 4xx/5xx carries. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  request_id?: string;
  errors?: { message: string; location?: string; value?: unknown }[];
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly body: ProblemBody,
    readonly retryAfterSeconds: number | undefined,
    readonly etag: string | null,
  ) {
    const fields = (body.errors ?? []).map((e) => `; ${e.location ?? ""}: ${e.message}`).join("");
    super(`${status} ${body.title ?? ""}: ${body.detail ?? ""}${fields} (request ${body.request_id ?? "?"})`);
  }
}

export interface Goal {
  id: string;
  client_id: string;
  title: string;
  lifecycle_status: string;
  version: number;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

export interface Me {
  id: string;
  display_name: string;
  roles: string[];
  client_id?: string;
}

/** Holds the access token and renews it with the refresh_token grant before it expires. */
export class TokenSource {
  private expiresAt: number;

  constructor(
    private readonly tokenURL: string, // e.g. http://127.0.0.1:8080/dev/oidc/token
    private readonly clientID: string, // your app's client id (public client, PKCE)
    private access: string,
    private refresh: string | undefined,
    expiresInSeconds: number,
  ) {
    this.expiresAt = Date.now() + expiresInSeconds * 1000;
  }

  async token(): Promise<string> {
    if (this.refresh === undefined || this.expiresAt - Date.now() > 30_000) return this.access;
    const res = await fetch(this.tokenURL, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.refresh, client_id: this.clientID }),
    });
    const body = (await res.json()) as {
      access_token?: string;
      refresh_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!res.ok || body.access_token === undefined) {
      // invalid_grant: the refresh token expired or was revoked; sign in again.
      throw new Error(`refresh token: ${body.error ?? res.status}: ${body.error_description ?? ""}`);
    }
    this.access = body.access_token;
    this.expiresAt = Date.now() + (body.expires_in ?? 300) * 1000;
    if (body.refresh_token !== undefined) this.refresh = body.refresh_token; // rotation
    return this.access;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Waypoint {
  constructor(
    private readonly baseURL: string,
    private readonly tokens: TokenSource,
  ) {}

  /** One request; 2xx JSON comes back with the response headers, anything else throws a Problem. */
  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ data: T; headers: Headers }> {
    const h: Record<string, string> = { Authorization: `Bearer ${await this.tokens.token()}`, Accept: "application/json", ...headers };
    const init: RequestInit = { method, headers: h };
    if (body !== undefined) {
      // PATCH bodies are JSON Merge Patch.
      h["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(this.baseURL + path, init);
    if (!res.ok) {
      const isProblem = (res.headers.get("Content-Type") ?? "").startsWith("application/problem+json");
      const problem: ProblemBody = isProblem ? ((await res.json()) as ProblemBody) : { status: res.status };
      const retry = res.headers.get("Retry-After");
      throw new Problem(res.status, problem, retry === null ? undefined : Number(retry), res.headers.get("ETag"));
    }
    const data = (res.status === 204 ? undefined : await res.json()) as T;
    return { data, headers: res.headers };
  }

  /**
   * Retries what Waypoint asks to retry: 429 (rate limited), 503 (database unavailable) and
   * 409 (an Idempotency-Key still in flight) carry Retry-After in seconds. The RateLimit header
   * ("person";r=37;t=4) says how many requests may be sent now.
   */
  async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!(err instanceof Problem) || attempt === 4 || ![409, 429, 503].includes(err.status)) throw err;
        await sleep((err.retryAfterSeconds ?? 2 ** attempt) * 1000);
      }
    }
  }

  async me(): Promise<Me> {
    return (await this.request<Me>("GET", "/v1/me")).data;
  }

  /** Every goal of a client, following next_cursor page by page. */
  async *goals(clientId: string): AsyncGenerator<Goal> {
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: "100" });
      if (cursor !== undefined) q.set("cursor", cursor);
      const page = await this.withRetry(() => this.request<Page<Goal>>("GET", `/v1/clients/${clientId}/goals?${q}`));
      yield* page.data.items;
      cursor = page.data.next_cursor;
    } while (cursor !== undefined);
  }

  /**
   * Creates a goal with one Idempotency-Key for the user's intent: a retry after a timeout sends the
   * same key and body, and Waypoint replays the first answer (Idempotent-Replayed: true).
   */
  async createGoal(clientId: string, title: string): Promise<Goal> {
    const key = crypto.randomUUID();
    const res = await this.withRetry(() =>
      this.request<Goal>("POST", `/v1/clients/${clientId}/goals`, { title }, { "Idempotency-Key": key }),
    );
    return res.data;
  }

  /** Changes a goal's title with If-Match; on 412 (someone changed it first) re-reads and reapplies. */
  async renameGoal(goalId: string, title: string): Promise<Goal> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.request<Goal>("GET", `/v1/goals/${goalId}`);
      const etag = current.headers.get("ETag") ?? "";
      try {
        return (await this.request<Goal>("PATCH", `/v1/goals/${goalId}`, { title }, { "If-Match": etag })).data;
      } catch (err) {
        if (!(err instanceof Problem) || err.status !== 412) throw err;
      }
    }
    throw new Error(`goal ${goalId} kept changing; giving up`);
  }

  /**
   * Follows GET /v1/events with fetch (EventSource cannot send Authorization). On a dropped
   * connection it reconnects with Last-Event-ID, and Waypoint replays what was missed; a
   * "resync" event means: reload your data, then continue.
   */
  async events(onEvent: (ev: { id: string; type: string; data: string }) => void, signal: AbortSignal): Promise<void> {
    let lastId: string | undefined;
    let retryMs = 2000;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = { Authorization: `Bearer ${await this.tokens.token()}`, Accept: "text/event-stream" };
        if (lastId !== undefined) headers["Last-Event-ID"] = lastId;
        const res = await fetch(this.baseURL + "/v1/events", { headers, signal });
        if (res.status === 401 || res.status === 403) throw new Problem(res.status, (await res.json()) as ProblemBody, undefined, null);
        if (!res.ok || res.body === null) throw new Error(`events: ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        let ev = { id: "", type: "", data: [] as string[] };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              if (ev.id !== "") lastId = ev.id;
              if (ev.data.length > 0) onEvent({ id: ev.id, type: ev.type || "message", data: ev.data.join("\n") });
              ev = { id: "", type: "", data: [] };
              continue;
            }
            const colon = line.indexOf(":");
            if (colon === 0) continue; // comment: heartbeat
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") ev.id = value;
            else if (field === "event") ev.type = value;
            else if (field === "data") ev.data.push(value);
            else if (field === "retry" && /^\d+$/.test(value)) retryMs = Number(value);
          }
        }
      } catch (err) {
        if (err instanceof Problem || signal.aborted) throw err;
      }
      await sleep(retryMs);
    }
  }
}

/** Example: sign in as alice (`waypoint dev token --subject alice`), create, rename and list goals. */
export async function main(baseURL: string, accessToken: string): Promise<void> {
  const wp = new Waypoint(baseURL, new TokenSource(`${baseURL}/dev/oidc/token`, "waypoint-dev-cli", accessToken, undefined, 3600));
  const me = await wp.me();
  if (me.client_id === undefined) throw new Error(`${me.display_name} is not a client`);
  const goal = await wp.createGoal(me.client_id, "Find a quiet place to study");
  const renamed = await wp.renameGoal(goal.id, "Find a quiet place to study, near the bus");
  console.log(`created ${renamed.id} "${renamed.title}" (version ${renamed.version})`);
  for await (const g of wp.goals(me.client_id)) console.log(`${g.id}\t${g.lifecycle_status}\t${g.title}`);
}
