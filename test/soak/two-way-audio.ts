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
 * @returns the milliseconds it took, or null after `timeoutMs`
 */
export async function waitTwoWayAudio(
  member: HearingMember,
  others: () => readonly HearingMember[],
  timeoutMs: number,
): Promise<number | null> {
  const started = Date.now();
  const readers = new Map<unknown, ToneRates>();
  const reader = (m: HearingMember): ToneRates => {
    let r = readers.get(m.peer);
    if (!r) readers.set(m.peer, (r = new ToneRates(m.peer)));
    return r;
  };
  while (Date.now() - started < timeoutMs) {
    await sleep(POLL_MS);
    const now = others();
    const [mine, ...theirs] = await Promise.all([
      reader(member)
        .read(now.map((o) => o.tone))
        .catch(() => null),
      ...now.map((o) =>
        reader(o)
          .read([...now.filter((x) => x !== o).map((x) => x.tone), member.tone])
          .catch(() => null),
      ),
    ]);
    const hears = now.every((o) => (mine?.rates.get(o.tone) ?? 0) >= HEARING_PPS);
    const heard = theirs.every((t) => (t?.rates.get(member.tone) ?? 0) >= HEARING_PPS);
    if (hears && heard) return Date.now() - started;
  }
  return null;
}
