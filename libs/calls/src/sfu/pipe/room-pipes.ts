import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { ExportLink, ImportLink, connectPipe, endpointOf } from './pipe-links';
import {
  parseEndpoint,
  parseProducerChange,
  parseProducerList,
  PipeMessage,
  producerIdOf,
  type PipeEndpoint,
  type PipeProducerList,
  type PipedProducerChange,
  type PipedProducerParameters,
  type PipeMessageType,
} from './pipe.messages';
import { pipeListenInfo, type PipeNetworkSettings } from './pipe-network';

/** What a room's pipes need from the room (`SfuRoom` implements it). */
export interface PipedRoom {
  readonly callId: string;
  /** The room's current router (it changes when the room moves after a worker death). */
  readonly activeRouter: ms.Router;
  /** Producers of the sessions served here (what other instances may import). */
  localProducers(): ms.Producer[];
  /** A producer imported from another instance: the room's peers consume it like a local one. */
  imported(producer: ms.Producer): void;
  /** The labels of imported producers changed (screen share, camera, layers). */
  labelsChanged(): void;
}

/** How a room's pipes reach the other instances (the instance bus and the shared call state). */
export interface PipeCluster {
  readonly settings: PipeNetworkSettings;
  /** Ids of the other instances serving sessions of the call. */
  instancesOf(callId: string): Promise<string[]>;
  /** A request to another instance, bounded by the pipes' timeout. */
  request(
    instanceId: string,
    type: PipeMessageType,
    payload: Record<string, unknown>,
  ): Promise<unknown>;
  /** The room's pipes closed (the cluster forgets them). */
  closed(pipes: RoomPipes): void;
}

/**
 * Answers a pipe request for a call that has no room here: nothing to list, drop or import (a
 * room created later discovers by itself); a pipe or a producer cannot be given.
 */
export function answerWithoutRoom(
  type: PipeMessageType,
  callId: string,
  instanceId: string,
): Promise<unknown> {
  if (type === PipeMessage.list) return Promise.resolve({ producerIds: [] });
  if (type === PipeMessage.connect || type === PipeMessage.consume) {
    return Promise.reject(new Error(`no room of call ${callId} on ${instanceId}`));
  }
  return Promise.resolve({});
}

/** Attempts to import one producer before giving up (the exporter may be busy or moving). */
const IMPORT_ATTEMPTS = 3;
const IMPORT_RETRY_MS = 500;

/**
 * The media pipes of one room with the other instances serving the same call. Per other
 * instance, two pipes (PipeTransport pairs), one per direction, each asked for and owned by its
 * importing side: here an {@link ImportLink} (this end of the pipe carrying that instance's
 * producers here) and an {@link ExportLink} (this end of the pipe that instance asked for, carrying
 * producers from here). As no pipe has two owners, two instances never race to create one. A
 * `pipe.close` from either side drops both. Pipes live only while both rooms do: a room closes
 * when its last local session leaves.
 */
export class RoomPipes {
  private readonly logger = new Logger(RoomPipes.name);
  private readonly imports = new Map<string, ImportLink>();
  private readonly exports = new Map<string, ExportLink>();
  private closed = false;

  constructor(
    private readonly room: PipedRoom,
    private readonly cluster: PipeCluster,
  ) {}

  /** The call. */
  get callId(): string {
    return this.room.callId;
  }

  /** Whether the pipes are closed (their room closed). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Pipe transports open now (both directions). */
  get transportCount(): number {
    let n = 0;
    for (const link of this.imports.values()) if (link.isOpen) n++;
    for (const link of this.exports.values()) if (link.isOpen) n++;
    return n;
  }

  /** Producers imported from other instances. */
  get importedProducers(): ms.Producer[] {
    return [...this.imports.values()].flatMap((l) => l.producers);
  }

  /** Imports the producers every other instance serving the call has now (a new room). */
  start(): void {
    void this.reconcile();
  }

