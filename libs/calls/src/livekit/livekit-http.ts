import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

const REASONS: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** Refuses a WebSocket upgrade with an HTTP status and a text body, then closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  const text = Buffer.from(body);
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${text.length}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The access token of a LiveKit request: `access_token` in the query, or a Bearer header. */
export function accessToken(url: URL, headers: IncomingHttpHeaders): string | null {
  const query = url.searchParams.get('access_token');
  if (query) return query;
  const match = headers.authorization?.match(/^Bearer (\S+)$/);
  return match ? match[1] : null;
}

/** The request's URL (path and query), parsed. */
export function requestUrl(url: string | undefined): URL {
  return new URL(url ?? '/', 'http://localhost');
}
