import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InjectMediaPlane, type MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';

/**
 * Prometheus metrics of the calls module, in their own registry (`GET /metrics` renders it).
 * Counters are incremented where things happen; gauges are read when scraped.
 */
@Injectable()
export class CallsMetrics {
  /** The registry to render. */
  readonly registry = new Registry();

  readonly joins = new Counter({
    name: 'calls_joins_total',
    help: 'Sessions that joined a call',
    registers: [this.registry],
  });
  readonly leaves = new Counter({
    name: 'calls_leaves_total',
    help: 'Sessions that left a call, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly joinLatency = new Histogram({
    name: 'calls_join_latency_seconds',
    help: 'Time from the join message to the join acknowledgement',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'calls_signaling_messages_total',
    help: 'Client signaling messages, by type and result',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });
  /** Set by the core's local session registry as sessions come and go. */
  readonly localSessions = new Gauge({
    name: 'calls_local_sessions',
    help: 'Sessions served by this instance',
    registers: [this.registry],
  });
  readonly iceRestarts = new Counter({
    name: 'calls_ice_restarts_total',
    help: 'ICE restarts of sessions on this instance, by who started them (server: the path was lost)',
    labelNames: ['initiator'] as const,
    registers: [this.registry],
  });

  constructor(
    @InjectCallStateRepository() state: CallStateRepository,
    @InjectMediaPlane() media: MediaPlane,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'calls_process_' });
    media.subscribe({
      signal: () => undefined,
      voice: () => undefined,
      sessionClosed: () => undefined,
      iceRestart: (_ref, initiator) => this.iceRestarts.inc({ initiator }),
    });
    const registers = [this.registry];
    new Gauge({
      name: 'calls_active_calls',
      help: 'Active calls (all instances)',
      registers,
      async collect() {
        this.set((await state.listActiveCalls().catch(() => [])).length);
      },
    });
    new Gauge({
      name: 'calls_active_sessions',
      help: 'Sessions in active calls (all instances)',
      registers,
      async collect() {
        const calls = await state.listActiveCalls().catch(() => []);
        this.set(calls.reduce((n, c) => n + Object.keys(c.sessions).length, 0));
      },
    });
    new Gauge({
      name: 'calls_state_backend_mode',
      help: 'Current state backend mode (1 for the current one)',
      labelNames: ['backend', 'mode'] as const,
      registers,
      collect() {
        const s = state.status();
        this.reset();
        this.set({ backend: s.backend, mode: s.mode }, 1);
      },
    });
    new Gauge({
      name: 'calls_state_fallbacks',
      help: 'State operations served from memory because Redis did not answer (since boot)',
      registers,
      collect() {
        this.set(state.status().fallbacks);
      },
    });
    new Gauge({
      name: 'calls_state_cas_conflicts',
      help: 'Compare-and-swap conflicts retried (since boot)',
      registers,
      collect() {
        this.set(state.status().casConflicts);
      },
    });
    new Gauge({
      name: 'calls_sfu_objects',
      help: 'Live mediasoup objects on this instance, by kind',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        for (const [kind, n] of Object.entries(media.stats()) as [string, number][])
          this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'calls_sfu_worker_cpu_seconds',
      help: 'CPU time used by each mediasoup worker (user + system)',
      labelNames: ['pid'] as const,
      registers,
      async collect() {
        this.reset();
        for (const w of await media.workerUsage()) this.set({ pid: String(w.pid) }, w.cpuSeconds);
      },
    });
  }

  /** The metrics in Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
