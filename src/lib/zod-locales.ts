/**
 * Bundle-only stand-in for zod's `locales/index.js`, which re-exports all ~40 locales as a namespace
 * (`z.locales`, `z.core.locales`) that esbuild cannot tree-shake (~260 KB minified). wrangler.toml's
 * `[alias]` points zod's own `../locales/index.js` import here. Folio only uses English messages (zod's
 * default, set by zod itself from `locales/en.js`), so only `en` is kept.
 */
export { default as en } from 'zod/v4/locales/en.js';
