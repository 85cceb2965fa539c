/**
 * Which endpoint URLs Folio will call. Workers cannot resolve DNS before fetching, so in production
 * the check is on the URL itself: https only, the default port, no credentials, no IP literal of any
 * kind (v4 or v6, in any notation the URL parser normalises), and no name that is local by definition
 * (`localhost`, single-label names, `.localhost`, `.local`, `.internal`, `.home.arpa`, ...). Redirects
 * are never followed when delivering. A public name that resolves to a private address is not caught
 * here; from Cloudflare's network such addresses are not routable.
 */
export function endpointUrlProblem(raw: string, isProduction: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be a valid URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash) return 'must not contain a fragment';
  if (!isProduction) return url.protocol === 'https:' || url.protocol === 'http:' ? null : 'must be an http(s) URL';
  if (url.protocol !== 'https:') return 'must use https';
  if (url.port !== '') return 'must use the default https port';
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || /^[0-9.]+$/.test(host) || /^0x/i.test(host)) return 'must not be an IP address';
  if (!host.includes('.')) return 'must be a public host name';
  if (/(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/.test(host)) {
    return 'must be a public host name';
  }
  return null;
}