  /**
   * Brings the imports in line with what the other instances serving the call list now: imports
   * what is missing (a new room, or a `pipe.producer` that was lost, e.g. while Redis was down;
   * a failed pipe is set up again) and closes the copies of producers no longer listed (a lost
   * `pipe.producer-closed`). A pipe whose other end is gone (that instance dropped it, e.g. after
   * taking this one for dead) is replaced. An instance that does not answer is left for the next
   * round.
   * @returns how many imports were started and copies closed
   */
  async reconcile(): Promise<{ imported: number; closed: number }> {
    const counts = { imported: 0, closed: 0 };
    const remotes = await this.instances();
    await Promise.all(
      remotes.map(async (remote) => {
        const listedAt = performance.now();
        let list: PipeProducerList;
        try {
          list = parseProducerList(
            await this.cluster.request(remote, PipeMessage.list, this.payload()),
          );
        } catch (err) {
          this.logger.warn(
            `cannot list the producers of an instance [callId=${this.callId}, instanceId=${remote}]: ${(err as Error).message}`,
          );
          return;
        }
        if (this.closed) return;
        const stale = this.imports.get(remote);
        if (stale?.isOpen && list.exporting === false) {
          // Connected here, but the other end is gone: nothing arrives through this pipe.
          counts.closed += stale.producers.length;
          this.imports.delete(remote);
          stale.close();
          this.logger.warn(
            `pipe from an instance lost its other end, set up again [callId=${this.callId}, instanceId=${remote}]`,
          );
        }
        const link = this.imports.get(remote);
        const current = link?.usable ? link : undefined;
        for (const id of list.producerIds) {
          if (current?.has(id)) continue;
          this.importProducer(remote, id);
          counts.imported++;
        }
        counts.closed += current?.pruneUnlisted(new Set(list.producerIds), listedAt) ?? 0;
      }),
    );
    return counts;
  }

  /** A local producer started: every other instance serving the call is told to import it. */
  producerStarted(producer: ms.Producer): void {
    void this.instances().then((remotes) => {
      for (const remote of remotes) {
        this.notify(remote, PipeMessage.producer, { producerId: producer.id });
      }
    });
  }

  /** A local producer was relabelled (screen, camera, layers): the importers update their copies. */
  producerChanged(producer: ms.Producer): void {
    for (const link of this.exports.values()) link.changed(producer);
  }

  /**
   * The room moved to a new router (its worker died) and every pipe died with the old one: the
   * other instances are told to drop theirs, then everything is imported and announced again.
   */
  async reset(): Promise<void> {
    if (this.closed) return;
    const remotes = this.linkedInstances();
    for (const remote of remotes) this.drop(remote);
    await Promise.allSettled(
      remotes.map((r) => this.cluster.request(r, PipeMessage.close, this.payload())),
    );
    this.logger.log(
      `pipes reset after a router move [callId=${this.callId}, instances=${remotes.length}]`,
    );
    await this.reconcile();
    for (const producer of this.room.localProducers()) this.producerStarted(producer);
  }

  /** Closes every pipe and tells the other instances to close their ends (the room closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const remotes = this.linkedInstances();
    for (const remote of remotes) this.drop(remote);
    for (const remote of remotes) this.notify(remote, PipeMessage.close, {});
    this.cluster.closed(this);
  }

  // ------------------------------------------------------------------ requests of other instances

  /** Answers a pipe request of another instance (`from`) about this call. */
  async answer(type: PipeMessageType, payload: unknown, from: string): Promise<unknown> {
    switch (type) {
      case PipeMessage.list:
        return this.list(from);
      case PipeMessage.connect:
        return this.connect(from, parseEndpoint(payload));
      case PipeMessage.consume:
        return this.consume(from, producerIdOf(payload));
      case PipeMessage.producer:
        // Answered at once: the import itself takes more round trips.
        this.importProducer(from, producerIdOf(payload));
        return {};
      case PipeMessage.producerClosed:
        this.producerClosed(from, producerIdOf(payload));
        return {};
      case PipeMessage.producerChanged:
        await this.producerUpdated(from, producerIdOf(payload), parseProducerChange(payload));
        return {};
      case PipeMessage.close:
        this.drop(from);
        return {};
    }
  }

  /** `pipe.list`: the ids of the local producers, and whether `remote`'s pipe has its end here. */
  list(remote: string): PipeProducerList {
    return {
      producerIds: this.room.localProducers().map((p) => p.id),
      exporting: this.exports.get(remote)?.isOpen ?? false,
    };
  }

  /** `pipe.connect`: creates and connects this end of the importer's pipe; returns its endpoint. */
  async connect(remote: string, endpoint: PipeEndpoint): Promise<PipeEndpoint> {
    const transport = await this.createTransport();
    try {
      if (this.closed) throw new Error('room closed');
      await connectPipe(transport, endpoint);
      if (this.closed) throw new Error('room closed');
    } catch (err) {
      transport.close();
      throw err;
    }
    // A new pipe from the same importer replaces the previous one (it gave that one up).
    this.exports.get(remote)?.close();
    const link = new ExportLink(remote, transport, (type, payload) =>
      this.notify(remote, type, payload),
    );
    this.exports.set(remote, link);
    transport.observer.once('close', () => {
      if (this.exports.get(remote) === link) this.exports.delete(remote);
    });
    this.logger.log(
      `pipe to an instance opened [callId=${this.callId}, instanceId=${remote}, port=${transport.tuple.localPort}]`,
    );
    return endpointOf(transport, this.cluster.settings.address);
  }

