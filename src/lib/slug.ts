/**
 * URL slugs for articles. A slug is derived from the title (kebab-case, letters and digits of any
 * script kept, diacritics dropped); uniqueness is the database's job (a unique index), with
 * `slugSuffix()` appended when the plain slug is taken.
 */

/** Longest slug base; the optional suffix adds 7 characters. */
const SLUG_MAX_LENGTH = 80;

/** Slugs that would shadow a fixed route (`GET /api/articles/feed`) always get a suffix. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(['feed']);

/** `"How to Train Your Dragon!"` → `"how-to-train-your-dragon"`; a title without letters or digits → `"article"`. */
export function slugify(title: string): string {
  const base = title
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+/, '')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/-+$/, '');
  return base || 'article';
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SLUG_SUFFIX_LENGTH = 6;

/** A random 6-character suffix (36^6 ≈ 2·10^9 values) that tells apart articles with the same title. */
export function slugSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SLUG_SUFFIX_LENGTH));
  return Array.from(bytes, (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

/** True when `slug` is `base` or `base` plus a generated suffix, i.e. still fits a title whose slug base is `base`. */
export function slugFitsBase(slug: string, base: string): boolean {
  if (slug === base) return !RESERVED_SLUGS.has(base);
  const suffix = slug.slice(base.length + 1);
  return slug.startsWith(`${base}-`) && suffix.length === SLUG_SUFFIX_LENGTH && /^[a-z0-9]+$/.test(suffix);
}
