import { STORE_FAULTS, type FaultKind } from './faults';
import type { PairHearing } from './hearing-monitor';
import { sessionsOk, type SessionCheck } from './session-check';

/** The longest rejoin-to-audio allowed for participants of a killed instance. */
export const REJOIN_TARGET_MS = 3000;

/** A participant that joined again, and how long until it heard and was heard. */
export interface RejoinRecord {
  readonly name: string;
  /** `killed`: its instance died; `lost`: no instance took its reconnect. */
  readonly cause: 'killed' | 'lost';
  /** When it started to join again (ms since the epoch). */
  readonly at: number;
  /** From the start of the rejoin to two-way audio with its whole call; null: not within 20 s. */
  readonly audioMs: number | null;
}

/** What one fault (or the fault-free baseline) did to the calls. */
export interface FaultRecord {
  /** 0 for the baseline. */
  readonly index: number;
  /** Seconds since the first fault window started. */
  readonly atS: number;
  /** When the fault was injected (ms since the epoch). */
  readonly startedAt: number;
  readonly kind: FaultKind | 'baseline';
  readonly detail: string;
  readonly windowS: number;
  /**
   * Pairs measured against the 0 s target: participants whose media survived (for a worker
   * death, those not on its instance).
   */
  readonly pairs: readonly PairHearing[];
  /** Worker death: pairs with a participant on its instance (reported, no target). */
  readonly touchedPairs: readonly PairHearing[];
  readonly rejoins: readonly RejoinRecord[];
  /** Worker death: ms until each of its participants heard and was heard again (null: never). */
  readonly recoveries: ReadonlyMap<string, number | null>;
  /** Reconnects through another instance that kept the session during the window. */
  readonly reconnectsKept: number;
  /** The calls over REST on every instance at the end of the window. */
  readonly sessions: SessionCheck;
  /** From the fault to the first REST check without a lost or duplicated session (null: none). */
  readonly convergedMs: number | null;
  /** Pairs not hearing each other at the end of the window. */
  readonly silentAtEnd: readonly string[];
  /** Seconds of the window in which the control pair stalled (left out of every pair). */
  readonly stalledS: number;
}

const sec = (ms: number | null): string => (ms === null ? 'never' : (ms / 1000).toFixed(1));

/** The targets a record misses, as short sentences (empty: all met). */
export function missedTargets(r: FaultRecord): string[] {
  const missed: string[] = [];
  const gaps = r.pairs.filter((p) => p.silentS > 0);
  if (gaps.length > 0) {
    const what = STORE_FAULTS.has(r.kind as FaultKind) ? 'store fault' : r.kind;
    const at = (g: PairHearing) => `+${((g.longestGapAt - r.startedAt) / 1000).toFixed(0)} s`;
    missed.push(
      `${what}: ${gaps.length} surviving pair(s) lost audio (${gaps
        .slice(0, 4)
        .map((g) => `${g.listener}<-${g.speaker} ${g.longestGapS.toFixed(1)} s at ${at(g)}`)
        .join(', ')}${gaps.length > 4 ? ', …' : ''})`,
    );
  }
  for (const j of r.rejoins) {
    if (j.cause === 'lost') missed.push(`${j.name}: session lost (reconnect refused), rejoined`);
    else if (j.audioMs === null || j.audioMs > REJOIN_TARGET_MS) {
      missed.push(`${j.name}: rejoin-to-audio ${sec(j.audioMs)} s > ${REJOIN_TARGET_MS / 1000} s`);
    }
  }
  for (const [name, ms] of r.recoveries) {
    if (ms === null) missed.push(`${name}: no audio again after the worker death`);
  }
  if (!sessionsOk(r.sessions)) missed.push(`sessions at the end: ${describeSessions(r.sessions)}`);
  if (r.silentAtEnd.length > 0) {
    missed.push(`still not hearing at the end: ${r.silentAtEnd.slice(0, 6).join(', ')}`);
  }
  return missed;
}

