import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaSessionRef } from '../media/media-plane.interface';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

/** LiveKit's publisher data channels, in the order livekit-client creates them. */
const LIVEKIT_CHANNELS = [
  { label: '_lossy', ordered: false, maxRetransmits: 0 },
  { label: '_reliable', ordered: true },
] as const;

const bytes = (data: string | ArrayBuffer | undefined): number[] =>
  data instanceof ArrayBuffer ? [...new Uint8Array(data)] : [];

describe('SfuService labelled data channels (DCEP emulation, real WebRTC peer)', () => {
  let h: SfuHarness;
  const received: { ref: MediaSessionRef; label: string; payload: number[]; binary: boolean }[] =
    [];

  beforeAll(async () => {
    h = await SfuHarness.start();
    h.listen({
      data: (ref, label, payload, binary) =>
        received.push({ ref, label, payload: [...payload], binary }),
    });
  });

  afterAll(async () => {
    await h.close();
  });

  async function publisher(labels: readonly string[]): Promise<HarnessPeer> {
    const p = await h.join(`call-${randomUUID()}`, {
      name: 'lk',
      dataChannel: false,
      channels: LIVEKIT_CHANNELS,
      session: { direction: 'publish', dataChannels: labels },
    });
    // Not connected yet: nothing can be sent.
    expect(h.sfu.sendData(p.ref.sessionId, '_reliable', new Uint8Array([1]))).toBe(false);
    await p.peer.waitFor(
      () => [...p.peer.channels.values()].every((c) => c.readyState === 'open'),
      10_000,
      'data channels open',
    );
    return p;
  }

  async function roundTrip(p: HarnessPeer): Promise<void> {
    const lossy = p.peer.channels.get('_lossy');
    const reliable = p.peer.channels.get('_reliable');
    // Browsers take even stream ids as the DTLS client, in creation order.
    expect([lossy?.id, reliable?.id]).toEqual([0, 2]);

    // Client → server: each message reaches the listener with its channel's label.
    reliable?.send('hello');
    lossy?.send(new Uint8Array([1, 2, 3]));
    reliable?.send(new Uint8Array(0));
    const mine = () => received.filter((r) => r.ref.sessionId === p.ref.sessionId);
    await p.peer.waitFor(() => mine().length === 3, 5000, 'three messages at the server');
    expect(mine()).toEqual(
      expect.arrayContaining([
        { ref: p.ref, label: '_reliable', payload: [...Buffer.from('hello')], binary: false },
        { ref: p.ref, label: '_lossy', payload: [1, 2, 3], binary: true },
        { ref: p.ref, label: '_reliable', payload: [], binary: true },
      ]),
    );

    // Server → client: on the channel of the label asked for.
    expect(h.sfu.sendData(p.ref.sessionId, '_reliable', new Uint8Array([9, 8, 7]))).toBe(true);
    expect(h.sfu.sendData(p.ref.sessionId, '_lossy', new Uint8Array([4, 5]))).toBe(true);
    const onReliable = () => p.peer.channelMessages.get('_reliable') ?? [];
    const onLossy = () => p.peer.channelMessages.get('_lossy') ?? [];
    await p.peer.waitFor(
      () => onReliable().length === 1 && onLossy().length === 1,
      5000,
      'one message on each channel at the client',
    );
    expect(bytes(onReliable()[0])).toEqual([9, 8, 7]);
    expect(bytes(onLossy()[0])).toEqual([4, 5]);

    // Not a channel of the session, or no such session: nothing is sent.
    expect(h.sfu.sendData(p.ref.sessionId, 'calls-dc', new Uint8Array([1]))).toBe(false);
    expect(h.sfu.sendData('no-such-session', '_reliable', new Uint8Array([1]))).toBe(false);

    // After the server's DCEP ACKs (the client may now send `_lossy` unordered): still relayed.
    await sleep(500);
    lossy?.send(new Uint8Array([6]));
    await p.peer.waitFor(() => mine().length === 4, 5000, 'a fourth message at the server');
    expect(mine().at(-1)).toEqual({ ref: p.ref, label: '_lossy', payload: [6], binary: true });
    expect(h.sfu.sendData(p.ref.sessionId, '_lossy', new Uint8Array([7]))).toBe(true);
    await p.peer.waitFor(() => onLossy().length === 2, 5000, 'a second message on _lossy');
    expect(onReliable()).toHaveLength(1);
    expect(p.peer.errors).toEqual([]);
  }

  it("relays LiveKit's `_lossy` and `_reliable` by label, both ways", async () => {
    const p = await publisher(['_lossy', '_reliable', '_data_track']);
    await roundTrip(p);
    await h.leave(p);
  });

  it('relays them in a session that also receives (direction both)', async () => {
    const p = await h.join(`call-${randomUUID()}`, {
      name: 'both',
      dataChannel: false,
      channels: LIVEKIT_CHANNELS,
      session: { dataChannels: ['_lossy', '_reliable'] },
    });
    await p.peer.waitFor(
      () => [...p.peer.channels.values()].every((c) => c.readyState === 'open'),
      10_000,
      'data channels open',
    );
    await roundTrip(p);
    await h.leave(p);
  });
});
