/* global console, URL, URLSearchParams, Buffer */
/**
 * A GitHub Enterprise Server look-alike on 127.0.0.1, for the `github` provider type's tests: the
 * OAuth web flow (with PKCE S256 and client_secret_basic checked) and the two REST calls Folio makes,
 * `GET /api/v3/user` and `GET /api/v3/user/emails`. GitHub itself is not an OpenID provider, so this
 * stands in for it offline; the authorize step signs in as the account given in its query
 * (`test_id`, `test_login`, `test_email`, `test_verified`).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

export async function startGithubFake({ clientId, clientSecret }) {
  const codes = new Map();
  const tokens = new Map();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const json = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256') return json(400, {});
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        challenge: q.get('code_challenge'),
        redirectUri: q.get('redirect_uri'),
        user: {
          id: Number(q.get('test_id')),
          login: q.get('test_login'),
          email: q.get('test_email'),
          verified: q.get('test_verified') === 'true',
        },
      });
      const back = new URL(q.get('redirect_uri'));
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state'));
      res.writeHead(302, { Location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      // RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')
        .map((part) => decodeURIComponent(part));
      if (id !== clientId || secret !== clientSecret) return json(401, { error: 'invalid_client' });
      const grant = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      const challenge = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      if (!grant || grant.challenge !== challenge || grant.redirectUri !== form.get('redirect_uri')) {
        return json(400, { error: 'invalid_grant' });
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!user) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/api/v3/user') return json(200, { id: user.id, login: user.login, name: null });
    if (url.pathname === '/api/v3/user/emails') {
      return json(200, [
        { email: `old-${user.email}`, primary: false, verified: true },
        { email: user.email, primary: true, verified: user.verified },
      ]);
    }
    return json(404, {});
  });
  server.on('error', (err) => console.error('github fake error', err));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}
