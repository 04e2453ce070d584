import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from '../support/fuzz';
import { SPREAD_TONES } from '../support/spread-call';
import { injectFault, type FaultKind, type FaultOutcome, type FaultWorld } from './faults';
import { HearingMonitor, type HearingMember } from './hearing-monitor';
import { findLeaks, leftoverProcesses, type Leaks } from './leak-check';
import { ReferencePair } from './reference-pair';
import { checkSessions, sessionsOk } from './session-check';
import { SoakCluster, type SoakInstance } from './soak-cluster';
import type { SoakOptions } from './soak-options';
import { SoakParticipant, type ParticipantWorld } from './soak-participant';
import { describeRecord, type FaultRecord, type RejoinRecord } from './soak-report';
import { waitTwoWayAudio } from './two-way-audio';

/** The instances' TTL: an instance silent this long is dead. */
const INSTANCE_TTL_MS = 2000;
/** Longer than any Redis restart the soak makes (0.5–3 s): a restart is no failover. */
const SENTINEL_DOWN_AFTER_MS = 5000;
/** How long a rejoined or recovering participant may take to hear and be heard. */
const AUDIO_WAIT_MS = 20_000;
/** A window lasts at least this long after its fault's recovery steps ended. */
const SETTLE_MS = 5000;
const BASELINE_MS = 10_000;
/** The control pair's tone (any: it is not told apart from others). */
const REFERENCE_TONE = 1200;

/** What the soak found. */
export interface SoakResult {
  readonly records: FaultRecord[];
  /** Leaked objects once everyone left, then processes left after stopping everything. */
  readonly leaks: Leaks;
}

/**
 * The chaos soak: a Sentinel-backed deployment of host-app instances ({@link SoakCluster}),
 * real WebRTC participants in several calls spread over them, a fault at random intervals
 * ({@link injectFault}), and per fault what it did to the calls ({@link FaultRecord}): how long
 * each surviving participant went without hearing each other one ({@link HearingMonitor}), how
 * long participants of a killed instance took from their rejoin to two-way audio, and whether
 * every instance lists exactly the sessions of the participants. At the end everyone leaves and
 * what is left over is listed.
 */
export class Soak implements ParticipantWorld, FaultWorld {
  cluster!: SoakCluster;
  readonly participants: SoakParticipant[] = [];
  readonly rng: Rng;
  private readonly monitor = new HearingMonitor(SPREAD_TONES);
  private readonly rejoins: RejoinRecord[] = [];
  private readonly pendingRejoins = new Set<Promise<void>>();
  private readonly seenWorkers = new Set<number>();
  private observerToken = '';
  private aborted = false;
  private released: Promise<void> | null = null;
  private startedAt = 0;
  private reference: ReferencePair | null = null;

  constructor(private readonly options: SoakOptions) {
    this.rng = new Rng(options.seed);
  }

  /** Runs the whole soak; {@link release} must follow (also after a failure). */
  async run(): Promise<SoakResult> {
    const o = this.options;
    this.cluster = await SoakCluster.start({
      instances: o.instances,
      backend: o.backend,
      sentinelDownAfterMs: SENTINEL_DOWN_AFTER_MS,
      instanceTtlMs: INSTANCE_TTL_MS,
      logDir: o.logDir,
    });
    this.noteWorkers();
    await this.joinEveryone();
    this.reference = await ReferencePair.start(REFERENCE_TONE);
    this.monitor.useReference(this.reference);
    this.monitor.start();
    await this.waitEveryoneHearing();
    await sleep(2000); // the monitor's first seconds of the last tracks to come up
    this.log(`everyone hears everyone; ${o.minutes} min of faults from now`);
    const records: FaultRecord[] = [];
    this.startedAt = Date.now();
    records.push(await this.window(0, null));
    const end = this.startedAt + o.minutes * 60_000;
    for (let i = 1; Date.now() < end && !this.aborted; i++) {
      records.push(await this.window(i, this.rng.pick(o.faults)));
    }
    return { records, leaks: await this.finish() };
  }

