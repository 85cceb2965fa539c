/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1, for tests and for trying social
 * sign-in offline. Runs in Node, never inside the Worker.
 *
 * Interactions are programmatic: the login page `GET /interaction/:uid` signs in the account described
 * by its query (`sub`, `email`, `email_verified`, `name`, `preferred_username`) and grants consent at
 * once. Without a query it shows a small form asking for those fields (for trying it by hand).
 *
 *   node test/oidc/idp.mjs [port]    # npm run idp:local — prints the issuer and the client to configure
 */
/* global process, console, URL */
import http from 'node:http';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'folio-local';
export const CLIENT_SECRET = 'folio-local-secret';

const page = (uid) => `<!doctype html><meta charset="utf-8"><title>Local IdP</title>
<form method="get" action="/interaction/${uid}" style="font:16px system-ui;max-width:24em;margin:3em auto;display:grid;gap:.5em">
<h1>Local IdP: sign in as</h1>
<label>Subject <input name="sub" value="local-user-1" required></label>
<label>Email <input name="email" value="reader@example.com" required></label>
<label><input type="checkbox" name="email_verified" value="true" checked> email verified</label>
<label>Name <input name="name" value="Local Reader"></label>
<button>Sign in</button></form>`;

/**
 * Starts the provider. `redirectUris` are the Folio callbacks the test client may use.
 * Resolves with `{ issuer, close }`.
 */
export async function startIdp({ port = 0, redirectUris }) {
  const accounts = new Map();
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    // Email and profile claims in the ID token itself (Folio reads the ID token, not userinfo).
    conformIdTokenClaims: false,
    cookies: { keys: ['folio-local-idp-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => claims };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('local idp error', err));

  const handler = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (!match) return handler(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const q = url.searchParams;
      if (!q.get('sub')) {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        return res.end(page(details.uid));
      }
      const sub = q.get('sub');
      const claims = { sub };
      if (q.get('email')) claims.email = q.get('email');
      claims.email_verified = q.get('email_verified') === 'true';
      if (q.get('name')) claims.name = q.get('name');
      if (q.get('preferred_username')) claims.preferred_username = q.get('preferred_username');
      accounts.set(sub, claims);
      const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: sub }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
    } catch (err) {
      res.statusCode = 400;
      res.end(String(err && err.message));
    }
  });

  return { issuer, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 9400);
  const api = process.env.FOLIO_API ?? 'http://localhost:8787';
  const { issuer } = await startIdp({ port, redirectUris: [`${api}/api/auth/local/callback`] });
  console.log(`Local OpenID provider at ${issuer}
Put in .dev.vars:
AUTH_PROVIDERS=[{"id":"local","type":"oidc","name":"Local IdP","issuer":"${issuer}","clientId":"${CLIENT_ID}"}]
AUTH_PROVIDER_LOCAL_CLIENT_SECRET=${CLIENT_SECRET}
Then open ${api}/api/auth/local/start?redirectTo=http://localhost:3000/auth/callback`);
}
