import type { types as ms } from 'mediasoup';

/** One session's data channel plumbing; closing it closes every mediasoup object of it. */
export interface DataChannelAttachment {
  close(): void;
}

/**
 * What a peer needs of its room's data channel relay: attaching its transport's client data
 * channel (the room's `DataChannelRelay` implements it).
 */
export interface PeerDataChannels {
  /** Answers on the transport's client data channel; `context` names it in logs. */
  attach(transport: ms.WebRtcTransport, context: string): Promise<DataChannelAttachment>;
}
