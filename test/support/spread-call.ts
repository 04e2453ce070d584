import type { Redis } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from '@app/calls';
import type { WrtcTestPeer } from '@app/calls/testing';
import { gatewayPeer } from './gateway-peer';
import type { TestClient } from './host-app';
import type { HostProcess } from './host-process';

/** One tone per participant, far enough apart for per-track detection. */
export const SPREAD_TONES = [330, 440, 550, 660, 770, 880, 990];

/** Log lines of a host process that mean it took an instance for dead, or closed its pipes. */
export const DEAD_VERDICTS = ['instance dead', 'instance gone', 'pipes with an instance closed'];

/** A participant of a {@link SpreadCall}: a real WebRTC peer sending its own tone. */
export interface SpreadParticipant {
  readonly name: string;
  readonly host: HostProcess;
  /** The instance id of its host. */
  readonly instanceId: string;
  readonly userId: string;
  readonly client: TestClient;
  readonly peer: WrtcTestPeer;
  readonly tone: number;
}

/** A call state as stored in Redis (the fields these tests read). */
export interface StoredCall {
  readonly id: string;
  readonly hostId: string;
  readonly sessions: Record<string, { userId: string; instanceId: string }>;
}

/**
 * One call whose participants are spread over several host-app processes: joins real WebRTC
 * participants, tells whether everyone hears everyone, and whether the call state in Redis is
 * exactly the participants (each with the instance that serves it, a host among them).
 */
export class SpreadCall {
  readonly people: SpreadParticipant[] = [];

  constructor(
    readonly channel: string,
    private readonly redis: Redis,
  ) {}

  /** Joins a participant through `host`, unmuted, sending the next tone. */
  async join(host: HostProcess, instanceId: string, name: string): Promise<SpreadParticipant> {
    const { token, userId } = await host.login(name);
    const client = await host.connect(token);
    const ack = await client.send<{ ok: boolean }>('join', { channelID: this.channel });
    if (!ack.ok) throw new Error(`${name}: join refused: ${JSON.stringify(ack)}`);
    const peer = await gatewayPeer(client, name);
    const tone = SPREAD_TONES[this.people.length];
    peer.addTone(tone);
    await client.send('unmute');
    const p = { name, host, instanceId, userId, client, peer, tone };
    this.people.push(p);
    return p;
  }

  /** Adds a participant whose socket already joined (e.g. after retries). */
  async adopt(
    host: HostProcess,
    instanceId: string,
    name: string,
    client: TestClient,
    userId: string,
  ): Promise<SpreadParticipant> {
    const peer = await gatewayPeer(client, name);
    const tone = SPREAD_TONES[this.people.length];
    peer.addTone(tone);
    await client.send('unmute');
    const p = { name, host, instanceId, userId, client, peer, tone };
    this.people.push(p);
    return p;
  }

  /** Tones `p` hears clearly now, one per receiving track, sorted. */
  heard(p: SpreadParticipant): number[] {
    return p.peer
      .heardTones(SPREAD_TONES, 0.5)
      .filter((h) => h.share > 0.8 && h.power > 0.001)
      .map((h) => h.frequencyHz)
      .sort((a, b) => a - b);
  }

  /** Waits until everyone hears everyone else (one track each). */
  async allHearEachOther(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.people.map((p) => p.peer.waitConnected(20_000)));
    await Promise.all(
      this.people.map((p) => {
        const others = this.people
          .filter((o) => o !== p)
          .map((o) => o.tone)
          .sort((a, b) => a - b);
        return p.peer.waitFor(
          () => JSON.stringify(this.heard(p)) === JSON.stringify(others),
          timeoutMs,
          `${p.name} hearing ${others.join(', ')} Hz`,
        );
      }),
    );
  }

  /** The channel's call as Redis holds it, or null. */
  async stored(): Promise<StoredCall | null> {
    const callId = await this.redis.get(`${DEFAULT_KEY_PREFIX}channel:${this.channel}`);
    if (!callId) return null;
    const json = await this.redis.get(`${DEFAULT_KEY_PREFIX}state:${callId}`);
    return json ? (JSON.parse(json) as StoredCall) : null;
  }

  /**
   * Whether Redis holds exactly this call (`callId`): every participant once with its user and
   * instance, nobody else, a host among them, the call in the active set, and every instance in
   * `instanceIds` announced.
   */
  async converged(callId: string, instanceIds: readonly string[]): Promise<boolean> {
    const call = await this.stored().catch(() => null);
    if (!call || call.id !== callId) return false;
    const expected = this.people
      .map((p) => `${p.client.connectionId}/${p.userId}/${p.instanceId}`)
      .sort();
    const actual = Object.entries(call.sessions)
      .map(([id, s]) => `${id}/${s.userId}/${s.instanceId}`)
      .sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
    if (!this.people.some((p) => p.userId === call.hostId)) return false;
    if (!(await this.redis.sismember(`${DEFAULT_KEY_PREFIX}active`, callId))) return false;
    const keys = await this.redis.mget(
      instanceIds.map((id) => `${DEFAULT_KEY_PREFIX}instance:${id}`),
    );
    return keys.every((k) => k !== null);
  }

  /** Waits (bounded) until {@link converged}; returns how long it took, or -1. */
  async waitConverged(
    callId: string,
    instanceIds: readonly string[],
    timeoutMs = 30_000,
  ): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (await this.converged(callId, instanceIds)) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    return -1;
  }

  /** Closes every peer and leaves with every socket still connected. */
  async close(): Promise<void> {
    for (const p of this.people.splice(0)) {
      p.peer.close();
      if (p.client.socket.connected) await p.client.send('leave').catch(() => undefined);
      p.client.close();
    }
  }
}