  /** Stops everything it started (idempotent); the soak stops at its next step. */
  release(): Promise<void> {
    this.aborted = true;
    this.released ??= (async () => {
      for (const p of this.participants) p.close();
      this.reference?.close();
      await this.monitor.stop();
      await this.cluster?.stop();
    })();
    return this.released;
  }

  // ParticipantWorld

  pick(purpose: 'join' | 'reconnect', avoid?: SoakInstance): SoakInstance | null {
    const reachable = this.cluster.reachable();
    const preferred = reachable.filter((i) => i !== avoid);
    const candidates = preferred.length > 0 ? preferred : reachable;
    if (candidates.length === 0) return null;
    if (purpose === 'reconnect') return this.rng.pick(candidates);
    // A load balancer spreading calls: the instance serving the fewest sessions.
    const load = (i: SoakInstance) => this.participants.filter((p) => p.media === i).length;
    const least = Math.min(...candidates.map(load));
    return this.rng.pick(candidates.filter((i) => load(i) === least));
  }

  up(p: SoakParticipant): void {
    if (p.member) this.monitor.track(p.member);
  }

  down(p: SoakParticipant): void {
    this.monitor.untrack(p.name);
  }

  lost(p: SoakParticipant): void {
    this.track(this.rejoin(p, 'lost'));
  }

  log(line: string): void {
    const at = this.startedAt > 0 ? `+${((Date.now() - this.startedAt) / 1000).toFixed(0)} s ` : '';
    console.log(`[soak] ${at}${line}`);
  }

  // FaultWorld

  async rejoin(p: SoakParticipant, cause: 'killed' | 'lost'): Promise<void> {
    const at = Date.now();
    try {
      await p.rejoin();
    } catch (err) {
      this.log(`${p.name}: ${(err as Error).message}`);
      this.rejoins.push({ name: p.name, cause, at, audioMs: null });
      return;
    }
    const joinedMs = Date.now() - at;
    const { ms, slowest } = await this.twoWayAudio(p);
    const audioMs = ms === null ? null : Date.now() - at;
    this.rejoins.push({ name: p.name, cause, at, audioMs });
    this.log(
      `${p.name} (${cause}) joined again through ${p.media?.id} in ${joinedMs} ms, two-way audio ` +
        `${audioMs === null ? 'never' : `${audioMs} ms`} after it started (last: ${slowest} after the join)`,
    );
  }

  twoWayAudioMs(p: SoakParticipant): Promise<number | null> {
    return this.twoWayAudio(p).then((r) => r.ms);
  }

  /** {@link waitTwoWayAudio} for `p` and the others of its call, logged when it fails. */
  private twoWayAudio(p: SoakParticipant): Promise<{ ms: number | null; slowest: string }> {
    const member = p.member;
    if (!member) return Promise.resolve({ ms: null, slowest: '-' });
    const others = (): HearingMember[] =>
      this.participants
        .filter((o) => o !== p && o.channel === p.channel && o.isUp)
        .flatMap((o) => (o.member ? [o.member] : []));
    return waitTwoWayAudio(member, others, SPREAD_TONES, AUDIO_WAIT_MS).then((r) => {
      if (r.ms === null)
        this.log(`${p.name}: still no audio after ${AUDIO_WAIT_MS} ms: ${r.missing.join(' ')}`);
      return r;
    });
  }

  // The soak's steps

  private async joinEveryone(): Promise<void> {
    const o = this.options;
    const first = this.cluster.instances[0].host!;
    this.observerToken = (await first.login('soak-observer')).token;
    for (let c = 0; c < o.calls; c++) {
      const channel = `soak${o.seed}c${c + 1}`;
      for (let k = 0; k < o.peersPerCall; k++) {
        const name = `c${c + 1}p${k + 1}`;
        const { token, userId } = await first.login(`soak-${name}`);
        this.participants.push(
          new SoakParticipant(name, channel, SPREAD_TONES[k], token, userId, this),
        );
      }
    }
    // Participant k of call c on instance (c + k) mod n: every call spans the instances.
    await Promise.all(
      this.participants.map((p, i) => {
        const c = Math.floor(i / o.peersPerCall);
        const k = i % o.peersPerCall;
        return p.join(this.cluster.instances[(c + k) % this.cluster.instances.length]);
      }),
    );
  }

