import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type { DataStream } from './data-streams';
import { DCEP_ACK, PPID } from './data-channel.messages';

/** Where the channels' messages go. */
export type ChannelReceived = (label: string, payload: Uint8Array, binary: boolean) => void;

/**
 * The in-band data channels of one client, by label. mediasoup drops the client's DCEP OPEN
 * (PPID 50) without showing it, so a channel's label comes from the order the client creates
 * its channels in (`labels`): RFC 8832 puts the `k`-th on stream `2k` when the client is the DTLS
 * client (browsers against this ICE-lite server), `2k + 1` when it is the DTLS server. Messages
 * on either stream are handed to `received` with the label; {@link send} writes on the stream
 * the client last used for the label, else on the one its DTLS role gives. {@link acknowledge}
 * sends every channel the DCEP ACK the client waits for before it sends unordered (an ACK that
 * comes before the channel's OPEN is ignored by the client). Sends are reliable and ordered:
 * the DataConsumers exist before anything tells a channel's reliability.
 */
export class LabelledChannels {
  private readonly logger = new Logger(LabelledChannels.name);
  /** The stream the client last sent on, by label index. */
  private readonly used = new Map<number, DataStream>();

  constructor(
    private readonly transport: ms.WebRtcTransport,
    private readonly streams: ReadonlyMap<number, DataStream>,
    private readonly labels: readonly string[],
    private readonly received: ChannelReceived,
    private readonly context: string,
  ) {}

  /** A message the client sent on one of its streams. */
  onMessage(stream: DataStream, message: Buffer, ppid: number): void {
    const index = Math.floor(stream.streamId / 2);
    const label = this.labels[index];
    if (label === undefined || ppid === PPID.dcep) return;
    this.used.set(index, stream);
    const empty = ppid === PPID.stringEmpty || ppid === PPID.binaryEmpty;
    const binary = ppid === PPID.binary || ppid === PPID.binaryEmpty;
    this.received(label, empty ? new Uint8Array(0) : new Uint8Array(message), binary);
  }

  /**
   * Sends a binary message on the client's channel of `label`.
   * @returns false when `label` is not one of the client's or its SCTP association is not up
   */
  send(label: string, payload: Uint8Array): boolean {
    const stream = this.streamOf(this.labels.indexOf(label));
    if (!stream || this.transport.sctpState !== 'connected') return false;
    return this.write(stream, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  }

  /** Sends the DCEP ACK on every channel's stream. */
  acknowledge(): void {
    this.labels.forEach((_, index) => {
      const stream = this.streamOf(index);
      if (stream) this.write(stream, DCEP_ACK, PPID.dcep);
    });
  }

  private streamOf(index: number): DataStream | undefined {
    if (index < 0) return undefined;
    // mediasoup's role after connecting is the server's: `server` makes the client the DTLS
    // client (even ids); `auto` (not connected yet) assumes a browser.
    const odd = this.transport.dtlsParameters.role === 'client' ? 1 : 0;
    return this.used.get(index) ?? this.streams.get(2 * index + odd);
  }

  private write(stream: DataStream, data: Buffer, ppid?: number): boolean {
    if (stream.toClient.closed) return false;
    try {
      stream.toClient.send(data, ppid);
      return true;
    } catch (err) {
      this.logger.debug(`data channel send failed [${this.context}]: ${(err as Error).message}`);
      return false;
    }
  }
}
