import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type {
  DataChannelAttachment,
  PeerDataChannelSpec,
  PeerDataChannels,
} from '../peer/peer-data-channels.interface';
import { DCEP_ACK, dataChannelReply, PPID } from './data-channel.messages';
import { type DataStream, type DataStreams, openDataStreams } from './data-streams';
import { LabelledChannels } from './labelled-channels';

/** The label of the data channel Mattermost clients open. */
export const CALLS_DC_LABEL = 'calls-dc';

/**
 * SCTP streams watched for the client's first data channel. Browsers pick the stream by DTLS
 * role (RFC 8832: the DTLS client, which a browser answering an ICE-lite server always is, takes
 * even ids, so 0); werift picks it by ICE role (controlling, so 1).
 */
const CLIENT_STREAMS = [0, 1] as const;

/**
 * Delay after the SCTP association is up before DCEP ACKs go out (the client sends its OPENs
 * when the association comes up; an ACK before its OPEN would be ignored).
 */
const ACK_DELAY_MS = 300;

/**
 * Runs `fn` once, `delayMs` after the transport's SCTP association is (or becomes) connected.
 * @returns a function that cancels it
 */
function afterSctpConnected(
  transport: ms.WebRtcTransport,
  delayMs: number,
  fn: () => void,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  const start = () => {
    timer = setTimeout(fn, delayMs);
    timer.unref?.();
  };
  const onSctpState = (state: ms.SctpState) => {
    if (state === 'connected') start();
  };
  transport.on('sctpstatechange', onSctpState);
  if (transport.sctpState === 'connected') start();
  return () => {
    if (timer) clearTimeout(timer);
    transport.off('sctpstatechange', onSctpState);
  };
}

/**
 * Answers on clients' in-band data channels inside one router. mediasoup implements no DCEP, so
 * a client's channels are taken as negotiated ones on the SCTP streams they may use
 * ({@link openDataStreams}, through the relay's DirectTransport). Two kinds of session:
 * Mattermost's `calls-dc` (pings answered on the stream they came on), and channels by label
 * ({@link LabelledChannels}: their messages relayed to Node and back).
 */
export class DataChannelRelay implements PeerDataChannels {
  private readonly logger = new Logger(DataChannelRelay.name);

  private constructor(private readonly direct: ms.DirectTransport) {}

  /** Creates the relay's DirectTransport on the router. */
  static async create(router: ms.Router): Promise<DataChannelRelay> {
    return new DataChannelRelay(await router.createDirectTransport());
  }

  /**
   * Wires the client's data channels on `transport`, as `spec` says.
   * @param context `[key=value]` log context of the session
   */
  attach(
    transport: ms.WebRtcTransport,
    context: string,
    spec: PeerDataChannelSpec,
  ): Promise<DataChannelAttachment> {
    return spec.kind === 'calls-dc'
      ? this.attachCallsDc(transport, context)
      : this.attachLabelled(transport, context, spec.labels, spec.received);
  }

  /** Closes the DirectTransport (and with it every attachment's Node side). */
  close(): void {
    this.direct.close();
  }

  /**
   * The client's labelled channels ({@link LabelledChannels}): the `k`-th is on stream `2k` or
   * `2k + 1` (by DTLS role), so both are relayed; once the SCTP association is up, each channel
   * gets its DCEP ACK.
   */
  private async attachLabelled(
    transport: ms.WebRtcTransport,
    context: string,
    labels: readonly string[],
    received: (label: string, payload: Uint8Array, binary: boolean) => void,
  ): Promise<DataChannelAttachment> {
    const ids = Array.from({ length: 2 * labels.length }, (_, i) => i);
    const streams = new Map<number, DataStream>();
    const channels = new LabelledChannels(transport, streams, labels, received, context);
    const opened = await this.open(
      transport,
      context,
      ids,
      (id) => labels[Math.floor(id / 2)],
      (stream, message, ppid) => channels.onMessage(stream, message, ppid),
    );
    opened.streams.forEach((stream, id) => streams.set(id, stream));
    const cancelAck = afterSctpConnected(transport, ACK_DELAY_MS, () => channels.acknowledge());
    return {
      send: (label, payload) => channels.send(label, payload),
      close: () => {
        cancelAck();
        opened.close();
      },
    };
  }

  /**
   * Mattermost's `calls-dc`: pings answered. Browsers open it without waiting for a DCEP ACK;
   * werift waits for one, so once the SCTP association is up an ACK goes out on stream 1, which
   * browsers (on stream 0) ignore.
   */
  private async attachCallsDc(
    transport: ms.WebRtcTransport,
    context: string,
  ): Promise<DataChannelAttachment> {
    const opened = await this.open(
      transport,
      context,
      CLIENT_STREAMS,
      () => CALLS_DC_LABEL,
      ({ toClient }, message, ppid) => {
        const reply = dataChannelReply(message, ppid);
        if (reply) this.send(toClient, reply.data, reply.ppid, context);
      },
    );
    const cancelAck = afterSctpConnected(transport, ACK_DELAY_MS, () => {
      const out = opened.streams.get(1)?.toClient;
      if (out) this.send(out, DCEP_ACK, PPID.dcep, context);
    });
    return {
      send: () => false,
      close: () => {
        cancelAck();
        opened.close();
      },
    };
  }

  private open(
    transport: ms.WebRtcTransport,
    context: string,
    ids: readonly number[],
    label: (streamId: number) => string,
    onMessage: (stream: DataStream, message: Buffer, ppid: number) => void,
  ): Promise<DataStreams> {
    const mismatch = (streamId: number, got: number | undefined) =>
      this.logger.warn(
        `data channel replies on another stream [${context}, in=${streamId}, out=${got}]`,
      );
    return openDataStreams(transport, this.direct, ids, label, mismatch, onMessage);
  }

  private send(
    producer: ms.DataProducer,
    data: string | Buffer,
    ppid: number,
    context: string,
  ): void {
    if (producer.closed) return;
    try {
      producer.send(data, ppid);
    } catch (err) {
      this.logger.debug(`data channel send failed [${context}]: ${(err as Error).message}`);
    }
  }
}
