import type { types as ms } from 'mediasoup';
import {
  parseEndpoint,
  parseProducerParameters,
  PipeMessage,
  type PipeEndpoint,
  type PipedProducerChange,
  type PipedProducerParameters,
  type PipeMessageType,
} from './pipe.messages';
import { resolvePipeAddress } from './pipe-network';

/** Where a pipe transport receives, as announced to the other instance. */
export function endpointOf(transport: ms.PipeTransport, address: string): PipeEndpoint {
  if (!transport.srtpParameters) throw new Error('pipe transport without SRTP');
  return {
    ip: address,
    port: transport.tuple.localPort,
    srtpParameters: transport.srtpParameters,
  };
}

/** Connects a pipe transport to the other instance's end (its address resolved to an IP). */
export async function connectPipe(
  transport: ms.PipeTransport,
  remote: PipeEndpoint,
): Promise<void> {
  await transport.connect({
    ip: await resolvePipeAddress(remote.ip),
    port: remote.port,
    srtpParameters: remote.srtpParameters,
  });
}

/** Sends a request of the pipes to the link's other instance (bound to the call). */
export type LinkRequest = (
  type: PipeMessageType,
  payload: Record<string, unknown>,
) => Promise<unknown>;

/** Sends a notification to the link's other instance, without waiting (failures are logged). */
export type LinkNotify = (type: PipeMessageType, payload: Record<string, unknown>) => void;

/**
 * The exporting end of a pipe (on the instance whose participants send): one PipeTransport
 * connected to an importer, and a pipe consumer per producer the importer asked for. Tells the
 * importer when a producer closes, pauses, resumes or is relabelled.
 */
export class ExportLink {
  private readonly consumers = new Map<string, { consumer: ms.Consumer; producer: ms.Producer }>();

  constructor(
    readonly remote: string,
    readonly transport: ms.PipeTransport,
    private readonly notify: LinkNotify,
  ) {}

  /** Whether the transport is open. */
  get isOpen(): boolean {
    return !this.transport.closed;
  }

  /** Consumes a local producer into the pipe; returns what the importer produces with. */
  async consume(producer: ms.Producer): Promise<PipedProducerParameters> {
    const consumer = await this.transport.consume({ producerId: producer.id });
    // Asked again (a retry): the newest consumer wins; they carry the same streams.
    this.consumers.get(producer.id)?.consumer.close();
    const entry = { consumer, producer };
    this.consumers.set(producer.id, entry);
    const forget = () => {
      if (this.consumers.get(producer.id) === entry) this.consumers.delete(producer.id);
    };
    consumer.on('transportclose', forget);
    consumer.on('producerclose', () => {
      forget();
      this.notify(PipeMessage.producerClosed, { producerId: producer.id });
    });
    consumer.on('producerpause', () => this.changed(producer));
    consumer.on('producerresume', () => this.changed(producer));
    return {
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      paused: consumer.producerPaused,
      appData: { ...producer.appData },
    };
  }

  /** Tells the importer a producer's state (paused, labels), if it imports it. */
  changed(producer: ms.Producer): void {
    const entry = this.consumers.get(producer.id);
    if (!entry || this.transport.closed) return;
    this.notify(PipeMessage.producerChanged, {
      producerId: producer.id,
      // The consumer's view: its pause events can come before `producer.pause()` resolves.
      paused: entry.consumer.producerPaused,
      appData: { ...producer.appData },
    });
  }

  /** Closes the transport and its consumers. */
  close(): void {
    this.consumers.clear();
    if (!this.transport.closed) this.transport.close();
  }
}

interface Imported {
  producer: ms.Producer | null;
  /** When the copy was made (`performance.now()`); 0 while the import is under way. */
  importedAt: number;
  /** Closed (or its link closed) while the import was under way. */
  cancelled: boolean;
  /** The latest change (pause state and labels) of the original. */
  change?: PipedProducerChange;
  /** A pause/resume of the copy is under way (it then follows the latest change). */
  applying?: boolean;
}

/** What an {@link ImportLink} needs from its room's pipes. */
export interface ImportLinkContext {
  readonly createTransport: () => Promise<ms.PipeTransport>;
  /** This instance's announced pipe address. */
  readonly address: string;
  readonly request: LinkRequest;
  /** A producer was imported (the room's peers consume it). */
  readonly imported: (producer: ms.Producer) => void;
}

/**
 * The importing end of a pipe (on the instance whose participants want another instance's
 * producers): one PipeTransport, created at once and connected through a `pipe.connect` exchange,
 * and a pipe producer per imported producer (same id as the original).
 */
export class ImportLink {
  /** Resolves when the pipe is connected; rejects when it cannot be (the link is then useless). */
  readonly ready: Promise<ms.PipeTransport>;
  private readonly imports = new Map<string, Imported>();
  private transport: ms.PipeTransport | null = null;
  private failed = false;
  private closed = false;

