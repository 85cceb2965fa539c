/**
 * Development-only signing key, so `npm run dev` and the tests work with no secrets set. Anything
 * signed with it is worthless outside a developer's machine: `loadKeyRing` refuses it whenever
 * ENVIRONMENT=production, and a production deploy must set JWT_PRIVATE_KEY.
 */
export const DEV_SIGNING_KEY_ID = 'dev-2026-11';

export const DEV_SIGNING_JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  alg: 'EdDSA',
  kid: DEV_SIGNING_KEY_ID,
  x: 'GRuzgiH1S6s1fp7keDgdY4VUPG-9mGveZrJ64wzrE9w',
  d: 'VXj8akTJjMlmNRheLQDl_UimyWuiKcTo5DmLX28m1OQ',
} as const;
