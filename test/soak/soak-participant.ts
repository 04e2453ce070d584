import { setTimeout as sleep } from 'node:timers/promises';
import type { WrtcTestPeer } from '@app/calls/testing';
import { connectThrough, MovingPeer } from '../support/moving-peer';
import type { TestClient } from '../support/test-client';
import type { HearingMember } from './hearing-monitor';
import type { SoakInstance } from './soak-cluster';

/** What a participant needs from the soak around it. */
export interface ParticipantWorld {
  /**
   * The load balancer: an instance clients can reach now, other than `avoid`, or null when there
   * is none. `join` spreads media; `reconnect` only carries signaling.
   */
  pick(purpose: 'join' | 'reconnect', avoid?: SoakInstance): SoakInstance | null;
  /** The participant is in its call with media now / is not any more. */
  up(p: SoakParticipant): void;
  down(p: SoakParticipant): void;
  /** Its session is gone (no instance took its reconnect): it must join again. */
  lost(p: SoakParticipant): void;
  log(line: string): void;
}

/** How long a client retries an action the servers refuse (e.g. while Redis fails over). */
const RETRY_FOR_MS = 30_000;
/** How long a client tries to reconnect before it gives the session up (the reconnect grace is 10 s). */
const RECONNECT_FOR_MS = 8_000;

type Ack = { ok: boolean; error?: { code?: string } };

/**
 * One soak participant: a real WebRTC peer (@roamhq/wrtc) sending its tone in one call, signaling
 * like a Mattermost client through an instance's proxy. When its socket drops (its instance was
 * cut off or killed) it reconnects through another instance within the grace and keeps its
 * session (`reconnect`); failing that, it joins again (counted: its session was lost). The soak
 * makes it rejoin when the instance holding its media died.
 */
export class SoakParticipant {
  /** Its session id (the connection id at its last join); '' before it joined. */
  sessionId = '';
  /** The instance serving its session (its media). */
  media: SoakInstance | null = null;
  /** The instance whose proxy its socket goes through. */
  signaling: SoakInstance | null = null;
  peer: WrtcTestPeer | null = null;
  /** Whether it is in its call with media (false while it joins or rejoins). */
  isUp = false;
  /** Reconnects through another instance that kept the session, and those that did not. */
  readonly reconnects = { kept: 0, lost: 0 };
  private client: TestClient | null = null;
  private moving: MovingPeer | null = null;
  /** Bumped by every (re)join: a reconnect under way for an older one gives up. */
  private generation = 0;

  constructor(
    readonly name: string,
    readonly channel: string,
    readonly tone: number,
    private readonly token: string,
    readonly userId: string,
    private readonly world: ParticipantWorld,
  ) {}

  /** What the hearing monitor measures of it. */
  get member(): HearingMember | null {
    return this.peer
      ? { name: this.name, group: this.channel, tone: this.tone, peer: this.peer }
      : null;
  }

  /**
   * Joins through `via` (or an instance the load balancer picks), retrying refusals and failures
   * for a while, then sends its tone unmuted.
   * @throws when it could not join within 30 s
   */
  async join(via?: SoakInstance): Promise<void> {
    const generation = ++this.generation;
    const deadline = Date.now() + RETRY_FOR_MS;
    const failures: string[] = [];
    while (Date.now() < deadline && generation === this.generation) {
      const inst = via?.reachable ? via : this.world.pick('join', this.media ?? undefined);
      if (!inst) {
        await sleep(250);
        continue;
      }
      const client = await connectThrough(inst.proxy.port, this.token, 5000).catch((err: Error) => {
        failures.push(`connect ${inst.id}: ${err.message}`);
        return null;
      });
      if (!client) {
        await sleep(250);
        continue;
      }
      try {
        await this.until(client, 'join', { channelID: this.channel }, deadline);
        const sessionId = client.connectionId;
        const moving = new MovingPeer(client, sessionId, this.name);
        const peer = await moving.peer;
        if (generation !== this.generation) {
          peer.close();
          client.close();
          return;
        }
        peer.addTone(this.tone);
        this.sessionId = sessionId;
        this.client = client;
        this.moving = moving;
        this.peer = peer;
        this.media = inst;
        this.signaling = inst;
        this.watch(client, generation);
        await this.until(client, 'unmute', undefined, deadline);
        this.isUp = true;
        this.world.up(this);
        return;
      } catch (err) {
        failures.push(`${inst.id}: ${(err as Error).message}`);
        this.dropMedia();
        client.close();
        await sleep(250);
      }
    }
    if (generation === this.generation) {
      throw new Error(`${this.name} could not join: ${failures.slice(-3).join('; ')}`);
    }
  }

