/**
 * Which pages may open a WebSocket to the web port, by the Origin header of the upgrade.
 *
 * A browser always sends it, and it cannot be forged by the page: so a page on a foreign site
 * cannot use a visitor's browser to reach this server (cross-site WebSocket hijacking) unless
 * `--web-origin` names that site. The server's own page is always allowed. A request without
 * Origin comes from a tool (wscat, a script), which could send any Origin it liked anyway, and
 * is allowed too.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === undefined) return false;
  if (allowed.includes(normalized)) return true;
  const { protocol, host: originHost } = new URL(normalized);
  return host !== undefined && originHost === normalizeHost(host, protocol);
}

/** `scheme://host[:port]` as browsers send it (lower case, no default port), or undefined if it is none. */
export function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') return undefined;
    // `new URL('http://x/').origin` is `http://x`: the same form as an Origin header.
    return url.origin;
  } catch {
    return undefined;
  }
}

/** A Host header as an origin's host part: lower case, without the default port of the origin's scheme. */
function normalizeHost(host: string, protocol: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}
