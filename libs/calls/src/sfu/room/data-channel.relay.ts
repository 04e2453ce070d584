import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type { DataChannelAttachment, PeerDataChannels } from '../peer/peer-data-channels.interface';
import { DCEP_ACK, dataChannelReply, PPID } from './data-channel.messages';

/** The label of the data channel Mattermost clients open. */
export const CALLS_DC_LABEL = 'calls-dc';

/**
 * SCTP streams watched for the client's first data channel. Browsers pick the stream by DTLS
 * role (RFC 8832: the DTLS client, which a browser answering an ICE-lite server always is, takes
 * even ids, so 0); werift picks it by ICE role (controlling, so 1).
 */
const CLIENT_STREAMS = [0, 1] as const;

/** Delay after the SCTP association is up before the DCEP ACK on stream 1 (see {@link attach}). */
const ACK_DELAY_MS = 300;

/**
 * Answers on clients' `calls-dc` data channels inside one router. mediasoup implements no DCEP,
 * so the client's in-band channel is taken as a negotiated one on its SCTP stream: a DataProducer
 * on the session's transport receives it and hands it (through a DirectTransport) to Node;
 * replies go back through a DataProducer on the DirectTransport and a DataConsumer on the
 * session's transport on the same stream (mediasoup gives DataConsumers the lowest free stream,
 * so creating them for streams 0 and 1 in order lands them there).
 */
export class DataChannelRelay implements PeerDataChannels {
  private readonly logger = new Logger(DataChannelRelay.name);

  private constructor(private readonly direct: ms.DirectTransport) {}

  /** Creates the relay's DirectTransport on the router. */
  static async create(router: ms.Router): Promise<DataChannelRelay> {
    return new DataChannelRelay(await router.createDirectTransport());
  }

  /**
   * Wires the client's first data channel on `transport`. Browsers open it without waiting for
   * a DCEP ACK; werift waits for one, so once the SCTP association is up an ACK goes out on
   * stream 1, which browsers (on stream 0) ignore.
   * @param context `[key=value]` log context of the session
   */
  async attach(transport: ms.WebRtcTransport, context: string): Promise<DataChannelAttachment> {
    const closers: (() => void)[] = [];
    const closeAll = () =>
      closers
        .splice(0)
        .reverse()
        .forEach((close) => close());
    const replies = new Map<number, ms.DataProducer>();
    try {
      for (const streamId of CLIENT_STREAMS) {
        const fromClient = await transport.produceData({
          sctpStreamParameters: { streamId, ordered: true },
          label: CALLS_DC_LABEL,
        });
        closers.push(() => fromClient.close());
        const toNode = await this.direct.consumeData({ dataProducerId: fromClient.id });
        closers.push(() => toNode.close());
        const fromNode = await this.direct.produceData({ label: CALLS_DC_LABEL });
        closers.push(() => fromNode.close());
        const toClient = await transport.consumeData({ dataProducerId: fromNode.id });
        closers.push(() => toClient.close());
        if (toClient.sctpStreamParameters?.streamId !== streamId) {
          this.logger.warn(
            `data channel replies on another stream [${context}, in=${streamId}, out=${toClient.sctpStreamParameters?.streamId}]`,
          );
        }
        replies.set(streamId, fromNode);
        toNode.on('message', (message: Buffer, ppid: number) => {
          const reply = dataChannelReply(message, ppid);
          if (reply) this.send(fromNode, reply.data, reply.ppid, context);
        });
      }
    } catch (err) {
      closeAll();
      throw err;
    }
    let ackTimer: NodeJS.Timeout | null = null;
    const ack = () => {
      ackTimer = setTimeout(() => {
        const out = replies.get(1);
        if (out) this.send(out, DCEP_ACK, PPID.dcep, context);
      }, ACK_DELAY_MS);
      ackTimer.unref?.();
    };
    const onSctpState = (state: ms.SctpState) => {
      if (state === 'connected') ack();
    };
    transport.on('sctpstatechange', onSctpState);
    if (transport.sctpState === 'connected') ack();
    closers.unshift(() => {
      if (ackTimer) clearTimeout(ackTimer);
      transport.off('sctpstatechange', onSctpState);
    });
    return { close: closeAll };
  }

  /** Closes the DirectTransport (and with it every attachment's Node side). */
  close(): void {
    this.direct.close();
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
