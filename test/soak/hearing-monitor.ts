import { setTimeout as sleep } from 'node:timers/promises';
import type { WrtcTestPeer } from '@app/calls/testing';
import { SILENT_BELOW_PPS } from '../support/audio-continuity';
import { FeedRate, ToneRates } from './tone-rates';

/** A participant as the monitor sees it. */
export interface HearingMember {
  readonly name: string;
  /** The call: only members of one group hear each other. */
  readonly group: string;
  readonly tone: number;
  readonly peer: WrtcTestPeer;
}

interface Sample {
  /** When the sample was taken (ms since the epoch); it covers the `seconds` before. */
  readonly at: number;
  readonly seconds: number;
  /** Packets per second of the speaker's tone at the listener. */
  readonly rate: number;
  /** Whether the speaker's process fed its tone (else the sample says nothing). */
  readonly speaking: boolean;
  /** Whether the control pair got nothing either: this process or the machine stalled. */
  readonly stalled: boolean;
}

/** Something that says how many packets a control stream (no server in its path) received. */
export interface HearingReference {
  receivedPackets(): Promise<number>;
}

/**
 * `late`: a second without audio whose packets came right after (the next second brought the
 * missing ones: delayed by a starved process, not lost).
 */
type SampleState = 'heard' | 'silent' | 'late' | 'excluded';

/** What one listener heard of one speaker within a window. */
export interface PairHearing {
  readonly listener: string;
  readonly speaker: string;
  /** The longest run of consecutive seconds without audio (excluded seconds neither add nor break). */
  readonly longestGapS: number;
  /** When that run started (ms since the epoch; 0 without one). */
  readonly longestGapAt: number;
  /** All seconds without audio. */
  readonly silentS: number;
  /** Seconds without audio whose packets all came just after (delayed, not lost). */
  readonly lateS: number;
  readonly measuredS: number;
  /**
   * Seconds left out because the speaker's process fed its tone too little, or the control stream
   * stalled (this process or the machine starved of CPU): they say nothing about the servers.
   */
  readonly excludedS: number;
}

/** Opus at 20 ms: packets per second of a speaker. */
const NOMINAL_PPS = 50;
/** A silent run counts as late when it and the next second together got this share of packets. */
const LATE_SHARE = 0.8;
/**
 * The control pair has no server in its path: it gets its 50 packets a second unless this process
 * or the machine stalls, and a second in which it got less than 80 % of them is a stalled second
 * (stalls shorter than a second already cost the pairs through the servers a second's packets).
 */
const CONTROL_STALLED_BELOW_PPS = LATE_SHARE * NOMINAL_PPS;

/**
 * 10 ms frames per second a speaker's process must have fed for its seconds to count: what a
 * speaker sending {@link SILENT_BELOW_PPS} packets of 20 ms per second needs.
 */
const SPEAKING_FRAMES_PER_S = 2 * SILENT_BELOW_PPS;

/**
 * Measures, once a second for as long as it runs, whether every member hears every other member
 * of its call (RTP packets per second of the track that carries the speaker's tone, see
 * {@link ToneRates}), keeping every pair's seconds so that any window can be asked about later.
 * Members come and go (a participant that rejoins is tracked again under its name, with its new
 * peer); a speaker whose process fed too little audio in a second is left out of that second.
 */
export class HearingMonitor {
  private readonly members = new Map<
    string,
    { member: HearingMember; rates: ToneRates; feed: FeedRate }
  >();
  private readonly samples = new Map<string, Sample[]>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  /** Every sampling round: when, how long, and whether the control pair stalled. */
  private readonly rounds: { at: number; seconds: number; stalled: boolean }[] = [];
  private reference: { source: HearingReference; packets: number; at: number } | null = null;

  /** @param tones every tone a participant may send */
  constructor(private readonly tones: readonly number[]) {}

  /**
   * Takes a control stream: a second in which it gets fewer than {@link CONTROL_STALLED_BELOW_PPS}
   * packets says nothing about the servers (this process or the machine stalled) and is left out.
   */
  useReference(source: HearingReference): void {
    this.reference = { source, packets: -1, at: 0 };
  }

  /** Seconds in (`from`, `to`] in which the control stream stalled. */
  stalledSeconds(from: number, to: number): number {
    return this.rounds
      .filter((r) => r.stalled && r.at > from && r.at <= to)
      .reduce((n, r) => n + r.seconds, 0);
  }

  /** Starts sampling every second. */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops sampling (waits for the sample under way). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Measures `member` from now on (replacing a member of the same name). */
  track(member: HearingMember): void {
    this.members.set(member.name, {
      member,
      rates: new ToneRates(member.peer, this.tones),
      feed: new FeedRate(member.peer),
    });
  }

  /** Stops measuring the member of this name (its seconds so far are kept). */
  untrack(name: string): void {
    this.members.delete(name);
  }

