import type { IncomingHttpHeaders } from 'node:http';

/** What the LiveKit URL is derived from when none is configured. */
export interface UrlRequest {
  readonly headers: IncomingHttpHeaders;
  /** Express's `req.protocol` (honours `trust proxy`), when the platform gives one. */
  readonly protocol?: string;
}

/**
 * The LiveKit URL for clients: the configured one, else `ws(s)://<host><path>` from the request
 * (`X-Forwarded-Proto`/`X-Forwarded-Host` first, as a reverse proxy sets them).
 */
export function liveKitUrl(configured: string, path: string, req: UrlRequest): string {
  if (configured) return configured;
  const first = (value: string | string[] | undefined): string | undefined =>
    (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
  const proto = first(req.headers['x-forwarded-proto']) ?? req.protocol ?? 'http';
  const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? 'localhost';
  return `${proto === 'https' || proto === 'wss' ? 'wss' : 'ws'}://${host}${path}`;
}
