import type { TestProject } from 'vitest/node';
// @ts-expect-error -- a plain Node module (no types)
import { startGithubFake } from './github-fake.mjs';
// @ts-expect-error -- a plain Node module shared with `npm run idp:local`
import { startIdp } from './idp.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    oidcIssuer: string;
    githubUrl: string;
  }
}

/** Starts the local OpenID provider and the GitHub look-alike once for the whole run, on random loopback ports. */
export default async function setup(project: TestProject) {
  const idp = await startIdp({ redirectUris: ['http://folio.test/api/auth/local/callback'] });
  const github = await startGithubFake({ clientId: 'folio-github', clientSecret: 'folio-github-secret' });
  project.provide('oidcIssuer', idp.issuer);
  project.provide('githubUrl', github.url);
  return async () => {
    await idp.close();
    await github.close();
  };
}
