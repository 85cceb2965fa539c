/* global module */
/**
 * Folio's layer rules (npm run lint). Imports point down: src/index.ts → src/app.ts → feature folders
 * → shared modules. Shared modules import no feature. A feature imports another feature only along
 * one of the edges listed in FEATURE_EDGES, each with its reason. Add an edge here (with a reason)
 * before adding the import; if two features need the same helper, move it down to a shared module.
 */
const SHARED = '^src/(lib|db|middleware|http|email|security)/|^src/(errors|env|config|openapi|router)[.]ts$';

/** [from feature, to module path (regex), reason] */
const FEATURE_EDGES = [
  [
    'accounts|admin|articles|billing|comments|messages|profiles|system|tags|media|webhooks|privacy|mfa|social|passkeys',
    '^src/sessions/sessions[.]middleware[.]ts$',
    'routes guard themselves with requireAuth / optionalAuth / requirePermission',
  ],
  [
    'admin|privacy',
    '^src/sessions/sessions[.](kv|service)[.]ts$',
    'role changes, bans and account deletion revoke sessions and drop their KV copies',
  ],
  [
    'accounts|articles|billing|comments',
    '^src/webhooks/webhooks[.]outbox[.]ts$',
    'write paths put their webhook event in the same batch as the change',
  ],
  [
    'accounts|mfa|social|passkeys',
    '^src/sessions/',
    'sign-in, refresh and password changes create, rotate and revoke sessions',
  ],
  [
    'accounts|social',
    '^src/mfa/mfa[.](service|schemas)[.]ts$',
    'a sign-in on a two-factor account asks for the second factor; re-authentication checks it',
  ],
  [
    'mfa|social|passkeys',
    '^src/accounts/(accounts[.](present|schemas|service)|users[.]queries)[.]ts$',
    'every sign-in method answers with the same user object and creates or finds accounts the same way',
  ],
  [
    'articles|billing|comments|profiles',
    '^src/accounts/users[.]queries[.]ts$',
    'the one way to look a user up by username',
  ],
  [
    'articles|comments',
    '^src/profiles/profiles[.](queries|present|schemas)[.]ts$',
    "authors are shown as profiles, with the viewer's following flag",
  ],
  ['articles|comments', '^src/billing/membership[.]ts$', 'who may read a members-only or paid body'],
  ['comments', '^src/articles/articles[.]queries[.]ts$', 'comments belong to an article the viewer can read'],
  ['billing', '^src/articles/articles[.]queries[.]ts$', 'buying an article starts from one the buyer can read'],
  [
    'messages',
    '^src/profiles/profiles[.](present|schemas)[.]ts$',
    'participants, senders and blocked members are shown as profiles',
  ],
  [
    'accounts|admin|privacy|sessions',
    '^src/messages/realtime[.]notify[.]ts$',
    'revoking a session (logout, revocation, password change, ban, role change, account deletion) closes its WebSockets',
  ],
  [
    'accounts',
    '^src/messages/messages[.]queries[.]ts$',
    'a profile edit bumps, in its batch, the inbox version of everyone whose conversation list shows the member',
  ],
  [
    'admin',
    '^src/messages/messages[.]service[.]ts$',
    "moderators remove a reported message with the same tombstone as the sender's delete",
  ],
  [
    'privacy',
    '^src/billing/billing[.](deps|admin)[.]ts$',
    "account deletion cancels the member's gateway subscription before its batch",
  ],
  [
    'maintenance',
    '^src/(accounts|articles|billing|messages|sessions|webhooks|privacy)/[^/]+[.](service|derived|queries|sender|deps)[.]ts$',
    'scheduled jobs call the same services as requests',
  ],
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles tangle layers.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-imports-no-feature',
      severity: 'error',
      comment: 'lib/, db/, middleware/, http/, email/, security/ and the top-level shared modules import no feature.',
      from: { path: SHARED },
      to: { path: '^src/', pathNot: SHARED },
    },
    {
      name: 'src-imports-no-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      // The runtime's own modules (cloudflare:workers) resolve only inside workerd.
      to: { couldNotResolve: true, pathNot: '^cloudflare:' },
    },
  ],
  allowed: [
    // Anything may use external packages and the runtime's modules.
    { from: {}, to: { dependencyTypesNot: ['local'] } },
    // Tests and tooling may import anything.
    { from: { pathNot: '^src/' }, to: {} },
    // The entry and the app compose everything.
    { from: { path: '^src/(index|app)[.]ts$' }, to: { path: '^src/' } },
    // Every module may use the shared modules; a folder may use itself.
    { from: { path: '^src/' }, to: { path: SHARED } },
    { from: { path: '^src/([^/]+)/' }, to: { path: '^src/$1/' } },
    ...FEATURE_EDGES.map(([from, to]) => ({ from: { path: `^src/(${from})/` }, to: { path: to } })),
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    exclude: { path: 'src/worker-configuration[.]d[.]ts$' },
  },
};
