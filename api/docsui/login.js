// Waypoint API reference, development mode only: gets an access token for
// "Try it" from the development issuer built into this server, with the
// authorization code flow and PKCE (RFC 7636, S256). The code verifier stays
// in this tab (sessionStorage) and the token goes nowhere but this page and
// the reference's own Try it storage. Every URL is relative: it works at
// whatever address served the page.
"use strict";

(function () {
  const main = document.getElementById("login");
  const cfg = main.dataset; // authorize, token, clientId, scheme (from the contract)
  const redirectURI = location.origin + location.pathname;
  const pending = "waypoint-docs-pkce"; // sessionStorage: {verifier, state} of the request under way
  const refreshKey = "waypoint-docs-refresh"; // sessionStorage: the refresh token, for "Get a fresh token"
  // Where Stoplight Elements keeps what is typed into Try it's auth fields,
  // by security scheme name; an oauth2 field holds "Bearer <token>".
  const tryItKey = "TryIt_securitySchemeValues";
  const $ = (id) => document.getElementById(id);

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  function base64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function random(n) {
    return base64url(crypto.getRandomValues(new Uint8Array(n)));
  }

  async function start() {
    if (!window.crypto || !crypto.subtle) {
      status("This browser offers no Web Crypto here (it needs a secure context: http://localhost or 127.0.0.1 is one).", true);
      return;
    }
    const verifier = random(32); // 43 characters, as RFC 7636 asks
    const state = random(16);
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem(pending, JSON.stringify({ verifier, state }));
    const q = new URLSearchParams({
      response_type: "code",
      client_id: cfg.clientId,
      redirect_uri: redirectURI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: state,
    });
    location.assign(cfg.authorize + "?" + q.toString());
  }

  async function tokenRequest(form) {
    const res = await fetch(cfg.token, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
      credentials: "omit",
      cache: "no-store",
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.access_token) {
      throw new Error(body.error_description || body.error || "the token endpoint answered " + res.status);
    }
    return body;
  }

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0))));
    } catch (e) {
      return {};
    }
  }

  function show(tok) {
    const value = "Bearer " + tok.access_token;
    $("token").value = value;
    const c = claims(tok.access_token);
    const until = c.exp ? new Date(c.exp * 1000).toLocaleTimeString() : "?";
    $("who").textContent = (c.name || c.sub || "?") + " (subject " + (c.sub || "?") + ", roles: " +
      ((c.roles || []).join(", ") || "none") + "); valid until " + until + "; scopes: " + (tok.scope || c.scope || "");
    if (tok.refresh_token) sessionStorage.setItem(refreshKey, tok.refresh_token);
    $("refresh").hidden = !sessionStorage.getItem(refreshKey);
    try {
      const saved = JSON.parse(localStorage.getItem(tryItKey) || "{}");
      saved[cfg.scheme] = value;
      localStorage.setItem(tryItKey, JSON.stringify(saved));
    } catch (e) {
      // Storage refused (private mode): pasting still works.
    }
    $("result").hidden = false;
    status("Token ready.", false);
  }

  async function finish(params) {
    // The code and state leave the address bar (and the history) at once.
    history.replaceState(null, "", location.pathname);
    const req = JSON.parse(sessionStorage.getItem(pending) || "null");
    sessionStorage.removeItem(pending);
    if (params.get("error")) {
      status("Sign-in ended: " + (params.get("error_description") || params.get("error")), true);
      return;
    }
    if (!req || req.state !== params.get("state")) {
      status("This sign-in answer does not belong to a request made from this tab; sign in again.", true);
      return;
    }
    status("Exchanging the code for a token...", false);
    show(await tokenRequest({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectURI,
      client_id: cfg.clientId,
      code_verifier: req.verifier,
    }));
  }

  async function refresh() {
    status("Getting a fresh token...", false);
    show(await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: sessionStorage.getItem(refreshKey) || "",
      client_id: cfg.clientId,
    }));
  }

  function guard(f) {
    return () => f().catch((e) => status("Could not get a token: " + e.message, true));
  }

  $("start").addEventListener("click", guard(start));
  $("refresh").addEventListener("click", guard(refresh));
  $("copy").addEventListener("click", guard(async () => {
    await navigator.clipboard.writeText($("token").value);
    status("Copied.", false);
  }));
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) guard(() => finish(params))();
})();
