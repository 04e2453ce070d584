import type { TrackSource } from '@livekit/protocol';
import { Rng } from './fuzz';
import {
  answerProblem,
  describeRequest,
  hostileSignal,
  type LiveKitHostileContext,
} from './livekit-hostile-signals';
import type { ServerMessage } from './livekit-test-client';
import type { LiveKitParticipant } from './livekit-test-host';

/** A joined connection that sends hostile requests, and what its grants allow. */
export interface FuzzSender {
  readonly name: string;
  readonly participant: LiveKitParticipant;
  readonly mayPublish: (source: TrackSource) => boolean;
  readonly canUpdateOwnMetadata: boolean;
  /** Sids of the tracks the server announced for it (`track_published`). */
  readonly ownTracks: string[];
}

/** A sender of `participant`, its grants read from its join response. */
export function fuzzSender(name: string, participant: LiveKitParticipant): FuzzSender {
  const permission = participant.join.participant!.permission!;
  const ownTracks: string[] = [];
  participant.client.onMessage((m) => {
    if (m.case === 'trackPublished' && m.value.track) ownTracks.push(m.value.track.sid);
  });
  return {
    name,
    participant,
    ownTracks,
    mayPublish: (source) =>
      permission.canPublish &&
      (permission.canPublishSources.length === 0 || permission.canPublishSources.includes(source)),
    canUpdateOwnMetadata: permission.canUpdateMetadata,
  };
}

/** What a fuzzing run did. */
export interface SignalFuzzReport {
  readonly sent: number;
  readonly seconds: number;
  /** Per request case: sent, and refused (answered with a `request_response`). */
  readonly byCase: ReadonlyMap<string, { sent: number; refused: number }>;
  /** Distinct `<case>:<category>` kinds sent. */
  readonly kinds: number;
  /** Requests the server did not answer as demanded, checkpoints that failed. */
  readonly failures: readonly string[];
}

/** Options of {@link fuzzSignals}. */
export interface SignalFuzzOptions {
  readonly senders: readonly FuzzSender[];
  /** Requests in all, spread over the senders. */
  readonly requests: number;
  readonly seed: number;
  /** A real offer and its candidates (seeds of SDP and ICE mutation). */
  readonly offer: string;
  readonly candidates: readonly string[];
  /** Requests per sender between checkpoints. @default 100 */
  readonly every?: number;
  /** Runs between batches; returns what is wrong (null: nothing). */
  readonly checkpoint: () => Promise<string | null>;
}

/**
 * Sends `requests` hostile requests ({@link hostileSignal}), the senders in parallel, each one
 * request at a time ({@link LiveKitTestClient.request}) so every answer is checked against what
 * the corpus demands ({@link answerProblem}). Stops after 20 failures. Each sender's batch has its
 * own seed (`seed`, the sender's index, the batch), so a run replays exactly.
 */
export async function fuzzSignals(options: SignalFuzzOptions): Promise<SignalFuzzReport> {
  const { senders, requests, seed, offer, candidates, checkpoint, every = 100 } = options;
  const tally = new Map<string, { sent: number; refused: number }>();
  const failures: string[] = [];
  const started = Date.now();
  const perSender = Math.ceil(requests / senders.length);
  let sent = 0;
  const run = async (s: FuzzSender, index: number, done: number) => {
    const ctx: LiveKitHostileContext = {
      rng: new Rng(seed + index * 7919 + done),
      mayPublish: s.mayPublish,
      canUpdateOwnMetadata: s.canUpdateOwnMetadata,
      offer,
      candidates,
      ownTracks: s.ownTracks,
      foreignTracks: senders.filter((o) => o !== s).flatMap((o) => o.ownTracks),
    };
    for (let i = 0; i < Math.min(every, perSender - done); i++) {
      const signal = hostileSignal(ctx);
      const t = tally.get(signal.kind) ?? { sent: 0, refused: 0 };
      tally.set(signal.kind, t);
      t.sent++;
      sent++;
      const what = () => `${s.name}: ${signal.kind} ${describeRequest(signal.message)}`;
      let replies: ServerMessage[];
      try {
        replies = await s.participant.client.request(signal.message);
      } catch (err) {
        const closed = s.participant.client.open ? '' : ' (connection closed)';
        failures.push(`${(err as Error).message}${closed}: ${what()}`);
        return;
      }
      if (replies.some((m) => m.case === 'requestResponse')) t.refused++;
      const problem = answerProblem(signal, replies);
      if (problem) failures.push(`${problem}: ${what()}`);
    }
  };
  for (let done = 0; done < perSender && failures.length < 20; done += every) {
    await Promise.all(senders.map((s, index) => run(s, index, done)));
    const problem = await checkpoint();
    if (problem) failures.push(`after requests ${done}..${done + every} per sender: ${problem}`);
  }
  const byCase = new Map<string, { sent: number; refused: number }>();
  for (const [kind, t] of tally) {
    const c = kind.split(':')[0];
    const a = byCase.get(c) ?? { sent: 0, refused: 0 };
    a.sent += t.sent;
    a.refused += t.refused;
    byCase.set(c, a);
  }
  return { sent, seconds: (Date.now() - started) / 1000, byCase, kinds: tally.size, failures };
}

/** The report as log lines. */
export function describeFuzzReport(report: SignalFuzzReport, seed: number): string {
  const { sent, seconds, byCase, kinds } = report;
  return [
    `hostile SignalRequests: ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), seed=${seed}`,
    `  by case (sent/refused): ${[...byCase].map(([k, a]) => `${k} ${a.sent}/${a.refused}`).join(', ')}`,
    `  kinds: ${kinds}`,
  ].join('\n');
}
