import {
  AddTrackRequest,
  SessionDescription,
  SignalTarget,
  TrackSource,
  TrackType,
  TrickleRequest,
} from '@livekit/protocol';
import { WrtcTestPeer, type WrtcCandidateInit } from '@app/calls/testing';
import type { LiveKitTestClient } from './livekit-test-client';

/** LiveKit's data channels on the publisher connection, in the order livekit-client makes them. */
const DATA_CHANNELS = [
  { label: '_lossy', ordered: false, maxRetransmits: 0 },
  { label: '_reliable', ordered: true },
  { label: '_data_track', ordered: false, maxRetransmits: 0 },
] as const;

/**
 * A LiveKit participant with real WebRTC (two `@roamhq/wrtc` peers, as livekit-client's dual-PC
 * mode): a publisher connection it offers on (with LiveKit's data channels) and a subscriber
 * connection the server offers on, signalled through a joined {@link LiveKitTestClient}:
 * `offer`/`answer` with their ids, `trickle` with its target.
 */
export class LiveKitMediaPeer {
  private constructor(
    readonly client: LiveKitTestClient,
    readonly publisher: WrtcTestPeer,
    readonly subscriber: WrtcTestPeer,
  ) {}

  /** Starts the media of a client that has received its `join`. */
  static async start(client: LiveKitTestClient, name: string): Promise<LiveKitMediaPeer> {
    let publisherOffers = 0;
    let subscriberOffer = 0;
    const trickle = (target: SignalTarget) => (c: WrtcCandidateInit) => {
      client.send({
        case: 'trickle',
        value: new TrickleRequest({ candidateInit: JSON.stringify(c), target }),
      });
      return Promise.resolve();
    };
    const subscriber = await WrtcTestPeer.create(
      {
        sendDescription: (d) => {
          client.send({
            case: 'answer',
            value: new SessionDescription({ ...d, id: subscriberOffer }),
          });
          return Promise.resolve();
        },
        sendCandidate: trickle(SignalTarget.SUBSCRIBER),
      },
      { name: `${name}/sub`, dataChannel: false },
    );
    const peers: { publisher?: WrtcTestPeer } = {};
    // Listening before the publisher exists: its first offer goes as soon as it does.
    client.onMessage((m) => {
      if (m.case === 'answer') {
        void peers.publisher?.handleSignal({ type: 'answer', sdp: m.value.sdp });
      } else if (m.case === 'offer') {
        subscriberOffer = m.value.id;
        void subscriber.handleSignal({ type: 'offer', sdp: m.value.sdp });
      } else if (m.case === 'trickle') {
        const candidate = JSON.parse(m.value.candidateInit) as WrtcCandidateInit;
        const peer = m.value.target === SignalTarget.SUBSCRIBER ? subscriber : peers.publisher;
        void peer?.handleSignal({ type: 'candidate', candidate });
      }
    });
    peers.publisher = await WrtcTestPeer.create(
      {
        sendDescription: (d) => {
          client.send({
            case: 'offer',
            value: new SessionDescription({ ...d, id: ++publisherOffers }),
          });
          return Promise.resolve();
        },
        sendCandidate: trickle(SignalTarget.PUBLISHER),
      },
      { name: `${name}/pub`, dataChannel: false, channels: DATA_CHANNELS },
    );
    client.keepAlive();
    return new LiveKitMediaPeer(client, peers.publisher, subscriber);
  }
  /**
   * Announces a microphone track (`add_track`, unmuted) and sends a sine tone on it.
   * @returns the track's `TR_` sid from `track_published`
   */
  async publishTone(frequencyHz: number): Promise<string> {
    const sender = this.publisher.addTone(frequencyHz);
    const cid = sender.track!.id;
    // Sent before the renegotiation's offer (the server answers requests in order).
    this.client.send({
      case: 'addTrack',
      value: new AddTrackRequest({
        cid,
        type: TrackType.AUDIO,
        source: TrackSource.MICROPHONE,
        muted: false,
      }),
    });
    const published = await this.client.waitFor('trackPublished', (t) => t.cid === cid);
    return published.track!.sid;
  }

  /** Waits until both connections are connected. */
  async waitConnected(timeoutMs = 15_000): Promise<void> {
    await this.publisher.waitConnected(timeoutMs);
    await this.subscriber.waitConnected(timeoutMs);
  }

  /** Waits until a track it receives is mostly the tone `hz` (of the tones `candidatesHz`). */
  async waitHearing(
    hz: number,
    candidatesHz: readonly number[],
    timeoutMs = 20_000,
  ): Promise<void> {
    await this.subscriber.waitFor(
      () =>
        this.subscriber
          .heardTones(candidatesHz, 0.5)
          .some((h) => h.frequencyHz === hz && h.share > 0.8 && h.power > 0.001),
      timeoutMs,
      `${this.subscriber.name} hearing ${hz} Hz`,
    );
  }

  /** The remote audio tracks it has received RTP of (inbound-rtp statistics). */
  async audioStreams(): Promise<{ mid: string | null; packets: number; bytes: number }[]> {
    return (await this.subscriber.inboundRtp()).filter((s) => s.kind === 'audio' && s.packets > 0);
  }

  /** Data packets received on a data channel of the publisher connection. */
  received(label: '_reliable' | '_lossy'): Uint8Array[] {
    return (this.publisher.channelMessages.get(label) ?? []).map((m) =>
      typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m),
    );
  }

  /** Sends raw bytes on a data channel of the publisher connection (once it is open). */
  async sendData(label: '_reliable' | '_lossy', bytes: Uint8Array): Promise<void> {
    const channel = this.publisher.channels.get(label)!;
    await this.publisher.waitFor(() => channel.readyState === 'open', 10_000, `${label} open`);
    channel.send(bytes);
  }

  /** Errors of either connection's negotiation. */
  get errors(): Error[] {
    return [...this.publisher.errors, ...this.subscriber.errors];
  }

  close(): void {
    this.publisher.close();
    this.subscriber.close();
    this.client.close();
  }
}
