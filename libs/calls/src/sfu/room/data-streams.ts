import type { types as ms } from 'mediasoup';

/** One SCTP stream of a client, relayed to and from Node through the room's DirectTransport. */
export interface DataStream {
  readonly streamId: number;
  /** What the client sends on the stream (`message` events: payload and PPID). */
  readonly fromClient: ms.DataConsumer;
  /** Sends to the client on the same stream. */
  readonly toClient: ms.DataProducer;
}

/** The relayed streams of one session; closing closes every mediasoup object of them. */
export interface DataStreams {
  readonly streams: ReadonlyMap<number, DataStream>;
  close(): void;
}

/**
 * Relays the given SCTP streams of a session's transport (ids counted up from 0, in order):
 * mediasoup implements no DCEP, so each stream a client's in-band channel may use is taken as a
 * negotiated one. A DataProducer on the session's transport receives the stream and hands it
 * (through a DirectTransport) to Node; sends go through a DataProducer on the DirectTransport and
 * a DataConsumer on the session's transport. mediasoup gives a transport's DataConsumers stream
 * ids round-robin from 0 as `consumeData` is called (before its request goes out), so calling it
 * in order lands each on its stream; `mismatch` reports one that does not (the transport had
 * DataConsumers already). `onMessage` hears each stream from the moment it exists.
 *
 * The worker gets its requests in two waves (both producers of every stream, then both
 * consumers), not one after another: on a busy worker each request waits its turn in the
 * worker's queue, and a LiveKit publisher (six streams, relayed before its answer) waited for
 * 24 turns in a row.
 */
export async function openDataStreams(
  transport: ms.WebRtcTransport,
  direct: ms.DirectTransport,
  streamIds: readonly number[],
  label: (streamId: number) => string,
  mismatch: (streamId: number, got: number | undefined) => void,
  onMessage: (stream: DataStream, message: Buffer, ppid: number) => void,
): Promise<DataStreams> {
  const closers: (() => void)[] = [];
  const close = () =>
    closers
      .splice(0)
      .reverse()
      .forEach((c) => c());
  const streams = new Map<number, DataStream>();
  try {
    const n = streamIds.length;
    const producers = await allOrNothing(
      [
        ...streamIds.map((streamId) =>
          transport.produceData({
            sctpStreamParameters: { streamId, ordered: true },
            label: label(streamId),
          }),
        ),
        ...streamIds.map((streamId) => direct.produceData({ label: label(streamId) })),
      ],
      closers,
    );
    const [fromClientProducers, toClients] = [producers.slice(0, n), producers.slice(n)];
    const consumers = await allOrNothing(
      [
        ...fromClientProducers.map(async (p, i) => {
          const fromClient = await direct.consumeData({ dataProducerId: p.id });
          const stream: DataStream = { streamId: streamIds[i], fromClient, toClient: toClients[i] };
          streams.set(stream.streamId, stream);
          fromClient.on('message', (message: Buffer, ppid: number) =>
            onMessage(stream, message, ppid),
          );
          return fromClient;
        }),
        ...toClients.map((p) => transport.consumeData({ dataProducerId: p.id })),
      ],
      closers,
    );
    streamIds.forEach((streamId, i) => {
      const got = consumers[n + i].sctpStreamParameters?.streamId;
      if (got !== streamId) mismatch(streamId, got);
    });
  } catch (err) {
    close();
    throw err;
  }
  return { streams, close };
}

/**
 * Waits for every request; each object made is added to `closers`, also when another request
 * failed (then the first failure is thrown, once nothing is pending).
 */
async function allOrNothing<T extends { close(): void }>(
  requests: Promise<T>[],
  closers: (() => void)[],
): Promise<T[]> {
  const settled = await Promise.allSettled(requests);
  const made: T[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      made.push(s.value);
      closers.push(() => s.value.close());
    }
  }
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return made;
}