function describeSessions(c: SessionCheck): string {
  const parts = [
    c.lost.length > 0 ? `lost ${c.lost.join(' ')}` : '',
    c.duplicated.length > 0 ? `duplicated ${c.duplicated.join(' ')}` : '',
    c.split.length > 0 ? `split calls ${c.split.join(' ')}` : '',
    c.unanswered.length > 0 ? `unanswered ${c.unanswered.join(' ')}` : '',
  ];
  return parts.filter(Boolean).join('; ') || 'ok';
}

function longest(pairs: readonly PairHearing[]): string {
  if (pairs.length === 0) return '-';
  const worst = pairs.reduce((a, b) => (b.longestGapS > a.longestGapS ? b : a));
  return worst.longestGapS === 0
    ? '0'
    : `${worst.longestGapS.toFixed(1)} (${worst.listener}<-${worst.speaker})`;
}

function rejoinCell(r: FaultRecord): string {
  const killed = r.rejoins.filter((j) => j.cause === 'killed');
  if (killed.length === 0) return '-';
  const times = killed.map((j) => j.audioMs);
  const worst = times.includes(null) ? null : Math.max(...(times as number[]));
  return `max ${sec(worst)} (${killed.length})`;
}

function recoveryCell(r: FaultRecord): string {
  if (r.recoveries.size === 0) return '-';
  const times = [...r.recoveries.values()];
  const worst = times.includes(null) ? null : Math.max(...(times as number[]));
  return `max ${sec(worst)}; touched pairs' longest gap ${longest(r.touchedPairs)}`;
}

function sessionsCell(r: FaultRecord): string {
  const lostRejoins = r.rejoins.filter((j) => j.cause === 'lost').length;
  const state = sessionsOk(r.sessions)
    ? `ok${r.convergedMs !== null ? ` (${sec(r.convergedMs)} s)` : ''}`
    : describeSessions(r.sessions);
  return `${state}; reconnects kept ${r.reconnectsKept}, lost ${lostRejoins}`;
}

/** One line per record, as the soak goes. */
export function describeRecord(r: FaultRecord): string {
  const measured = r.pairs.length > 0 ? Math.min(...r.pairs.map((p) => p.measuredS)) : 0;
  const excluded = r.pairs.length > 0 ? Math.max(...r.pairs.map((p) => p.excludedS)) : 0;
  const late = r.pairs.length > 0 ? Math.max(...r.pairs.map((p) => p.lateS)) : 0;
  const missed = missedTargets(r);
  return [
    `#${r.index} +${r.atS.toFixed(0)} s ${r.kind}: ${r.detail}`,
    `  pairs ${r.pairs.length} (≥${measured.toFixed(0)} s measured each, ≤${excluded.toFixed(0)} s left out of which ${r.stalledS.toFixed(0)} s machine stalled, ≤${late.toFixed(0)} s late): longest gap ${longest(r.pairs)} s`,
    `  rejoin-to-audio ${rejoinCell(r)} s; worker recovery ${recoveryCell(r)}; sessions ${sessionsCell(r)}`,
    `  ${missed.length === 0 ? 'targets met' : `MISSED: ${missed.join(' | ')}`}`,
  ].join('\n');
}

/** The records as one Markdown table. */
export function recordsTable(records: readonly FaultRecord[]): string {
  const rows = records.map((r) => {
    const missed = missedTargets(r);
    return [
      r.index,
      `+${r.atS.toFixed(0)}`,
      r.kind,
      r.detail,
      r.pairs.length,
      r.stalledS.toFixed(0),
      longest(r.pairs),
      rejoinCell(r),
      recoveryCell(r),
      sessionsCell(r),
      missed.length === 0 ? 'met' : `**missed**: ${missed.join('; ')}`,
    ].join(' | ');
  });
  return [
    '| # | at (s) | fault | what happened | pairs | stalled (s) | longest gap (s) | rejoin-to-audio (s) | worker death: recovery (s) | sessions at the end | targets |',
    '| - | - | - | - | - | - | - | - | - | - | - |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}
