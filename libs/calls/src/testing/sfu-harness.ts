import { randomUUID } from 'node:crypto';
import type { Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { CALLS_OPTIONS } from '../calls.constants';
import { resolveCallsOptions } from '../config/calls-options.defaults';
import type { CallsModuleOptions } from '../config/calls-options.interface';
import { SfuService } from '../sfu/sfu.service';
import type {
  MediaPlaneListener,
  MediaSessionCloseReason,
  MediaSessionOptions,
  MediaSessionRef,
  MediaSignal,
} from '../media/media-plane.interface';
import { WrtcTestPeer, type WrtcTestPeerOptions } from './wrtc-test-peer';

/** Whatever receives a session's signals (a wrtc test peer, a browser page, …). */
export interface SignalSink {
  handleSignal(signal: MediaSignal): Promise<void> | void;
  close(): void;
}

/** A test peer with its session. */
export interface HarnessPeer {
  readonly ref: MediaSessionRef;
  readonly peer: WrtcTestPeer;
}

/**
 * `SfuService` in a Nest testing module (real mediasoup workers, loopback only) with
 * {@link WrtcTestPeer}s wired to it directly: the service's signals go to the peer of their
 * session, the peer's descriptions and candidates go to the service.
 */
export class SfuHarness {
  /** Every signal the service emitted, in order. */
  readonly signals: { ref: MediaSessionRef; signal: MediaSignal }[] = [];
  readonly voice: { ref: MediaSessionRef; speaking: boolean; at: number }[] = [];
  readonly closed: { ref: MediaSessionRef; reason: MediaSessionCloseReason }[] = [];
  private readonly peers = new Map<string, SignalSink>();
  private readonly held = new Map<string, MediaSignal[]>();

  private constructor(
    readonly moduleRef: TestingModule,
    readonly sfu: SfuService,
  ) {
    sfu.subscribe({
      signal: (ref, signal) => {
        this.signals.push({ ref, signal });
        const held = this.held.get(ref.sessionId);
        if (held) held.push(signal);
        else void this.peers.get(ref.sessionId)?.handleSignal(signal);
      },
      voice: (ref, speaking) => this.voice.push({ ref, speaking, at: Date.now() }),
      sessionClosed: (ref, reason) => this.closed.push({ ref, reason }),
    });
  }

  /**
   * Subscribes to the service's events with only the methods a test needs (the others do nothing).
   * @returns a function that removes the listener
   */
  listen(listener: Partial<MediaPlaneListener>): () => void {
    const ignore = (): void => undefined;
    return this.sfu.subscribe({
      signal: ignore,
      voice: ignore,
      sessionClosed: ignore,
      ...listener,
    });
  }

  /**
   * Starts the service with test defaults (one worker, 127.0.0.1, a port range, memory state)
   * overridden by `options`; `providers` are added to the module (e.g. a `RoomPipesFactory`).
   */
  static async start(
    options: CallsModuleOptions = {},
    providers: Provider[] = [],
  ): Promise<SfuHarness> {
    const resolved = resolveCallsOptions({
      stateBackend: 'memory',
      rtcWorkers: 1,
      rtcListenIp: '127.0.0.1',
      rtcMinPort: 40000,
      rtcMaxPort: 49999,
      ...options,
    });
    const moduleRef = await Test.createTestingModule({
      providers: [{ provide: CALLS_OPTIONS, useValue: resolved }, SfuService, ...providers],
    }).compile();
    moduleRef.enableShutdownHooks();
    await moduleRef.init();
    return new SfuHarness(moduleRef, moduleRef.get(SfuService));
  }

  /**
   * Opens a session in `callId` and connects a new test peer to it (the peer's data channel
   * makes it offer at once, like Mattermost's client). `session` are the session's options,
   * `sessionId` its id (default: the name and a random suffix), `userId` its user (the name).
   */
  async join(
    callId: string,
    options: Partial<WrtcTestPeerOptions> & {
      name: string;
      session?: MediaSessionOptions;
      sessionId?: string;
      userId?: string;
    },
    setUp?: (peer: WrtcTestPeer) => void,
  ): Promise<HarnessPeer> {
    const ref: MediaSessionRef = {
      callId,
      sessionId: options.sessionId ?? `${options.name}-${randomUUID().slice(0, 8)}`,
      userId: options.userId ?? options.name,
    };
    await this.sfu.openSession(ref, options.session);
    const peer = await WrtcTestPeer.create(
      {
        sendDescription: (d) => this.sfu.handleDescription(ref.sessionId, d),
        sendCandidate: (c) => this.sfu.addIceCandidate(ref.sessionId, c),
      },
      options,
    );
    this.peers.set(ref.sessionId, peer);
    setUp?.(peer);
    return { ref, peer };
  }

  /**
   * Opens a session in `callId` for a client made by `connect` (its signals go to the client,
   * the client sends its descriptions and candidates to the service itself).
   */
  async open<T extends SignalSink>(
    callId: string,
    name: string,
    connect: (ref: MediaSessionRef) => Promise<T>,
  ): Promise<{ ref: MediaSessionRef; client: T }> {
    const ref: MediaSessionRef = {
      callId,
      sessionId: `${name}-${randomUUID().slice(0, 8)}`,
      userId: name,
    };
    await this.sfu.openSession(ref);
    const client = await connect(ref);
    this.peers.set(ref.sessionId, client);
    return { ref, client };
  }

  /** Holds back the session's signals (e.g. to make a server offer cross a client offer). */
  hold({ ref }: { ref: MediaSessionRef }): void {
    if (!this.held.has(ref.sessionId)) this.held.set(ref.sessionId, []);
  }

  /** Throws the held signals away (the client never gets them) and stops holding. */
  drop({ ref }: { ref: MediaSessionRef }): void {
    this.held.delete(ref.sessionId);
  }

  /** Delivers the held signals in order and stops holding. */
  async release({ ref }: { ref: MediaSessionRef }): Promise<void> {
    const held = this.held.get(ref.sessionId) ?? [];
    this.held.delete(ref.sessionId);
    const client = this.peers.get(ref.sessionId);
    for (const signal of held) await client?.handleSignal(signal);
  }

  /** Server offers and answers sent to a session so far. */
  descriptions({ ref }: { ref: MediaSessionRef }, type?: 'offer' | 'answer'): string[] {
    return this.signals.flatMap(({ ref: r, signal }) =>
      r.sessionId === ref.sessionId &&
      (signal.type === 'offer' || signal.type === 'answer') &&
      (!type || signal.type === type)
        ? [signal.sdp]
        : [],
    );
  }

  /** Closes a peer and its session. */
  async leave({ ref }: { ref: MediaSessionRef }): Promise<void> {
    this.peers.get(ref.sessionId)?.close();
    this.peers.delete(ref.sessionId);
    await this.sfu.closeSession(ref.sessionId);
  }

  /** Closes every peer, then the service (workers and their processes). */
  async close(): Promise<void> {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    await this.moduleRef.close();
  }
}
