import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { ROUTER_MEDIA_CODECS } from '../workers/media-codecs';
import type { PipeMessageType } from './pipe.messages';
import { type PipeCluster, type PipedRoom, RoomPipes } from './room-pipes';

jest.setTimeout(30_000);

/** One instance's room of the call: a real router, producers on a DirectTransport. */
class Side implements PipedRoom {
  readonly callId = 'call-1';
  readonly produced: ms.Producer[] = [];
  readonly imports: ms.Producer[] = [];
  readonly pipes: RoomPipes;
  private transport: ms.DirectTransport | null = null;

  constructor(
    readonly id: string,
    readonly activeRouter: ms.Router,
    network: Network,
  ) {
    this.pipes = new RoomPipes(this, network.cluster(this));
  }

  localProducers(): ms.Producer[] {
    return this.produced.filter((p) => !p.closed);
  }

  labelsChanged(): void {
    // Nothing consumes here.
  }

  imported(producer: ms.Producer): void {
    this.imports.push(producer);
  }

  async produce(ssrc: number): Promise<ms.Producer> {
    this.transport ??= await this.activeRouter.createDirectTransport();
    const producer = await this.transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
      },
      appData: { sessionId: `${this.id}-${ssrc}`, mid: '0', streamId: 's', type: 'voice' },
    });
    this.produced.push(producer);
    return producer;
  }
}

/** The instance bus between the sides, in process: payloads go through JSON like on Redis. */
class Network {
  readonly sides = new Map<string, Side>();
  readonly requests: { from: string; to: string; type: PipeMessageType }[] = [];
  /** Message types the bus loses (like while Redis is down). */
  readonly lost = new Set<PipeMessageType>();

