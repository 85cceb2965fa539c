// The generated client types (src/client/api.d.ts) against the real API: openapi-fetch sends every
// request through the Worker's own fetch handler. A route or schema that drifts from the committed types
// fails `npm run typecheck` here (and `npm run client:check` in lint); a wrong runtime shape fails the test.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import createClient from 'openapi-fetch';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { components, paths } from '../../src/client/api';
import worker from '../../src/index';
import { randomIp } from '../helpers/request';
import { unique } from '../helpers/factories';

type User = components['schemas']['User'];
type Article = components['schemas']['Article'];

/** A typed client whose fetch is the Worker's handler (one client IP per client, like one browser). */
function folioClient() {
  const ip = randomIp();
  return createClient<paths>({
    baseUrl: 'http://folio.test',
    fetch: async (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set('CF-Connecting-IP', ip);
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request(request, { headers }) as Request<unknown, IncomingRequestCfProperties>,
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return response;
    },
  });
}

describe('typed client (openapi-fetch + generated types)', () => {
  it('registers, writes an article with tags, comments and lists it, typed end to end', async () => {
    const client = folioClient();
    const name = unique('typed');
    const registered = await client.POST('/api/users', {
      body: { user: { username: name, email: `${name}@example.com`, password: 'typed-client-pw' } },
    });
    expect(registered.response.status).toBe(201);
    const user = registered.data!.user;
    expectTypeOf(user).toEqualTypeOf<User>();
    expect(user).toMatchObject({ username: name, bio: null, image: null });
    const auth = { Authorization: `Token ${user.token}` };

    const created = await client.POST('/api/articles', {
      headers: auth,
      body: { article: { title: 'Typed', description: 'From the client', body: 'Hello', tagList: ['typed'] } },
    });
    expect(created.response.status).toBe(201);
    const article = created.data!.article;
    expectTypeOf(article).toEqualTypeOf<Article>();
    expect(article.tagList).toEqual(['typed']);

    const comment = await client.POST('/api/articles/{slug}/comments', {
      headers: auth,
      params: { path: { slug: article.slug } },
      body: { comment: { body: 'First!' } },
    });
    expect(comment.data!.comment.id).toEqual(expect.any(Number));

    const list = await client.GET('/api/articles', { params: { query: { author: name, limit: 5 } } });
    expect(list.data!.articlesCount).toBe(1);
    expect(list.data!.articles[0]).not.toHaveProperty('body');

    const profile = await client.GET('/api/profiles/{username}', { params: { path: { username: name } } });
    expect(profile.data!.profile.following).toBe(false);
  });

  it('types error bodies as the error model', async () => {
    const client = folioClient();
    const res = await client.POST('/api/users', {
      body: { user: { username: '', email: 'x@y.z', password: 'short' } },
    });
    expect(res.response.status).toBe(422);
    expectTypeOf(res.error).toEqualTypeOf<components['schemas']['GenericErrorModel'] | undefined>();
    expect(res.error!.errors.username).toContain("can't be blank");
  });

  it('rejects requests that do not match the document at compile time', () => {
    const client = folioClient();
    // Not sent: these calls only exist for the type checker, which must refuse them.
    const compileOnly = () => {
      // @ts-expect-error the register body needs a password
      void client.POST('/api/users', { body: { user: { username: 'a', email: 'a@b.c' } } });
      // @ts-expect-error no such route
      void client.GET('/api/nope');
      // @ts-expect-error the path parameter is required
      void client.GET('/api/articles/{slug}', {});
      // @ts-expect-error limit is a number
      void client.GET('/api/articles', { params: { query: { limit: 'ten' } } });
    };
    expect(compileOnly).toBeTypeOf('function');
  });
});
