/**
 * The secrets and vars a production deploy must set (getConfig refuses production without them), for
 * tests that switch ENVIRONMENT to production. The values are test-only.
 */
export const PRODUCTION_SECRETS = {
  GATEWAY: 'stripe',
  STRIPE_SECRET_KEY: 'sk_live_test_only',
  STRIPE_WEBHOOK_SECRET: 'whsec_production_test_only',
  // 32 bytes, base64url: the TOTP encryption key (not the development default).
  MFA_ENCRYPTION_KEY: 'cHJvZHVjdGlvbi10ZXN0LW9ubHktbWZhLWtleS0zMmI',
};