  /** Drops everything it had (as a client whose call broke) and joins again. */
  async rejoin(): Promise<void> {
    this.dropMedia();
    this.client?.close();
    this.client = null;
    await this.join();
  }

  /** Leaves its call (bounded) and closes everything. */
  async leave(): Promise<void> {
    this.generation++;
    const client = this.client;
    if (client?.socket.connected) await client.send('leave').catch(() => undefined);
    this.close();
  }

  /** Closes its peer and socket. */
  close(): void {
    this.generation++;
    this.dropMedia();
    this.client?.close();
    this.client = null;
  }

  private dropMedia(): void {
    if (this.isUp) this.world.down(this);
    this.isUp = false;
    this.peer?.close();
    this.peer = null;
    this.moving = null;
  }

  /** Sends `action` until it is acknowledged ok; refusals are retried every 200 ms. */
  private async until(
    client: TestClient,
    action: string,
    data: unknown,
    deadline: number,
  ): Promise<void> {
    const refusals: string[] = [];
    for (;;) {
      const ack = await client.send<Ack>(action, data);
      if (ack.ok) return;
      refusals.push(ack.error?.code ?? JSON.stringify(ack));
      if (Date.now() > deadline || !client.socket.connected) {
        throw new Error(`${action} refused: ${[...new Set(refusals)].join(',')}`);
      }
      await sleep(200);
    }
  }

  /** When the socket drops by itself, reconnect elsewhere as a Mattermost client does. */
  private watch(client: TestClient, generation: number): void {
    client.socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect' || generation !== this.generation) return;
      if (client !== this.client) return;
      void this.reconnect(client, generation).catch((err: Error) =>
        this.world.log(`${this.name}: reconnect failed: ${err.message}`),
      );
    });
  }

  private async reconnect(previous: TestClient, generation: number): Promise<void> {
    const deadline = Date.now() + RECONNECT_FOR_MS;
    const refusals: string[] = [];
    while (Date.now() < deadline && generation === this.generation) {
      const inst = this.world.pick('reconnect');
      const client = inst
        ? await connectThrough(inst.proxy.port, this.token, 3000).catch(() => null)
        : null;
      if (!inst || !client) {
        await sleep(250);
        continue;
      }
      this.moving?.listen(client);
      const ack = await client
        .send<Ack>('reconnect', {
          channelID: this.channel,
          originalConnID: this.sessionId,
          prevConnID: previous.connectionId,
        })
        .catch((err: Error) => ({ ok: false, error: { code: err.message } }));
      if (ack.ok && generation === this.generation) {
        this.client = client;
        this.signaling = inst;
        this.moving?.moveTo(client);
        this.watch(client, generation);
        this.reconnects.kept++;
        return;
      }
      client.close();
      refusals.push(ack.error?.code ?? '?');
      await sleep(500);
    }
    if (generation !== this.generation) return;
    this.reconnects.lost++;
    this.world.log(
      `${this.name}: session ${this.sessionId} lost (reconnect refused: ${[...new Set(refusals)].join(',') || 'no instance'}); joining again`,
    );
    this.world.lost(this);
  }
}