  /** `pipe.consume`: a local producer into the importer's pipe. */
  consume(remote: string, producerId: string): Promise<PipedProducerParameters> {
    const link = this.exports.get(remote);
    if (!link?.isOpen) throw new Error(`no pipe to ${remote}`);
    const producer = this.room.localProducers().find((p) => p.id === producerId);
    if (!producer) throw new Error(`producer ${producerId} not found`);
    return link.consume(producer);
  }

  /** `pipe.producer`: imports a producer of another instance (retried a few times). */
  importProducer(remote: string, producerId: string, attempt = 1): void {
    if (this.closed) return;
    this.importLink(remote)
      .import(producerId)
      .catch((err: Error) => {
        if (this.closed) return;
        const retry = attempt < IMPORT_ATTEMPTS;
        this.logger.warn(
          `producer import failed [callId=${this.callId}, instanceId=${remote}, producerId=${producerId}, attempt=${attempt}${retry ? '' : ', giving up'}]: ${err.message}`,
        );
        if (!retry) return;
        setTimeout(
          () => this.importProducer(remote, producerId, attempt + 1),
          IMPORT_RETRY_MS * attempt,
        ).unref();
      });
  }

  /** `pipe.producer-closed`: closes the pipe producer of a closed producer. */
  producerClosed(remote: string, producerId: string): void {
    this.imports.get(remote)?.closeProducer(producerId);
  }

  /** `pipe.producer-changed`: pauses, resumes or relabels a pipe producer. */
  async producerUpdated(
    remote: string,
    producerId: string,
    change: PipedProducerChange,
  ): Promise<void> {
    await this.imports.get(remote)?.change(producerId, change);
    this.room.labelsChanged();
  }

  /**
   * `pipe.close`, or the instance died: drops every pipe with it.
   * @returns whether there was any
   */
  drop(remote: string): boolean {
    const imported = this.imports.get(remote);
    const exported = this.exports.get(remote);
    if (!imported && !exported) return false;
    this.imports.delete(remote);
    this.exports.delete(remote);
    imported?.close();
    exported?.close();
    this.logger.log(`pipes with an instance closed [callId=${this.callId}, instanceId=${remote}]`);
    return true;
  }

  // ------------------------------------------------------------------ internals

  private importLink(remote: string): ImportLink {
    const existing = this.imports.get(remote);
    if (existing?.usable) return existing;
    existing?.close();
    const link = new ImportLink(remote, {
      createTransport: () => this.createTransport(),
      address: this.cluster.settings.address,
      request: (type, payload) => this.cluster.request(remote, type, this.payload(payload)),
      imported: (producer) => {
        if (!this.closed) this.room.imported(producer);
      },
    });
    this.imports.set(remote, link);
    link.ready.then(
      (transport) =>
        this.logger.log(
          `pipe from an instance opened [callId=${this.callId}, instanceId=${remote}, port=${transport.tuple.localPort}]`,
        ),
      () => undefined,
    );
    return link;
  }

  private createTransport(): Promise<ms.PipeTransport> {
    return this.room.activeRouter.createPipeTransport({
      listenInfo: pipeListenInfo(this.cluster.settings),
      enableSrtp: true,
      enableRtx: true,
      appData: { callId: this.callId },
    });
  }

  private async instances(): Promise<string[]> {
    if (this.closed) return [];
    try {
      return await this.cluster.instancesOf(this.callId);
    } catch (err) {
      this.logger.warn(
        `cannot read the call's instances [callId=${this.callId}]: ${(err as Error).message}`,
      );
      return [];
    }
  }

  private linkedInstances(): string[] {
    return [...new Set([...this.imports.keys(), ...this.exports.keys()])];
  }

  private notify(remote: string, type: PipeMessageType, payload: Record<string, unknown>): void {
    this.cluster
      .request(remote, type, this.payload(payload))
      .catch((err: Error) =>
        this.logger.debug(
          `${type} not delivered [callId=${this.callId}, instanceId=${remote}]: ${err.message}`,
        ),
      );
  }

  private payload(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...extra, callId: this.callId };
  }
}