  private async waitEveryoneHearing(): Promise<void> {
    const slow = (
      await Promise.all(
        this.participants.map(async (p) => [p, await this.twoWayAudioMs(p)] as const),
      )
    ).filter(([, ms]) => ms === null);
    if (slow.length > 0) {
      throw new Error(
        `not hearing each other at the start: ${slow.map(([p]) => p.name).join(', ')}`,
      );
    }
  }

  /** One fault (or none: the baseline) and the window until the next one. */
  private async window(index: number, kind: FaultKind | null): Promise<FaultRecord> {
    const start = Date.now();
    const [min, max] = this.options.intervalS;
    const intervalMs = kind === null ? BASELINE_MS : (min + this.rng.next() * (max - min)) * 1000;
    const keptBefore = this.reconnectsKept();
    if (kind) this.log(`fault #${index}: ${kind}`);
    const outcome: FaultOutcome | null = kind ? await injectFault(kind, this) : null;
    outcome?.workerPids.forEach((pid) => this.seenWorkers.add(pid));
    this.noteWorkers();
    const end = Math.max(start + intervalMs, Date.now() + (kind ? SETTLE_MS : 0));
    let convergedMs: number | null = null;
    while (Date.now() < end - 1500 && !this.aborted) {
      if (convergedMs === null && sessionsOk(await this.checkSessions())) {
        convergedMs = Date.now() - start;
      }
      await sleep(Math.min(1000, Math.max(0, end - 1500 - Date.now())));
    }
    await sleep(Math.max(0, end - Date.now()));
    const sessions = await this.checkSessions();
    if (convergedMs === null && sessionsOk(sessions)) convergedMs = Date.now() - start;
    this.noteWorkers();

    const rejoins = this.rejoins.filter((j) => j.at >= start);
    const out = new Set([
      ...(outcome?.casualties ?? []),
      ...rejoins.filter((j) => j.cause === 'lost').map((j) => j.name),
    ]);
    const survivors = new Set(this.participants.map((p) => p.name).filter((n) => !out.has(n)));
    const touched = outcome?.touched ?? new Set<string>();
    const all = this.monitor.window(start, end, survivors);
    const touches = (pair: { listener: string; speaker: string }) =>
      touched.has(pair.listener) || touched.has(pair.speaker);
    const record: FaultRecord = {
      index,
      atS: (start - this.startedAt) / 1000,
      startedAt: start,
      kind: kind ?? 'baseline',
      detail: outcome?.detail ?? 'no fault',
      windowS: (end - start) / 1000,
      pairs: all.filter((pair) => !touches(pair)),
      touchedPairs: all.filter(touches),
      rejoins,
      recoveries: outcome?.recoveries ?? new Map(),
      reconnectsKept: this.reconnectsKept() - keptBefore,
      sessions,
      convergedMs,
      silentAtEnd: this.monitor.silentNow(),
      stalledS: this.monitor.stalledSeconds(start, end),
    };
    console.log(describeRecord(record));
    return record;
  }

  /** Everyone leaves; what is left over, then what still runs once everything stopped. */
  private async finish(): Promise<Leaks> {
    await Promise.all([...this.pendingRejoins]);
    await this.monitor.stop();
    for (const p of this.participants) await p.leave();
    let leaks: Leaks = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(1000)) {
      leaks = await findLeaks(this.cluster, this.seenWorkers);
      if (leaks.length === 0) break;
    }
    this.noteWorkers();
    await this.release();
    await sleep(500);
    return [...leaks, ...leftoverProcesses(this.seenWorkers)];
  }

  private checkSessions() {
    return checkSessions(this.cluster.instances, this.participants, this.observerToken);
  }

  private reconnectsKept(): number {
    return this.participants.reduce((n, p) => n + p.reconnects.kept, 0);
  }

  private noteWorkers(): void {
    for (const inst of this.cluster.instances) {
      this.cluster.workerPids(inst).forEach((pid) => this.seenWorkers.add(pid));
    }
  }

  private track(work: Promise<void>): void {
    this.pendingRejoins.add(work);
    void work.finally(() => this.pendingRejoins.delete(work));
  }
}
