/**
 * Connection quality from `RTCPeerConnection.getStats()`: per remote participant, the loss and
 * jitter of their voice as this page receives it; for this page itself, the loss and jitter the
 * server reports for our voice (RTCP receiver reports) and the round trip of the network path.
 * Pure functions over plain stats entries (no DOM), so they are unit-tested in Node.
 */

/** How a connection is doing; `unknown` when there is nothing to measure (e.g. a muted voice). */
export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

/** One participant's connection as measured from here. */
export interface LinkQuality {
  level: QualityLevel;
  /** Packets lost in the last interval, percent. */
  lossPct: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  /** RTP packets of the voice received (remote) or sent (self) so far. */
  packets: number | null;
}

/** A stats entry as `RTCStatsReport` gives it (only the fields read here are typed). */
export interface StatsEntry {
  id: string;
  type: string;
  [field: string]: unknown;
}

/** What the last sample of a stream counted, to measure the next interval. */
export interface Counters {
  received: number;
  lost: number;
  sent: number;
}

/** Thresholds: [fair from, poor from]. Voice over the internet: ~1 % / 5 % loss, 30 / 60 ms jitter. */
const LOSS_PCT: readonly [number, number] = [2, 8];
const JITTER_MS: readonly [number, number] = [30, 60];
const RTT_MS: readonly [number, number] = [250, 500];
const LEVELS: readonly QualityLevel[] = ['good', 'fair', 'poor'];

/** The worst of what the figures say; `unknown` when there are none. */
export function grade(
  lossPct: number | null,
  jitterMs: number | null,
  rttMs: number | null,
): QualityLevel {
  const steps = [
    [lossPct, LOSS_PCT],
    [jitterMs, JITTER_MS],
    [rttMs, RTT_MS],
  ] as const;
  let worst = -1;
  for (const [value, [fair, poor]] of steps) {
    if (value === null || !Number.isFinite(value)) continue;
    worst = Math.max(worst, value >= poor ? 2 : value >= fair ? 1 : 0);
  }
  return worst < 0 ? 'unknown' : (LEVELS[worst] ?? 'unknown');
}

/** A person-readable line for a tooltip. */
export function describeQuality(q: LinkQuality): string {
  if (q.level === 'unknown') {
    return q.rttMs === null
      ? 'Connection: no voice to measure'
      : `Round trip ${Math.round(q.rttMs)} ms`;
  }
  const parts = [`Connection ${q.level}`];
  if (q.lossPct !== null) parts.push(`loss ${q.lossPct.toFixed(1)} %`);
  if (q.jitterMs !== null) parts.push(`jitter ${Math.round(q.jitterMs)} ms`);
  if (q.rttMs !== null) parts.push(`round trip ${Math.round(q.rttMs)} ms`);
  return parts.join(', ');
}

/**
 * The sessions whose media the server sends, by mid, from its description: the server names each
 * stream `<type>_<sessionId>` (`voice_…`, `screen_…`, `screen-audio_…`), as Mattermost does.
 */
export function streamsByMid(sdp: string): Map<string, { type: string; sessionId: string }> {
  const out = new Map<string, { type: string; sessionId: string }>();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const stream =
      /^a=msid:(\S+)/m.exec(section)?.[1] ?? /^a=ssrc:\d+ msid:(\S+)/m.exec(section)?.[1];
    const cut = stream?.indexOf('_') ?? -1;
    if (!mid || !stream || cut <= 0) continue;
    out.set(mid, { type: stream.slice(0, cut), sessionId: stream.slice(cut + 1) });
  }
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Loss in percent over the interval since `before` (cumulative when there is no `before`). */
function intervalLoss(received: number, lost: number, before?: Counters): number | null {
  const dReceived = received - (before?.received ?? 0);
  const dLost = Math.max(0, lost - (before?.lost ?? 0));
  const total = dReceived + dLost;
  return total > 0 ? (100 * dLost) / total : null;
}

