import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type {
  MediaIceCandidate,
  MediaSessionCloseReason,
  MediaSignal,
} from '../../media/media-plane.interface';
import type {
  DataChannelAttachment,
  PeerDataChannelSpec,
  PeerDataChannels,
} from './peer-data-channels.interface';
import { type ParsedIceCandidate, parseClientIceCandidate } from '../sdp/ice-candidate';
import type { LocalSection, LocalTransportParameters } from '../sdp/local-description';
import type { ClientDescription, DtlsSetup } from '../sdp/sdp.types';
import { answerSetup, clientDtlsRole, connectionStateSignal } from './dtls-roles';
import { IceRestartPolicy, type IceRestartSettings } from './ice-restart.policy';
import { serverCandidateSignals } from './server-candidates';

/** What a {@link PeerTransport} needs from its peer. */
export interface PeerTransportHost {
  /** `[key=value]` log context of the session. */
  readonly context: string;
  /** A signal for the session's client (`ice-state`, `connection-state`). */
  signal(signal: MediaSignal): void;
  /** The client restarted ICE (the answer carries new server credentials). */
  clientRestartedIce(): void;
  /** The ICE restart policy asks for a server-initiated restart (`attempt` counts from 1). */
  restartIce(attempt: number): void;
  /** The transport cannot go on (DTLS failed or closed, restarts exhausted, no reconnection). */
  fail(reason: MediaSessionCloseReason): void;
}

const MAX_QUEUED_CANDIDATES = 64;

/**
 * One session's WebRTC transport and everything about its connection: ICE and DTLS parameters of
 * both sides, the client's candidates, when to restart ICE ({@link IceRestartPolicy}), the
 * `calls-dc` data channel, and the move to a new transport after a worker death (with a deadline
 * for the client to follow). It never negotiates: the negotiator asks it for the parameters to
 * put in a description and hands it the client's.
 */