  cluster(side: Side): PipeCluster {
    return {
      settings: {
        listenIp: '127.0.0.1',
        address: '127.0.0.1',
        portRange: { min: 40000, max: 49999 },
      },
      instancesOf: () => Promise.resolve([...this.sides.keys()].filter((id) => id !== side.id)),
      request: async (to, type, payload) => {
        this.requests.push({ from: side.id, to, type });
        const target = this.sides.get(to);
        if (!target || target.pipes.isClosed) throw new Error(`${to} unreachable`);
        if (this.lost.has(type)) throw new Error(`${type} lost`);
        const answer = await target.pipes.answer(
          type,
          JSON.parse(JSON.stringify(payload)),
          side.id,
        );
        return JSON.parse(JSON.stringify(answer ?? {})) as unknown;
      },
      closed: () => undefined,
    };
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The pipes of one call between two instances' rooms, on real mediasoup routers, with the bus
 * replaced by direct calls: discovery, announcements, pause and close propagation, closing.
 */
describe('RoomPipes', () => {
  // Two workers, like two instances: a pipe producer keeps the original's id, unique per worker.
  let workers: ms.Worker[];
  let network: Network;
  let a: Side;
  let b: Side;

  beforeAll(async () => {
    workers = await Promise.all([1, 2].map(() => mediasoup.createWorker({ logLevel: 'warn' })));
  });

  afterAll(async () => {
    await Promise.all(
      workers.map(async (worker) => {
        const exited = once(worker, 'subprocessclose');
        worker.close();
        await exited;
      }),
    );
  });

  beforeEach(async () => {
    network = new Network();
    const router = (i: number) => workers[i].createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    a = new Side('A', await router(0), network);
    b = new Side('B', await router(1), network);
    network.sides.set('A', a).set('B', b);
  });

  afterEach(() => {
    a.pipes.close();
    b.pipes.close();
    a.activeRouter.close();
    b.activeRouter.close();
  });

  it('a new room imports what the other instance produces, and later producers as they start', async () => {
    const first = await a.produce(1111);
    b.pipes.start();
    await until(() => b.imports.length === 1, 'B imports the first producer');
    const copy = b.imports[0];
    expect(copy.id).toBe(first.id);
    expect(copy.kind).toBe('audio');
    expect(copy.appData).toEqual(first.appData);
    expect(copy.rtpParameters.codecs.map((c) => c.mimeType)).toEqual(['audio/opus']);
    // One pipe, owned by the importer: B's end and A's end.
    expect([a.pipes.transportCount, b.pipes.transportCount]).toEqual([1, 1]);

    const second = await a.produce(2222);
    a.pipes.producerStarted(second);
    await until(() => b.imports.length === 2, 'B imports the second producer');
    expect(b.imports[1].id).toBe(second.id);
    expect(network.requests.filter((r) => r.type === 'pipe.connect')).toHaveLength(1);
  });

  it('imports in both directions over two pipes that never collide, even when both start at once', async () => {
    await a.produce(1111);
    await b.produce(3333);
    a.pipes.start();
    b.pipes.start();
    await until(() => a.imports.length === 1 && b.imports.length === 1, 'both import');
    expect([a.pipes.transportCount, b.pipes.transportCount]).toEqual([2, 2]);
  });

  it('follows pause, resume, relabelling and close of the original producer', async () => {
    const original = await a.produce(1111);
    b.pipes.start();
    await until(() => b.imports.length === 1, 'import');
    const copy = b.imports[0];

    await original.pause();
    await until(() => copy.paused, 'the copy paused');
    await original.resume();
    await until(() => !copy.paused, 'the copy resumed');
    (original.appData as { type: string }).type = 'screen-audio';
    a.pipes.producerChanged(original);
    await until(() => (copy.appData as { type: string }).type === 'screen-audio', 'relabelled');

    original.close();
    await until(() => copy.closed, 'the copy closed');
    expect(b.pipes.importedProducers).toEqual([]);
  });

  it('reconciliation repairs a lost producer announcement and a lost producer close', async () => {
    await a.produce(1111);
    b.pipes.start();
    await until(() => b.imports.length === 1, 'import');
    expect(await b.pipes.reconcile()).toEqual({ imported: 0, closed: 0 });

    network.lost.add('pipe.producer');
    const unheard = await a.produce(2222);
    a.pipes.producerStarted(unheard);
    await sleep(300);
    expect(b.imports).toHaveLength(1);
    network.lost.clear();
    expect(await b.pipes.reconcile()).toEqual({ imported: 1, closed: 0 });
    await until(() => b.imports.length === 2, 'the lost producer imported');
    expect(b.imports[1].id).toBe(unheard.id);

    network.lost.add('pipe.producer-closed');
    unheard.close();
    await sleep(300);
    expect(b.imports[1].closed).toBe(false);
    network.lost.clear();
    expect(await b.pipes.reconcile()).toEqual({ imported: 0, closed: 1 });
    expect(b.imports[1].closed).toBe(true);
    expect(b.pipes.importedProducers.map((p) => p.id)).toEqual([b.imports[0].id]);
  });

  it('reconciliation replaces a pipe whose other end is gone', async () => {
    await a.produce(1111);
    b.pipes.start();
    await until(() => b.imports.length === 1, 'import');
    // A drops its ends without telling B (as after taking B for dead): B's pipe carries nothing.
    a.pipes.drop('B');
    expect(b.pipes.transportCount).toBe(1);
    expect(await b.pipes.reconcile()).toEqual({ imported: 1, closed: 1 });
    expect(b.imports[0].closed).toBe(true);
    await until(() => b.imports.length === 2 && !b.imports[1].closed, 'imported again');
    expect([a.pipes.transportCount, b.pipes.transportCount]).toEqual([1, 1]);
    expect(await b.pipes.reconcile()).toEqual({ imported: 0, closed: 0 });
  });

  it('reconciliation leaves an instance that does not answer for the next round', async () => {
    await a.produce(1111);
    network.lost.add('pipe.list');
    expect(await b.pipes.reconcile()).toEqual({ imported: 0, closed: 0 });
    expect(b.pipes.transportCount).toBe(0);
    network.lost.clear();
    expect(await b.pipes.reconcile()).toEqual({ imported: 1, closed: 0 });
    await until(() => b.imports.length === 1, 'import on the next round');
  });

  it('closing a room closes its pipes and the other instance closes its ends', async () => {
    await a.produce(1111);
    await b.produce(3333);
    a.pipes.start();
    b.pipes.start();
    await until(() => a.imports.length === 1 && b.imports.length === 1, 'both import');
    expect([a.pipes.transportCount, b.pipes.transportCount]).toEqual([2, 2]);
    const copyOfB = a.imports[0];

    b.pipes.close();
    expect(b.pipes.transportCount).toBe(0);
    await until(() => a.pipes.transportCount === 0, 'A closes its ends');
    expect(copyOfB.closed).toBe(true);
  });

  it('an instance gone: drop closes the pipes with it and their imported producers', async () => {
    await a.produce(1111);
    b.pipes.start();
    await until(() => b.imports.length === 1, 'import');
    network.sides.delete('A'); // A is unreachable from now on
    expect(b.pipes.drop('A')).toBe(true);
    expect(b.imports[0].closed).toBe(true);
    expect(b.pipes.transportCount).toBe(0);
    expect(b.pipes.drop('A')).toBe(false);
  });

  it('a room without a room on the other side imports nothing and keeps no pipe', async () => {
    a.pipes.close();
    b.pipes.start();
    await sleep(200);
    expect(b.pipes.transportCount).toBe(0);
    b.pipes.importProducer('A', 'no-such-producer');
    await sleep(1800); // the first attempt and its two retries fail
    expect(b.pipes.transportCount).toBe(0);
    expect(b.imports).toEqual([]);
  });
});