  /**
   * Every pair of `names` in one call, as measured by the samples taken in (`from`, `to`].
   * @param names the participants whose pairs count (e.g. those that survived a fault)
   */
  window(from: number, to: number, names: ReadonlySet<string>): PairHearing[] {
    const result: PairHearing[] = [];
    for (const [key, samples] of this.samples) {
      const [listener, speaker] = key.split('<-');
      if (!names.has(listener) || !names.has(speaker)) continue;
      const states = classify(samples);
      let run = 0;
      let runAt = 0;
      let longest = 0;
      let longestAt = 0;
      let silent = 0;
      let late = 0;
      let measured = 0;
      let excluded = 0;
      samples.forEach((s, i) => {
        if (s.at <= from || s.at > to) return;
        const state = states[i];
        if (state === 'excluded') {
          excluded += s.seconds;
          return;
        }
        measured += s.seconds;
        if (state === 'late') late += s.seconds;
        if (state !== 'silent') {
          run = 0;
          return;
        }
        if (run === 0) runAt = s.at - s.seconds * 1000;
        run += s.seconds;
        silent += s.seconds;
        if (run > longest) [longest, longestAt] = [run, runAt];
      });
      result.push({
        listener,
        speaker,
        longestGapS: longest,
        longestGapAt: longestAt,
        silentS: silent,
        lateS: late,
        measuredS: measured,
        excludedS: excluded,
      });
    }
    return result;
  }

  /** Pairs (`listener<-speaker`) of tracked members whose latest second was without audio. */
  silentNow(): string[] {
    const result: string[] = [];
    for (const [key, samples] of this.samples) {
      const [listener, speaker] = key.split('<-');
      if (!this.members.has(listener) || !this.members.has(speaker)) continue;
      const last = [...samples].reverse().find((s) => s.speaking);
      if (last && last.rate < SILENT_BELOW_PPS) result.push(key);
    }
    return result;
  }

  private async run(): Promise<void> {
    let next = Date.now();
    while (this.running) {
      next += 1000;
      await sleep(Math.max(0, next - Date.now()));
      if (Date.now() - next > 1000) next = Date.now(); // a starved loop does not catch up
      await this.sample();
    }
  }

  /** Whether the control stream got too few packets since the previous round. */
  private async referenceStalled(): Promise<boolean> {
    const ref = this.reference;
    if (!ref) return false;
    const packets = await ref.source.receivedPackets();
    const now = performance.now();
    const rate = ref.packets < 0 ? Infinity : (packets - ref.packets) / ((now - ref.at) / 1000);
    [ref.packets, ref.at] = [packets, now];
    return rate < CONTROL_STALLED_BELOW_PPS;
  }

  private async sample(): Promise<void> {
    const members = [...this.members.values()];
    const speaking = new Set<string>();
    for (const { member, feed } of members) {
      const rate = feed.read();
      if (rate !== null && rate >= SPEAKING_FRAMES_PER_S) speaking.add(member.name);
    }
    const at = Date.now();
    const stalled = await this.referenceStalled();
    let seconds = 0;
    await Promise.all(
      members.map(async ({ member: listener, rates }) => {
        const speakers = members
          .map((m) => m.member)
          .filter((m) => m.group === listener.group && m !== listener);
        const read = await rates.read().catch(() => null);
        // Null: the member's first read, or its peer closed meanwhile (it is rejoining).
        if (read && this.members.get(listener.name)?.member === listener) {
          seconds = Math.max(seconds, read.seconds);
          this.record(listener, speakers, { speaking, stalled }, read.rates, read.seconds, at);
        }
      }),
    );
    if (seconds > 0) this.rounds.push({ at, seconds, stalled });
  }

  private record(
    listener: HearingMember,
    speakers: readonly HearingMember[],
    { speaking, stalled }: { speaking: ReadonlySet<string>; stalled: boolean },
    rates: ReadonlyMap<number, number>,
    seconds: number,
    at: number,
  ): void {
    for (const speaker of speakers) {
      const key = `${listener.name}<-${speaker.name}`;
      const list = this.samples.get(key) ?? [];
      list.push({
        at,
        seconds,
        rate: rates.get(speaker.tone) ?? 0,
        speaking: speaking.has(speaker.name),
        stalled,
      });
      this.samples.set(key, list);
    }
  }
}

/**
 * The state of every sample: seconds the speaker did not speak, or the control stream stalled,
 * are excluded; a second with fewer
 * than {@link SILENT_BELOW_PPS} packets is silent, unless it starts a run of such seconds that the
 * next second made up for (together they got most of the packets of their duration: delayed by a
 * process that did not get the CPU, not lost), then it is late.
 */
function classify(samples: readonly Sample[]): SampleState[] {
  const states: SampleState[] = samples.map((s) =>
    !s.speaking || s.stalled ? 'excluded' : s.rate >= SILENT_BELOW_PPS ? 'heard' : 'silent',
  );
  let runStart = -1;
  for (let i = 0; i < samples.length; i++) {
    if (states[i] === 'excluded') continue;
    if (states[i] === 'silent') {
      if (runStart < 0) runStart = i;
      continue;
    }
    if (runStart >= 0) {
      let packets = 0;
      let seconds = 0;
      for (let j = runStart; j <= i; j++) {
        if (states[j] === 'excluded') continue;
        packets += samples[j].rate * samples[j].seconds;
        seconds += samples[j].seconds;
      }
      if (packets >= LATE_SHARE * NOMINAL_PPS * seconds) {
        for (let j = runStart; j < i; j++) if (states[j] === 'silent') states[j] = 'late';
      }
      runStart = -1;
    }
  }
  return states;
}