export class PeerTransport {
  private readonly logger = new Logger(PeerTransport.name);
  private readonly iceRestart: IceRestartPolicy;
  private transport!: ms.WebRtcTransport;
  private transportGeneration = 0;
  private connected = false;
  private serverSetup: DtlsSetup = 'passive';
  private remoteIce: ClientDescription['ice'] | null = null;
  private fingerprint: string | null = null;
  private iceGeneration = 0;
  private announcedIceGeneration = -1;
  private dataChannel: DataChannelAttachment | null = null;
  private queuedCandidates: ParsedIceCandidate[] = [];
  private hasRemoteDescription = false;
  private migrationDeadline: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    settings: IceRestartSettings,
    private readonly host: PeerTransportHost,
  ) {
    this.iceRestart = new IceRestartPolicy(settings, {
      restart: (attempt) => host.restartIce(attempt),
      giveUp: (attempts) => {
        this.logger.warn(`ICE restarts exhausted [${host.context}, attempts=${attempts}]`);
        host.fail('ice-restart-exhausted');
      },
    });
  }

  /** The mediasoup transport now (a new one after a worker death). */
  get current(): ms.WebRtcTransport {
    return this.transport;
  }

  /** Counts the transports used so far (1 for the first). */
  get generation(): number {
    return this.transportGeneration;
  }

  /** Whether the mediasoup transport is open. */
  get isOpen(): boolean {
    return !this.transport.closed;
  }

  /** The DTLS setup of the server's answers (`passive` until the client's first description). */
  get answerSetup(): DtlsSetup {
    return this.serverSetup;
  }

  /** The client's DTLS fingerprint, once connected. */
  get remoteFingerprint(): string | null {
    return this.fingerprint;
  }

  /** Starts using a mediasoup transport: the first one, or a new one after a worker death. */
  use(transport: ms.WebRtcTransport): void {
    this.transport = transport;
    this.transportGeneration++;
    this.iceGeneration++;
    this.connected = false;
    const generation = this.transportGeneration;
    const current = () => this.transportGeneration === generation && !this.closed;
    transport.on('icestatechange', (state) => {
      if (!current()) return;
      this.host.signal({ type: 'ice-state', state });
      this.iceRestart.onIceState(state);
    });
    transport.on('dtlsstatechange', (state) => {
      if (!current()) return;
      const signal = connectionStateSignal(state);
      if (signal) this.host.signal({ type: 'connection-state', state: signal });
      if (state === 'connected') this.clearMigrationDeadline();
      if (state === 'failed') this.host.fail('dtls-failed');
      else if (state === 'closed') this.host.fail('dtls-closed');
    });
  }

  /**
   * Moves to a new mediasoup transport after the old one's worker died (its data channel died with
   * it).
   */
  async moveTo(create: () => Promise<ms.WebRtcTransport>): Promise<void> {
    this.dataChannel = null;
    this.use(await create());
  }

  /** Gives the client `ms` to reconnect (DTLS) to the new transport after a move. */
  armMigrationDeadline(ms: number): void {
    // A client that cannot follow (no answer, no DTLS restart) is given up as worker-died.
    this.clearMigrationDeadline();
    this.migrationDeadline = setTimeout(() => {
      this.logger.warn(`session did not reconnect after its worker died [${this.host.context}]`);
      this.host.fail('worker-died');
    }, ms);
    this.migrationDeadline.unref?.();
  }

  /**
   * Validates a client candidate; candidates before the first description are queued. mediasoup
   * is ICE-lite (it answers the client's checks), so a valid candidate needs nothing else.
   */
  addCandidate(input: MediaIceCandidate): void {
    const candidate = parseClientIceCandidate(input);
    if (!candidate) return;
    if (!this.hasRemoteDescription) {
      if (this.queuedCandidates.length < MAX_QUEUED_CANDIDATES) {
        this.queuedCandidates.push(candidate);
      }
      return;
    }
    this.logger.debug(
      `client candidate [${this.host.context}, ${candidate.protocol} ${candidate.address}:${candidate.port} ${candidate.type}]`,
    );
  }

  /**
   * Takes the ICE and DTLS parameters of a client offer: new client ICE credentials restart ICE,
   * and the first offer connects the transport.
   */
  async acceptOffer(offer: ClientDescription): Promise<void> {
    if (this.remoteIce && offer.ice.usernameFragment !== this.remoteIce.usernameFragment) {
      // The client restarts ICE: the answer must carry new server credentials.
      this.logger.log(`client restarted ICE [${this.host.context}]`);
      await this.restartIce();
      this.host.clientRestartedIce();
    }
    this.remoteIce = offer.ice;
    if (!this.connected) {
      this.serverSetup = answerSetup(offer.dtls.setup);
      await this.connect(offer, this.serverSetup);
    }
  }

  /**
   * Takes the DTLS parameters of the client's answer to a server offer that carried this
   * transport's parameters (`offeredGeneration`).
   */
  async acceptAnswer(answer: ClientDescription, offeredGeneration: number): Promise<void> {
    // A new transport (after a worker death) is connected by the answer to the offer carrying it.
    if (!this.connected && offeredGeneration === this.transportGeneration) {
      await this.connect(answer, 'actpass');
      this.serverSetup = answerSetup(answer.dtls.setup);
    }
  }

  /** The client has a description of ours and gave its ICE credentials: candidates count now. */
  described(ice: ClientDescription['ice']): void {
    this.remoteIce = ice;
    this.hasRemoteDescription = true;
  }

  /** Drops the candidates queued before the first description (the server is ICE-lite). */
  flushCandidates(): void {
    if (this.queuedCandidates.length > 0) {
      this.logger.debug(
        `flushed ${this.queuedCandidates.length} queued candidates [${this.host.context}]`,
      );
    }
    this.queuedCandidates = [];
  }

  /** Restarts ICE from the server: new server credentials for the next description. */
  async restartIce(): Promise<void> {
    await this.transport.restartIce();
    this.iceGeneration++;
  }

  /** The next description announces the server's candidates again (e.g. after a given-up offer). */
  announceCandidatesAgain(): void {
    this.iceGeneration++;
  }

  /** The transport part of a server description. */
  localParameters(setup: DtlsSetup): LocalTransportParameters {
    return {
      ice: this.transport.iceParameters,
      candidates: this.transport.iceCandidates,
      fingerprints: this.transport.dtlsParameters.fingerprints,
      setup,
    };
  }

  /** The `candidate` signals to follow the description just sent (none if already announced). */
  candidateSignals(sections: readonly LocalSection[]): MediaSignal[] {
    // Candidates again as signals whenever the ICE credentials are new (they are in the SDP too).
    if (this.announcedIceGeneration === this.iceGeneration) return [];
    this.announcedIceGeneration = this.iceGeneration;
    return serverCandidateSignals(this.transport, sections);
  }

  /** Attaches the client's data channels to the relay (once per transport). */
  async attachDataChannel(relay: PeerDataChannels, spec: PeerDataChannelSpec): Promise<void> {
    if (this.dataChannel || this.transport.closed) return;
    try {
      this.dataChannel = await relay.attach(this.transport, this.host.context, spec);
    } catch (err) {
      this.logger.warn(
        `data channel not attached [${this.host.context}]: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Sends a binary message on the client's data channel of `label`.
   * @returns false when the session has no such channel or is not connected yet
   */
  sendData(label: string, payload: Uint8Array): boolean {
    return !this.closed && (this.dataChannel?.send(label, payload) ?? false);
  }

  /** Closes the transport (and with it producers, consumers and data channel) and every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.iceRestart.dispose();
    this.clearMigrationDeadline();
    this.dataChannel?.close();
    if (!this.transport.closed) this.transport.close();
  }

  private async connect(description: ClientDescription, serverSetup: DtlsSetup): Promise<void> {
    const role = clientDtlsRole(description.dtls.setup, serverSetup);
    await this.transport.connect({
      dtlsParameters: { role, fingerprints: [...description.dtls.fingerprints] },
    });
    this.connected = true;
    this.fingerprint = description.dtls.fingerprints[0]?.value ?? null;
    this.logger.debug(`transport connected [${this.host.context}, clientRole=${role}]`);
  }

  private clearMigrationDeadline(): void {
    if (this.migrationDeadline) clearTimeout(this.migrationDeadline);
    this.migrationDeadline = null;
  }
}
