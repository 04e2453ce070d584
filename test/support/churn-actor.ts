import { setTimeout as sleep } from 'node:timers/promises';
import type { WrtcTestPeer } from '@app/calls/testing';
import { gatewayPeer } from './gateway-peer';
import type { TestClient, TestHostApp } from './host-app';
import type { Rng } from './fuzz';

/** What the churn actors did and what went wrong (tallied across actors). */
export class ChurnTally {
  joins = 0;
  leaves = 0;
  abruptCloses = 0;
  mutes = 0;
  unmutes = 0;
  hands = 0;
  renegotiations = 0;
  connected = 0;
  notConnected = 0;
  /** Refused acks and thrown errors, as `<what>: <detail>`. */
  readonly failures: string[] = [];
  /** Offers or answers the SFU failed on with an internal error (reported apart, to its owner). */
  readonly sfuFailures: string[] = [];

  summary(): string {
    return (
      `joins=${this.joins} leaves=${this.leaves} abrupt=${this.abruptCloses} mutes=${this.mutes} ` +
      `unmutes=${this.unmutes} hands=${this.hands} renegotiations=${this.renegotiations} ` +
      `connected=${this.connected} notConnected=${this.notConnected} failures=${this.failures.length} ` +
      `sfuFailures=${this.sfuFailures.length}`
    );
  }
}

/** One actor's settings. */
export interface ChurnActorOptions {
  readonly host: TestHostApp;
  readonly token: string;
  readonly name: string;
  readonly channels: readonly string[];
  readonly rng: Rng;
  readonly tally: ChurnTally;
  /** Keep cycling while this returns true (checked between cycles). */
  readonly running: () => boolean;
}

const TONES = [330, 440, 550, 660, 770, 880];

/**
 * A participant that keeps joining a call, negotiating real media (a wrtc peer), muting,
 * unmuting, raising its hand, sometimes adding a track mid-call (a renegotiation), and leaving —
 * mostly with `leave`, sometimes by just dropping the connection. Every acknowledgement must be ok.
 */
export async function runChurnActor(o: ChurnActorOptions): Promise<void> {
  while (o.running()) {
    let client: TestClient | null = null;
    let peer: WrtcTestPeer | null = null;
    try {
      client = await o.host.connect(o.token);
      const c = client;
      const act = async (what: string, action: string, data?: unknown): Promise<boolean> => {
        const ack = await c.send<{ ok: boolean; error?: { code: string } }>(action, data);
        if (!ack.ok) o.tally.failures.push(`${what}: ${JSON.stringify(ack)}`);
        return ack.ok;
      };
      if (!(await act('join', 'join', { channelID: o.rng.pick(o.channels) }))) continue;
      o.tally.joins++;
      peer = await gatewayPeer(c, o.name);
      if (o.rng.chance(0.7)) peer.addTone(o.rng.pick(TONES));
      try {
        await peer.waitConnected(20_000);
        o.tally.connected++;
      } catch {
        o.tally.notConnected++;
      }
      for (let i = 2 + o.rng.int(4); i > 0; i--) {
        await sleep(150 + o.rng.int(500));
        const roll = o.rng.int(10);
        if (roll < 4) {
          if (await act('unmute', 'unmute')) o.tally.unmutes++;
          await sleep(100 + o.rng.int(300));
          if (await act('mute', 'mute')) o.tally.mutes++;
        } else if (roll < 6) {
          if (await act('raise_hand', 'raise_hand')) o.tally.hands++;
          await act('unraise_hand', 'unraise_hand');
        } else if (roll < 8) {
          // A new track mid-call: the client offers again.
          if (o.rng.chance(0.5)) peer.addTone(o.rng.pick(TONES));
          else peer.addVideo({ width: 160, height: 120, fps: 10 });
          o.tally.renegotiations++;
        } else {
          await act('react', 'react', { data: JSON.stringify({ name: 'tada' }) });
        }
      }
      for (const e of peer.errors) {
        // An `sdp` refused with internal_error got past decoding: the SFU failed on it.
        const sfu = e.message.startsWith('sdp refused') && e.message.includes('internal_error');
        (sfu ? o.tally.sfuFailures : o.tally.failures).push(`${o.name} peer: ${e.message}`);
      }
      if (o.rng.chance(0.8)) {
        if (await act('leave', 'leave')) o.tally.leaves++;
      } else {
        o.tally.abruptCloses++;
      }
    } catch (err) {
      o.tally.failures.push(`${o.name}: ${(err as Error).message}`);
    } finally {
      peer?.close();
      client?.close();
    }
  }
}