  constructor(
    readonly remote: string,
    private readonly ctx: ImportLinkContext,
  ) {
    this.ready = this.open();
    this.ready.catch(() => undefined);
  }

  /** Whether the transport exists and is open. */
  get isOpen(): boolean {
    return this.transport !== null && !this.transport.closed;
  }

  /** Whether the link can still carry imports (being set up, or connected and open). */
  get usable(): boolean {
    return !this.closed && !this.failed && (this.transport === null || !this.transport.closed);
  }

  /** Producers imported and open. */
  get producers(): ms.Producer[] {
    return [...this.imports.values()].flatMap((i) =>
      i.producer && !i.producer.closed ? [i.producer] : [],
    );
  }

  /** Whether the producer is imported or being imported. */
  has(producerId: string): boolean {
    return this.imports.has(producerId);
  }

  /**
   * Closes the copies of producers the other instance no longer lists (their
   * `pipe.producer-closed` never arrived). Only copies made before the list was asked for
   * (`listedAt`, `performance.now()`) are judged: a newer one may be missing from the list.
   * @returns how many were closed
   */
  pruneUnlisted(listed: ReadonlySet<string>, listedAt: number): number {
    let closed = 0;
    for (const [producerId, entry] of this.imports) {
      if (listed.has(producerId) || !entry.producer || entry.importedAt > listedAt) continue;
      this.closeProducer(producerId);
      closed++;
    }
    return closed;
  }

  /**
   * Imports a producer of the other instance (once; repeated calls while it is imported do
   * nothing).
   * @throws when the pipe or the other instance fails (the caller may retry)
   */
  async import(producerId: string): Promise<void> {
    if (this.closed || this.imports.has(producerId)) return;
    const entry: Imported = { producer: null, importedAt: 0, cancelled: false };
    this.imports.set(producerId, entry);
    try {
      const transport = await this.ready;
      const params = parseProducerParameters(
        await this.ctx.request(PipeMessage.consume, { producerId }),
      );
      if (entry.cancelled || this.closed) return;
      const producer = await transport.produce({
        id: producerId,
        kind: params.kind,
        rtpParameters: params.rtpParameters,
        paused: params.paused,
        appData: params.appData,
      });
      if (entry.cancelled || this.closed) {
        producer.close();
        return;
      }
      entry.producer = producer;
      entry.importedAt = performance.now();
      producer.observer.once('close', () => {
        if (this.imports.get(producerId) === entry) this.imports.delete(producerId);
      });
      this.ctx.imported(producer);
      // A pause or relabelling that came while the import was under way.
      if (entry.change) await this.apply(entry, producer, entry.change).catch(() => undefined);
    } catch (err) {
      if (this.imports.get(producerId) === entry) this.imports.delete(producerId);
      if (!entry.cancelled && !this.closed) throw err;
    }
  }

  /** The original producer closed: closes its pipe producer (the peers' consumers close). */
  closeProducer(producerId: string): void {
    const entry = this.imports.get(producerId);
    if (!entry) return;
    this.imports.delete(producerId);
    entry.cancelled = true;
    entry.producer?.close();
  }

  /** The original producer was paused, resumed or relabelled. */
  async change(producerId: string, change: PipedProducerChange): Promise<void> {
    const entry = this.imports.get(producerId);
    if (!entry) return;
    if (entry.producer) await this.apply(entry, entry.producer, change);
    else entry.change = change;
  }

  /** Closes the transport with every pipe producer (the peers' consumers close). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.imports.values()) entry.cancelled = true;
    this.imports.clear();
    if (this.transport && !this.transport.closed) this.transport.close();
  }

  private async open(): Promise<ms.PipeTransport> {
    let transport: ms.PipeTransport;
    try {
      transport = await this.ctx.createTransport();
    } catch (err) {
      this.failed = true;
      throw err;
    }
    this.transport = transport;
    try {
      this.assertOpen();
      const remote = parseEndpoint(
        await this.ctx.request(PipeMessage.connect, { ...endpointOf(transport, this.ctx.address) }),
      );
      this.assertOpen();
      await connectPipe(transport, remote);
      this.assertOpen();
      return transport;
    } catch (err) {
      this.failed = true;
      if (!transport.closed) transport.close();
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`pipe from ${this.remote} closed while it was set up`);
  }

  /** Applies the latest change; pause/resume run one at a time (`paused` flips when done). */
  private async apply(
    entry: Imported,
    producer: ms.Producer,
    change: PipedProducerChange,
  ): Promise<void> {
    entry.change = change;
    Object.assign(producer.appData, change.appData);
    if (entry.applying) return;
    entry.applying = true;
    try {
      while (!producer.closed && entry.change.paused !== producer.paused) {
        await (entry.change.paused ? producer.pause() : producer.resume());
      }
    } finally {
      entry.applying = false;
    }
  }
}
