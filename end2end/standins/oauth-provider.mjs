// A stand-in for GitHub's and Discord's OAuth 2.0 endpoints and user APIs, for the browser
// tests, written from their public docs. Its authorize pages are real consent pages: the
// person (Playwright) fills in who they are at the provider and presses "Authorize", and the
// browser is sent back to Slipway with a code, as the real providers do. The token endpoint
// checks the client's credentials, the redirect URI and the PKCE verifier.
//
//   node end2end/standins/oauth-provider.mjs            listens on E2E_OAUTH_PORT (8104)
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";

const port = Number(process.env.E2E_OAUTH_PORT ?? 8104);
export const CLIENTS = {
  github: { id: "e2e-github-client", secret: "e2e-github-Secret-0a1b" },
  discord: { id: "e2e-discord-client", secret: "e2e-discord-Secret-2c3d" },
};

const codes = new Map(); // code -> { realm, redirectUri, challenge, person, scope }
const connections = new Map(); // Discord user id -> role connection
const tokens = new Map(); // access token -> { realm, person }
const refresh = new Map(); // refresh token -> { realm, person }

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const b64url = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function send(res, status, body, headers = {}) {
  const json = typeof body !== "string";
  res.writeHead(status, {
    "content-type": json ? "application/json" : "text/html; charset=utf-8",
    ...headers,
  });
  res.end(json ? JSON.stringify(body) : body);
}

function consentPage(realm, query) {
  const name = realm === "github" ? "GitHub" : "Discord";
  const hidden = [...query.entries()]
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join("");
  return `<!doctype html><html><head><title>Authorize · ${name} stand-in</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 3rem auto">
<h1>${name} (stand-in)</h1>
<p>Slipway wants to know who you are (scopes: <code>${escape(query.get("scope") ?? "")}</code>).</p>
<form method="get" action="/${realm}/consent">${hidden}
<p><label>Account id <input name="person_id" required></label></p>
<p><label>Username <input name="person_login" required></label></p>
<p><label>Email <input name="person_email" type="email" required></label></p>
<p><button type="submit">Authorize</button> <button type="submit" name="deny" value="1" formnovalidate>Cancel</button></p>
</form></body></html>`;
}

function back(res, redirectUri, params) {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  res.writeHead(302, { location: url.toString() });
  res.end();
}

function authorize(realm, query, res) {
  const client = CLIENTS[realm];
  if (query.get("client_id") !== client.id || !query.get("redirect_uri")) {
    return send(res, 400, "unknown client or no redirect_uri");
  }
  if (query.get("response_type") !== "code" || query.get("code_challenge_method") !== "S256") {
    return back(res, query.get("redirect_uri"), { error: "invalid_request", state: query.get("state") ?? "" });
  }
  send(res, 200, consentPage(realm, query));
}

function consent(realm, query, res) {
  const redirectUri = query.get("redirect_uri");
  if (query.get("deny")) return back(res, redirectUri, { error: "access_denied", state: query.get("state") ?? "" });
  const code = b64url(randomBytes(16));
  codes.set(code, {
    realm,
    redirectUri,
    challenge: query.get("code_challenge"),
    scope: query.get("scope") ?? "",
    person: { id: query.get("person_id"), login: query.get("person_login"), email: query.get("person_email") },
  });
  back(res, redirectUri, { code, state: query.get("state") ?? "" });
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
}

function clientOf(req, form) {
  const auth = req.headers.authorization ?? "";
  if (auth.startsWith("Basic ")) {
    const [id, secret] = Buffer.from(auth.slice(6), "base64").toString().split(":");
    return { id: decodeURIComponent(id), secret: decodeURIComponent(secret ?? "") };
  }
  return { id: form.get("client_id"), secret: form.get("client_secret") };
}

