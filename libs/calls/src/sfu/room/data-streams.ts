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
 * ids round-robin from 0, so creating them in order lands each on its stream; `mismatch` reports
 * one that does not (the transport had DataConsumers already). `onMessage` hears each stream from
 * the moment it exists.
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
    for (const streamId of streamIds) {
      const fromClientProducer = await transport.produceData({
        sctpStreamParameters: { streamId, ordered: true },
        label: label(streamId),
      });
      closers.push(() => fromClientProducer.close());
      const fromClient = await direct.consumeData({ dataProducerId: fromClientProducer.id });
      closers.push(() => fromClient.close());
      const toClient = await direct.produceData({ label: label(streamId) });
      closers.push(() => toClient.close());
      const toClientConsumer = await transport.consumeData({ dataProducerId: toClient.id });
      closers.push(() => toClientConsumer.close());
      const got = toClientConsumer.sctpStreamParameters?.streamId;
      if (got !== streamId) mismatch(streamId, got);
      const stream: DataStream = { streamId, fromClient, toClient };
      streams.set(streamId, stream);
      fromClient.on('message', (message: Buffer, ppid: number) => onMessage(stream, message, ppid));
    }
  } catch (err) {
    close();
    throw err;
  }
  return { streams, close };
}
