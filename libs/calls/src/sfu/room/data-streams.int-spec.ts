import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { ROUTER_MEDIA_CODECS } from '../workers/media-codecs';
import { openDataStreams } from './data-streams';

jest.setTimeout(30_000);

type Method = 'produceData' | 'consumeData';

/** A request to the worker, and how many requests had completed when it was made. */
interface Issued {
  readonly what: string;
  readonly completedBefore: number;
}

describe('openDataStreams (real mediasoup worker)', () => {
  const LABELS = ['_lossy', '_reliable', '_data_track'];
  const IDS = [0, 1, 2, 3, 4, 5];
  let worker: ms.Worker;
  let router: ms.Router;
  let transport: ms.WebRtcTransport;
  let direct: ms.DirectTransport;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  });

  beforeEach(async () => {
    transport = await router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
      enableSctp: true,
      numSctpStreams: { OS: 1024, MIS: 1024 },
    });
    direct = await router.createDirectTransport();
  });

  afterEach(() => {
    jest.restoreAllMocks();
    transport.close();
    direct.close();
  });

  afterAll(async () => {
    worker.close();
    await new Promise<void>((resolve) =>
      worker.subprocessClosed ? resolve() : worker.once('subprocessclose', resolve),
    );
  });

  /** Records every data request of the two transports, in the order they are made. */
  function recordRequests(failAt?: string): Issued[] {
    const issued: Issued[] = [];
    let completed = 0;
    const wrap = (target: ms.WebRtcTransport | ms.DirectTransport, name: string, m: Method) => {
      const original = target[m].bind(target) as (o: never) => Promise<unknown>;
      jest.spyOn(target, m).mockImplementation(((options: never) => {
        const what = `${name}.${m}#${issued.filter((i) => i.what.startsWith(`${name}.${m}`)).length}`;
        issued.push({ what, completedBefore: completed });
        const request =
          what === failAt ? Promise.reject(new Error(`${what} refused`)) : original(options);
        return request.finally(() => completed++);
      }) as never);
    };
    wrap(transport, 'transport', 'produceData');
    wrap(transport, 'transport', 'consumeData');
    wrap(direct, 'direct', 'produceData');
    wrap(direct, 'direct', 'consumeData');
    return issued;
  }

  const open = (mismatches: [number, number | undefined][] = []) =>
    openDataStreams(
      transport,
      direct,
      IDS,
      (id) => LABELS[Math.floor(id / 2)],
      (id, got) => mismatches.push([id, got]),
      () => undefined,
    );

  it('lands each stream on its SCTP stream id, labelled by its pair', async () => {
    const mismatches: [number, number | undefined][] = [];
    const { streams, close } = await open(mismatches);
    expect(mismatches).toEqual([]);
    expect([...streams.keys()]).toEqual(IDS);
    const dump = await transport.dump();
    expect(dump.dataProducerIds).toHaveLength(IDS.length);
    expect(dump.dataConsumerIds).toHaveLength(IDS.length);
    for (const id of IDS) {
      expect(streams.get(id)?.toClient.label).toBe(LABELS[Math.floor(id / 2)]);
      expect(streams.get(id)?.fromClient.label).toBe(LABELS[Math.floor(id / 2)]);
    }
    close();
    const after = await transport.dump();
    expect([after.dataProducerIds, after.dataConsumerIds]).toEqual([[], []]);
  });

  it('asks the worker in two waves: every producer at once, then every consumer', async () => {
    const issued = recordRequests();
    await open();
    const producers = issued.filter((i) => i.what.includes('.produceData'));
    const consumers = issued.filter((i) => i.what.includes('.consumeData'));
    expect(producers).toHaveLength(2 * IDS.length);
    expect(consumers).toHaveLength(2 * IDS.length);
    // No producer request waited for another; no consumer request waited for a consumer.
    expect(new Set(producers.map((i) => i.completedBefore))).toEqual(new Set([0]));
    expect(new Set(consumers.map((i) => i.completedBefore))).toEqual(new Set([2 * IDS.length]));
  });

  it('closes everything it made when a request fails, and fails', async () => {
    recordRequests('transport.consumeData#3');
    await expect(open()).rejects.toThrow('transport.consumeData#3 refused');
    const [session, relay] = await Promise.all([transport.dump(), direct.dump()]);
    expect([session.dataProducerIds, session.dataConsumerIds]).toEqual([[], []]);
    expect([relay.dataProducerIds, relay.dataConsumerIds]).toEqual([[], []]);
  });
});
