import { randomBytes } from 'node:crypto';
import type { JoinResponse } from '@livekit/protocol';
import { mintLiveKitToken, type LiveKitGrantsInput } from '@app/calls';
import { parsePrometheus } from './calls-probe';
import { TestHostApp } from './host-app';
import { LiveKitMediaPeer } from './livekit-media-peer';
import { LiveKitTestClient } from './livekit-test-client';
import { LogRecorder } from './log-recorder';

/** A LiveKit participant that has received its `join`. */
export interface LiveKitParticipant {
  readonly client: LiveKitTestClient;
  readonly userId: string;
  readonly sessionId: string;
  /** `userID___sessionID`, and `PA_<session>`, as the join response says. */
  readonly identity: string;
  readonly sid: string;
  readonly join: JoinResponse;
}

/** A LiveKit participant with real WebRTC. */
export interface LiveKitMediaParticipant extends LiveKitParticipant {
  readonly peer: LiveKitMediaPeer;
}

/**
 * The demo host app with its LiveKit endpoint on (a key of its own, errors and warnings
 * recorded), and LiveKit participants of demo users, closed with it.
 */
export class LiveKitTestHost {
  readonly key = { apiKey: 'lk-test', apiSecret: randomBytes(24).toString('hex') };
  /** The endpoint's path (`RUSTCHAT_CALLS_LIVEKIT_PATH`'s default). */
  readonly path = '/livekit';
  readonly logs = new LogRecorder();
  private readonly clients: LiveKitTestClient[] = [];
  private readonly peers: LiveKitMediaPeer[] = [];
  private app: TestHostApp | null = null;

  /** Starts it with `env` (the LiveKit key is added). */
  static async start(env: Record<string, string>): Promise<LiveKitTestHost> {
    const host = new LiveKitTestHost();
    host.app = await TestHostApp.start(
      { ...env, RUSTCHAT_CALLS_LIVEKIT_KEYS: `${host.key.apiKey}:${host.key.apiSecret}` },
      host.logs,
    );
    return host;
  }

  get host(): TestHostApp {
    if (!this.app) throw new Error('not started');
    return this.app;
  }

  /** A token of this host's key. */
  token(identity: string, room: string, grants: LiveKitGrantsInput = {}): Promise<string> {
    return mintLiveKitToken(this.key, { identity, room, grants, ttlSeconds: 600 });
  }

  /** Opens a signal connection (closed with the host). */
  async connect(
    token: string | null,
    query?: string,
    headers?: Record<string, string>,
  ): Promise<LiveKitTestClient> {
    const client = await LiveKitTestClient.connect(
      this.host.url,
      `${this.path}/rtc`,
      token,
      query,
      headers,
    );
    this.clients.push(client);
    return client;
  }

  /** A demo user's new session in `room`, joined over LiveKit. */
  async join(
    name: string,
    room: string,
    grants: LiveKitGrantsInput = {},
  ): Promise<LiveKitParticipant> {
    const { userId } = await this.host.login(name);
    const sessionId = randomBytes(13).toString('hex');
    const client = await this.connect(await this.token(`${userId}___${sessionId}`, room, grants));
    const join = await client.waitFor('join');
    const { identity, sid } = join.participant!;
    return { client, userId, sessionId, identity, sid, join };
  }

  /** {@link join}, with real WebRTC (its media starts at once). */
  async joinWithMedia(
    name: string,
    room: string,
    grants: LiveKitGrantsInput = {},
  ): Promise<LiveKitMediaParticipant> {
    const joined = await this.join(name, room, grants);
    const peer = await LiveKitMediaPeer.start(joined.client, name);
    this.peers.push(peer);
    return { ...joined, peer };
  }

  /** `GET /metrics`, parsed. */
  async metrics(): Promise<Map<string, number>> {
    return parsePrometheus((await this.host.http.get('/metrics').expect(200)).text);
  }

  /** `calls_signaling_messages_total` of one LiveKit type, by result. */
  async results(type: string): Promise<Record<string, number>> {
    const prefix = `calls_signaling_messages_total{type="livekit:${type}",result="`;
    return Object.fromEntries(
      [...(await this.metrics())]
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length, -2), v]),
    );
  }

  /** LiveKit messages the server failed on itself (`result="error"`), by type. */
  async internalErrors(): Promise<Record<string, number>> {
    return Object.fromEntries(
      [...(await this.metrics())].filter(
        ([k, v]) =>
          k.startsWith('calls_signaling_messages_total{type="livekit:') &&
          k.endsWith(',result="error"}') &&
          v > 0,
      ),
    );
  }

  /** Warnings and errors the LiveKit endpoint logged (its classes' contexts start with LiveKit). */
  liveKitLogs(): string[] {
    return this.logs.lines
      .filter((l) => l.context.startsWith('LiveKit'))
      .map((l) => `${l.level} [${l.context}] ${l.message}`);
  }

  async close(): Promise<void> {
    this.peers.forEach((p) => p.close());
    this.clients.forEach((c) => c.close());
    await this.app?.close();
  }
}

/** How much a result count grew between two {@link LiveKitTestHost.results}. */
export function grew(
  after: Record<string, number>,
  before: Record<string, number>,
  result: string,
): number {
  return (after[result] ?? 0) - (before[result] ?? 0);
}
