import { setTimeout as sleep } from 'node:timers/promises';
import type { HearingMember } from './hearing-monitor';
import { ToneRates } from './tone-rates';

/** Packets per second that count as hearing in a short poll (Opus at 20 ms sends 50). */
const HEARING_PPS = 25;
const POLL_MS = 200;

/**
 * Waits until `member` hears every one of `others()` and every one of them hears it (packets of
 * the track with the other's tone flowing now, polled every 200 ms), e.g. after a rejoin.
 * @param others the other participants of its call as they are now (they may rejoin meanwhile)
 * @param tones every tone a participant may send
 * @returns the milliseconds it took (null after `timeoutMs`), the directions still without audio
 *   at the end, and the direction heard last (with when)
 */
export async function waitTwoWayAudio(
  member: HearingMember,
  others: () => readonly HearingMember[],
  tones: readonly number[],
  timeoutMs: number,
): Promise<{ ms: number | null; missing: string[]; slowest: string }> {
  const started = Date.now();
  let missing: string[] = [];
  /** When each direction was first heard (ms after the start). */
  const firstHeard = new Map<string, number>();
  const slowest = (): string => {
    const [pair, ms] = [...firstHeard].reduce((a, b) => (b[1] > a[1] ? b : a), ['-', 0]);
    return `${pair} at ${ms} ms`;
  };
  const readers = new Map<unknown, ToneRates>();
  const reader = (m: HearingMember): ToneRates => {
    let r = readers.get(m.peer);
    if (!r) readers.set(m.peer, (r = new ToneRates(m.peer, tones)));
    return r;
  };
  while (Date.now() - started < timeoutMs) {
    await sleep(POLL_MS);
    const now = others();
    const [mine, ...theirs] = await Promise.all([
      reader(member)
        .read()
        .catch(() => null),
      ...now.map((o) =>
        reader(o)
          .read()
          .catch(() => null),
      ),
    ]);
    const directions = [
      ...now.map((o) => [`${member.name}<-${o.name}`, mine?.rates.get(o.tone) ?? 0] as const),
      ...now.map(
        (o, i) => [`${o.name}<-${member.name}`, theirs[i]?.rates.get(member.tone) ?? 0] as const,
      ),
    ];
    for (const [pair, rate] of directions) {
      if (rate >= HEARING_PPS && !firstHeard.has(pair)) firstHeard.set(pair, Date.now() - started);
    }
    missing = directions.filter(([, rate]) => rate < HEARING_PPS).map(([pair]) => pair);
    if (missing.length === 0) return { ms: Date.now() - started, missing, slowest: slowest() };
  }
  return { ms: null, missing, slowest: slowest() };
}
