/**
 * REST calls the page makes: demo sign-in, the calls plugin's config, its LiveKit token route and
 * host controls.
 */

const CALLS_API = '/plugins/com.mattermost.calls';

/** A failed HTTP request, with the server's own message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The calls plugin's stable error code (`livekit_disabled`, …), '' when the body has none. */
    readonly code = '',
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** `POST /demo/login` answer. */
export interface SignIn {
  token: string;
  user_id: string;
  admin: boolean;
}

/** Host control routes (`POST …/calls/{channel}/host/{action}`). */
export type HostAction =
  'make' | 'mute' | 'mute-others' | 'screen-off' | 'lower-hand' | 'remove' | 'end';

/** Pulls a readable message out of the error bodies the server sends (Mattermost's and Nest's). */
function describe(body: unknown, text: string, status: number): string {
  if (typeof body === 'object' && body !== null) {
    const b = body as { message?: unknown; error?: unknown };
    if (typeof b.message === 'string' && b.message) return b.message;
    if (Array.isArray(b.message) && b.message.length > 0) return b.message.map(String).join('; ');
    if (typeof b.error === 'string' && b.error) return b.error;
    if (typeof b.error === 'object' && b.error !== null) {
      const m = (b.error as { message?: unknown }).message;
      if (typeof m === 'string' && m) return m;
    }
  }
  return text.trim().slice(0, 200) || `HTTP ${status}`;
}

async function request<T>(
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new HttpError(0, 'the server cannot be reached');
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const code = (parsed as { code?: unknown } | null)?.code;
    throw new HttpError(
      res.status,
      describe(parsed, text, res.status),
      typeof code === 'string' ? code : '',
    );
  }
  return parsed as T;
}

/** Signs in as a demo user. */
export function signIn(name: string): Promise<SignIn> {
  return request<SignIn>('POST', '/demo/login', undefined, { name });
}

/** What the page uses of the plugin's client config (`GET /config`). */
export interface ClientConfig {
  /** ICE servers (`ICEServersConfigs`, empty on a LAN), plus TURN credentials when needed. */
  iceServers: RTCIceServer[];
  /** Whether participants may turn their camera on (`EnableVideo`; true when not reported). */
  enableVideo: boolean;
  /** Most cameras on at once in a call (`MaxCallCameras`; 0 = no limit). */
  maxCallCameras: number;
}

/**
 * The plugin's client config, with short-lived TURN credentials when the config says they are
 * needed (`withTurn`).
 */
export async function clientConfig(token: string, withTurn = true): Promise<ClientConfig> {
  const config = await request<{
    ICEServersConfigs?: unknown;
    NeedsTURNCredentials?: unknown;
    EnableVideo?: unknown;
    MaxCallCameras?: unknown;
  } | null>('GET', `${CALLS_API}/config`, token);
  const listed = Array.isArray(config?.ICEServersConfigs) ? config.ICEServersConfigs : [];
  const servers = listed.filter(isIceServer);
  if (withTurn && config?.NeedsTURNCredentials === true) {
    const turn = await request<unknown>('GET', `${CALLS_API}/turn-credentials`, token);
    if (Array.isArray(turn)) servers.push(...turn.filter(isIceServer));
  }
  const max = config?.MaxCallCameras;
  return {
    iceServers: servers,
    enableVideo: config?.EnableVideo !== false,
    maxCallCameras: typeof max === 'number' && max > 0 ? max : 0,
  };
}

/** `POST livekit-token` answer: a new session of this user in the channel's call. */
export interface LiveKitSession {
  session_id: string;
  /** The LiveKit access token (identity `userID___sessionID`, room = the channel). */
  token: string;
  /** The LiveKit URL (`ws(s)://…/livekit`). */
  url: string;
}

/**
 * A LiveKit token for a new session in the channel's call, from the calls plugin's route.
 * @throws HttpError (404 `livekit_disabled` when the server's LiveKit endpoint is off)
 */
export async function liveKitSession(token: string, channel: string): Promise<LiveKitSession> {
  const answer = await request<Partial<LiveKitSession> | null>(
    'POST',
    `${CALLS_API}/livekit-token`,
    token,
    { channel_id: channel },
  );
  const { session_id, token: lkToken, url } = answer ?? {};
  if (typeof session_id !== 'string' || typeof lkToken !== 'string' || typeof url !== 'string') {
    throw new HttpError(200, 'the LiveKit token route gave no session, token and url');
  }
  return { session_id, token: lkToken, url };
}

function isIceServer(s: unknown): s is RTCIceServer {
  return typeof s === 'object' && s !== null && 'urls' in s;
}

/** One host control; `body` is `{session_id}` or `{new_host_id}` where the action needs it. */
export async function hostControl(
  token: string,
  channel: string,
  action: HostAction,
  body?: { session_id: string } | { new_host_id: string },
): Promise<void> {
  await request(
    'POST',
    `${CALLS_API}/calls/${encodeURIComponent(channel)}/host/${action}`,
    token,
    body ?? {},
  );
}

/** Tells the page server who this token belongs to, so others can see the name. */
export async function announceSelf(token: string): Promise<void> {
  await request('POST', '/web/profile', token, {});
}

/** Display names of users who opened the page. */
export function displayNames(
  token: string,
  userIds: readonly string[],
): Promise<Record<string, string>> {
  const query = encodeURIComponent(userIds.join(','));
  return request<Record<string, string>>('GET', `/web/users?ids=${query}`, token);
}