/** The network path's round trip (the selected ICE candidate pair), in ms. */
export function pathRoundTrip(entries: readonly StatsEntry[]): number | null {
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const transport of entries.filter((e) => e.type === 'transport')) {
    const pairId = transport.selectedCandidatePairId;
    const pair = typeof pairId === 'string' ? byId.get(pairId) : undefined;
    const rtt = num(pair?.currentRoundTripTime);
    if (rtt !== null) return rtt * 1000;
  }
  const nominated = entries.find(
    (e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded',
  );
  const rtt = num(nominated?.currentRoundTripTime);
  return rtt === null ? null : rtt * 1000;
}

/**
 * One received voice's quality from its `inbound-rtp` entry.
 * @param previous the last sample's counters by stats id; updated in place
 */
export function voiceQuality(inbound: StatsEntry, previous: Map<string, Counters>): LinkQuality {
  const received = num(inbound.packetsReceived) ?? 0;
  const lost = num(inbound.packetsLost) ?? 0;
  const before = previous.get(inbound.id);
  previous.set(inbound.id, { received, lost, sent: 0 });
  // No packets in the interval: the voice is paused (muted), there is nothing to measure.
  const flowing = before === undefined ? received > 0 : received > before.received;
  const lossPct = flowing ? intervalLoss(received, lost, before) : null;
  const jitter = num(inbound.jitter);
  const jitterMs = flowing && jitter !== null ? jitter * 1000 : null;
  return {
    level: grade(lossPct, jitterMs, null),
    lossPct,
    jitterMs,
    rttMs: null,
    packets: received,
  };
}

/** True for a received voice's `inbound-rtp` entry. */
export const isInboundAudio = (e: StatsEntry): boolean =>
  e.type === 'inbound-rtp' && e.kind === 'audio';

/**
 * Remote participants' voice quality as received here, by session id.
 * @param midOfTrack the receiving transceivers' mids by track id (for browsers whose inbound stats
 *   have no `mid`)
 * @param previous the last sample's counters by stats id; updated in place
 */
export function remoteQualities(
  entries: readonly StatsEntry[],
  streams: ReadonlyMap<string, { type: string; sessionId: string }>,
  midOfTrack: ReadonlyMap<string, string>,
  previous: Map<string, Counters>,
): Map<string, LinkQuality> {
  const out = new Map<string, LinkQuality>();
  for (const e of entries.filter(isInboundAudio)) {
    const track = typeof e.trackIdentifier === 'string' ? e.trackIdentifier : '';
    const mid = typeof e.mid === 'string' ? e.mid : midOfTrack.get(track);
    const stream = mid === undefined ? undefined : streams.get(mid);
    if (!stream || stream.type !== 'voice') continue;
    out.set(stream.sessionId, voiceQuality(e, previous));
  }
  return out;
}

/**
 * This page's own connection: the loss and jitter the server reports for our voice (while we
 * send it) and the path's round trip.
 * @param previous the last sample's counters by stats id; updated in place
 */
export function ownQuality(
  entries: readonly StatsEntry[],
  previous: Map<string, Counters>,
): LinkQuality {
  const rttMs = pathRoundTrip(entries);
  let lossPct: number | null = null;
  let jitterMs: number | null = null;
  let packets: number | null = null;
  const outbound = entries.find((e) => e.type === 'outbound-rtp' && e.kind === 'audio');
  if (outbound) {
    const sent = num(outbound.packetsSent) ?? 0;
    const before = previous.get(outbound.id);
    previous.set(outbound.id, { received: 0, lost: 0, sent });
    packets = sent;
    const sending = before === undefined ? sent > 0 : sent > before.sent;
    const report = entries.find(
      (e) => e.type === 'remote-inbound-rtp' && e.localId === outbound.id,
    );
    if (sending && report) {
      const fraction = num(report.fractionLost);
      const jitter = num(report.jitter);
      lossPct = fraction === null ? null : fraction * 100;
      jitterMs = jitter === null ? null : jitter * 1000;
    }
  }
  return { level: grade(lossPct, jitterMs, rttMs), lossPct, jitterMs, rttMs, packets };
}
