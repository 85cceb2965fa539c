import type { TestProject } from 'vitest/node';
// @ts-expect-error -- a plain Node module shared with `npm run idp:local`
import { startIdp } from './idp.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    oidcIssuer: string;
  }
}

/** Starts the local OpenID provider once for the whole run, on a random loopback port. */
export default async function setup(project: TestProject) {
  const idp = await startIdp({ redirectUris: ['http://folio.test/api/auth/local/callback'] });
  project.provide('oidcIssuer', idp.issuer);
  return () => idp.close();
}