async function token(realm, req, res) {
  const form = new URLSearchParams(await readBody(req));
  // GitHub answers token errors with 200 and an `error` field.
  const fail = (status, error) => send(res, realm === "github" ? 200 : status, { error });
  const client = clientOf(req, form);
  if (client.id !== CLIENTS[realm].id || client.secret !== CLIENTS[realm].secret) return fail(401, "invalid_client");
  let grant;
  if (form.get("grant_type") === "authorization_code") {
    const code = codes.get(form.get("code"));
    codes.delete(form.get("code"));
    if (!code || code.realm !== realm || code.redirectUri !== form.get("redirect_uri")) return fail(400, "invalid_grant");
    const verifier = form.get("code_verifier") ?? "";
    if (!verifier || b64url(createHash("sha256").update(verifier).digest()) !== code.challenge) return fail(400, "invalid_grant");
    grant = { realm, person: code.person, scope: code.scope };
  } else if (form.get("grant_type") === "refresh_token") {
    grant = refresh.get(form.get("refresh_token"));
    refresh.delete(form.get("refresh_token"));
    if (!grant || grant.realm !== realm) return fail(400, "invalid_grant");
  } else {
    return fail(400, "unsupported_grant_type");
  }
  const access = `${realm}-at-${b64url(randomBytes(12))}`;
  const renew = `${realm}-rt-${b64url(randomBytes(12))}`;
  tokens.set(access, grant);
  refresh.set(renew, grant);
  send(res, 200, {
    access_token: access,
    token_type: realm === "github" ? "bearer" : "Bearer",
    refresh_token: renew,
    expires_in: 3600,
    scope: realm === "github" ? "read:user,user:email" : "identify email",
  });
}

function personOf(req, realm) {
  const auth = req.headers.authorization ?? "";
  const grant = tokens.get(auth.replace(/^Bearer /, ""));
  return grant && grant.realm === realm ? grant.person : null;
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const path = url.pathname;
  const q = url.searchParams;
  if (path === "/health") return send(res, 200, { ok: true });
  if (path === "/github/login/oauth/authorize") return authorize("github", q, res);
  if (path === "/discord/oauth2/authorize") return authorize("discord", q, res);
  if (path === "/github/consent") return consent("github", q, res);
  if (path === "/discord/consent") return consent("discord", q, res);
  if (path === "/github/login/oauth/access_token" && req.method === "POST") return token("github", req, res);
  if (path === "/discord/api/v10/oauth2/token" && req.method === "POST") return token("discord", req, res);
  if (path === "/github-api/user") {
    const p = personOf(req, "github");
    if (!p) return send(res, 401, { message: "Bad credentials" });
    return send(res, 200, { login: p.login, id: Number(p.id) || p.id, name: p.login, avatar_url: null });
  }
  if (path === "/github-api/user/emails") {
    const p = personOf(req, "github");
    if (!p) return send(res, 401, { message: "Bad credentials" });
    return send(res, 200, [{ email: p.email, primary: true, verified: true, visibility: "private" }]);
  }
  if (path.startsWith("/github-api/applications/") && req.method === "DELETE") {
    const body = JSON.parse((await readBody(req)) || "{}");
    tokens.delete(body.access_token);
    res.writeHead(204);
    return res.end();
  }
  if (path === "/discord/api/v10/users/@me") {
    const p = personOf(req, "discord");
    if (!p) return send(res, 401, { message: "401: Unauthorized", code: 0 });
    return send(res, 200, { id: p.id, username: p.login, global_name: p.login, avatar: null, email: p.email, verified: true });
  }
  const roleConnection = path.match(/^\/discord\/api\/v10\/users\/@me\/applications\/([^/]+)\/role-connection$/);
  if (roleConnection && req.method === "PUT") {
    const grant = tokens.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!grant || grant.realm !== "discord" || !grant.scope.split(" ").includes("role_connections.write")) {
      return send(res, 401, { message: "401: Unauthorized", code: 0 });
    }
    const body = JSON.parse((await readBody(req)) || "{}");
    connections.set(grant.person.id, body);
    return send(res, 200, body);
  }
  // For the tests to look at what Discord holds.
  const held = path.match(/^\/test\/discord\/connections\/([^/]+)$/);
  if (held) return send(res, connections.has(held[1]) ? 200 : 404, connections.get(held[1]) ?? {});
  if (path === "/discord/api/v10/oauth2/token/revoke" && req.method === "POST") {
    const form = new URLSearchParams(await readBody(req));
    refresh.delete(form.get("token"));
    tokens.delete(form.get("token"));
    return send(res, 200, {});
  }
  send(res, 404, { message: "Not Found" });
});

server.listen(port, "127.0.0.1");
