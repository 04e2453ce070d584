import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { LIVEKIT_TEST_LOG_NOISE } from './livekit-page';

/** Debian's Chromium (installed by test/support/run-all-tests.sh); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, quiet, with fake microphone/camera/screen that need no permission prompt. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Launches headless Chromium (a fresh temporary profile each time); `extraArgs` add switches
 * (e.g. `--use-file-for-fake-audio-capture=<wav>` for a microphone that plays a file).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** One RTP stream from `RTCPeerConnection.getStats()`. */
export interface RtpStat {
  type: 'inbound-rtp' | 'outbound-rtp';
  kind: string;
  ssrc: number;
  packetsReceived: number;
  packetsSent: number;
  framesDecoded: number;
  framesEncoded: number;
  keyFramesDecoded: number;
  pliCount: number;
  nackCount: number;
  /** Inbound audio: the energy of the sound played out so far (grows while a voice is heard). */
  totalAudioEnergy: number;
}

/** A camera tile as the page shows it (its data attributes and its `<video>`). */
export interface VideoTile {
  session: string;
  /** The caption (the display name, "(you)" on this page's own). */
  name: string;
  self: boolean;
  speaking: boolean;
  /** The tile has a video attached (else it shows the name only). */
  video: boolean;
  /** The picture's size as decoded (0 before the first frame). */
  width: number;
  height: number;
  /** Frames the `<video>` has been given so far (`getVideoPlaybackQuality().totalVideoFrames`). */
  frames: number;
  /** The tile's place and size on the page, CSS pixels. */
  box: { top: number; width: number; height: number };
}

/** A participant's connection-quality indicator as the page shows it (its data attributes). */
export interface QualityShown {
  level: string;
  loss: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  packets: number | null;
  title: string;
}

/** A participant row as the page shows it (its data attributes). */
export interface ParticipantRow {
  session: string;
  user: string;
  muted: boolean;
  speaking: boolean;
  hand: boolean;
  screen: boolean;
  host: boolean;
  text: string;
  quality: QualityShown | null;
}

interface CallsHook {
  pc: {
    getStats(): Promise<{ forEach(cb: (s: Record<string, unknown>) => void): void }>;
    getTransceivers(): {
      mid: string | null;
      direction: string;
      currentDirection: string | null;
      receiver: { track: { kind: string; muted: boolean; readyState: string } };
    }[];
  } | null;
  protocol: string;
  sessionId: string;
  state: string;
  states: string[];
  microphone: { deviceId: string; label: string } | null;
  speakers: string[];
  layout: string;
  dropConnection(): void;
  action(type: string, data?: unknown): Promise<Record<string, unknown>>;
}

/** `globalThis` in the page, with its `window.__calls` test hook. */
type PageGlobal = {
  __calls: CallsHook;
  document: { querySelector(selector: string): { videoWidth: number } | null };
};

// The functions given to page.evaluate run in the page: they may use nothing from this module.

/**
 * Something on the page's global object with its statistics: `stats()` (the calls page, one or two
 * peer connections), else the peer connection `pc` (`__peer`, …).
 */
type PeerOwner = {
  stats?: () => Promise<Record<string, unknown>[]>;
  pc?: { getStats(): Promise<Map<string, Record<string, unknown>>> } | null;
};

/** The RTP streams of the peer connection(s) of `globalThis[owner]` in `page`. */
export function pageRtp(page: Page, owner: string): Promise<RtpStat[]> {
  return page.evaluate(async (name) => {
    const out: RtpStat[] = [];
    const peer = (globalThis as unknown as Record<string, PeerOwner | undefined>)[name];
    const entries: Record<string, unknown>[] = [];
    if (peer?.stats) entries.push(...(await peer.stats()));
    else (await peer?.pc?.getStats())?.forEach((s) => entries.push(s));
    entries.forEach((s) => {
      if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') return;
      out.push({
        type: s.type,
        kind: String(s.kind),
        ssrc: Number(s.ssrc),
        packetsReceived: Number(s.packetsReceived ?? 0),
        packetsSent: Number(s.packetsSent ?? 0),
        framesDecoded: Number(s.framesDecoded ?? 0),
        framesEncoded: Number(s.framesEncoded ?? 0),
        keyFramesDecoded: Number(s.keyFramesDecoded ?? 0),
        pliCount: Number(s.pliCount ?? 0),
        nackCount: Number(s.nackCount ?? 0),
        totalAudioEnergy: Number(s.totalAudioEnergy ?? 0),
      });
    });
    return out;
  }, owner);
}

/** What {@link recordSpeakers} leaves in the page. */
interface SpeakerLog {
  __speakingSeen?: Set<string>;
}

/**
 * Runs in the page before its own scripts: records every session the participant list shows
 * speaking (`li[data-speaking="true"]`, added or changed), in `__speakingSeen`.
 */
function recordSpeakers(): void {
  type El = {
    dataset?: Record<string, string>;
    querySelectorAll?(selector: string): ArrayLike<El>;
  };
  type MutationLike = { target: El; addedNodes: ArrayLike<El> };
  const g = globalThis as unknown as SpeakerLog & {
    document: unknown;
    MutationObserver: new (cb: (records: MutationLike[]) => void) => {
      observe(target: unknown, options: Record<string, unknown>): void;
    };
  };
  const seen = new Set<string>();
  g.__speakingSeen = seen;
  const note = (el: El) => {
    if (el.dataset?.speaking === 'true' && el.dataset.session) seen.add(el.dataset.session);
  };
  new g.MutationObserver((records) => {
    for (const r of records) {
      note(r.target);
      for (const added of Array.from(r.addedNodes)) {
        note(added);
        Array.from(added.querySelectorAll?.('[data-speaking="true"]') ?? []).forEach(note);
      }
    }
  }).observe(g.document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-speaking'],
  });
}

/** One person with the calls page open in their own browser context. */
export class CallsPage {
  readonly logs: string[] = [];

  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('console', (m) => this.logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
  }

  static async open(browser: Browser, url: string, name: string): Promise<CallsPage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    await context.addInitScript(recordSpeakers);
    const page = await context.newPage();
    const calls = new CallsPage(name, context, page);
    await page.goto(url);
    return calls;
  }

  /**
   * Waits until the participant list has shown `session` speaking at some moment since the page
   * loaded (a row marked `data-speaking="true"`), however short. A voice that is heard only now
   * and then (Chromium's fake microphone beeps, which its noise suppression soon turns down) is
   * seen this way where polling the list can miss it.
   */
  async waitForSpeakingSeen(session: string, timeout = 10_000): Promise<void> {
    await this.page.waitForFunction(
      (s) => (globalThis as unknown as SpeakerLog).__speakingSeen?.has(s) === true,
      session,
      { timeout },
    );
  }

  /**
   * Fills the form and joins; waits until the media connection is up. `protocol` picks that
   * option of the form's protocol switch (else the page's remembered choice stays).
   */
  async join(channel: string, protocol?: 'mattermost' | 'livekit'): Promise<void> {
    await this.page.fill('#name-input', this.name);
    await this.page.fill('#channel-input', channel);
    if (protocol) {
      // As a person does: a click on the option's label (the radio itself is not drawn).
      const radio = this.page.locator(`input[name="protocol"][value="${protocol}"]`);
      await this.page.locator('.protocol-switch label').filter({ has: radio }).click();
      if (!(await radio.isChecked())) throw new Error(`${this.name}: ${protocol} is not chosen`);
    }
    await this.page.click('#join-btn');
    await this.waitForState('connected');
  }

  /** The protocol the page joined with ('' when not in a call). */
  protocol(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.protocol);
  }

  async waitForState(state: string, timeout = 15_000): Promise<void> {
    try {
      await this.page.waitForFunction(
        (s) => (globalThis as unknown as PageGlobal).__calls.state === s,
        state,
        { timeout },
      );
    } catch (err) {
      throw new Error(
        `${this.name}: state ${await this.state()} (wanted ${state}); banner: ${await this.errorBanner()}\n${this.logs.join('\n')}`,
        { cause: err },
      );
    }
  }

  state(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.state);
  }

  /** Every connection state the page showed so far, in order. */
  states(): Promise<string[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.states);
  }

  /** The microphone the page sends (as the browser reports its track). */
  microphone(): Promise<{ deviceId: string; label: string } | null> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.microphone);
  }

  /** The speaker (`sinkId`) each remote voice plays on. */
  speakers(): Promise<string[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.speakers);
  }

  /** A `<select>`'s options as [value, label]. */
  options(selector: string): Promise<[string, string][]> {
    return this.page.$$eval(`${selector} option`, (items) =>
      items.map((item) => {
        const o = item as unknown as { value: string; textContent: string | null };
        return [o.value, (o.textContent ?? '').trim()] as [string, string];
      }),
    );
  }

  sessionId(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.sessionId);
  }

  /** Sends a raw calls action through the page's socket (the page's own state is untouched). */
  action(type: string, data?: unknown): Promise<Record<string, unknown>> {
    return this.page.evaluate(
      ([t, d]) => (globalThis as unknown as PageGlobal).__calls.action(t, d),
      [type, data] as const,
    );
  }

  dropConnection(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.dropConnection());
  }

  /** The RTP streams of the page's peer connection. */
  rtp(): Promise<RtpStat[]> {
    return pageRtp(this.page, '__calls');
  }

  /** The peer connection's transceivers (mid, directions, receiver track state). */
  transceivers(): Promise<Record<string, unknown>[]> {
    return this.page.evaluate(() => {
      const pc = (globalThis as unknown as PageGlobal).__calls.pc;
      return (pc?.getTransceivers() ?? []).map((t) => ({
        mid: t.mid,
        direction: t.direction,
        currentDirection: t.currentDirection,
        kind: t.receiver.track.kind,
        muted: t.receiver.track.muted,
        readyState: t.receiver.track.readyState,
      }));
    });
  }

  /** The participant list as shown. */
  participants(): Promise<ParticipantRow[]> {
    return this.page.$$eval('#participants > li', (items) =>
      items.map((item) => {
        type Node = { dataset: Record<string, string>; title: string };
        const li = item as unknown as {
          dataset: Record<string, string>;
          textContent: string | null;
          querySelector(selector: string): Node | null;
        };
        const d = li.dataset;
        const q = li.querySelector('.quality');
        const figure = (v: string | undefined) => (v === undefined ? null : Number(v));
        return {
          session: d.session,
          user: d.user,
          muted: d.muted === 'true',
          speaking: d.speaking === 'true',
          hand: d.hand === 'true',
          screen: d.screen === 'true',
          host: d.host === 'true',
          text: (li.textContent ?? '').trim(),
          quality: q
            ? {
                level: q.dataset.quality ?? '',
                loss: figure(q.dataset.loss),
                jitterMs: figure(q.dataset.jitterMs),
                rttMs: figure(q.dataset.rttMs),
                packets: figure(q.dataset.packets),
                title: q.title,
              }
            : null,
        };
      }),
    );
  }

  /** How the stage is laid out: `screen` (a screen share large), `grid` (cameras) or `empty`. */
  layout(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__calls.layout);
  }

  /** The camera tiles as shown, in order. */
  tiles(): Promise<VideoTile[]> {
    return this.page.$$eval('#video-grid > .tile', (items) =>
      items.map((item) => {
        type VideoNode = {
          videoWidth: number;
          videoHeight: number;
          getVideoPlaybackQuality(): { totalVideoFrames: number };
        };
        const tile = item as unknown as {
          dataset: Record<string, string>;
          querySelector(selector: string): unknown;
          getBoundingClientRect(): { top: number; width: number; height: number };
        };
        const video = tile.querySelector('video') as VideoNode | null;
        const name = tile.querySelector('.tile-name') as { textContent: string | null } | null;
        const box = tile.getBoundingClientRect();
        return {
          session: tile.dataset.session ?? '',
          name: (name?.textContent ?? '').trim(),
          self: tile.dataset.self === 'true',
          speaking: tile.dataset.speaking === 'true',
          video: tile.dataset.video === 'true',
          width: video?.videoWidth ?? 0,
          height: video?.videoHeight ?? 0,
          frames: video?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
          box: { top: Math.round(box.top), width: box.width, height: box.height },
        };
      }),
    );
  }

  /** Waits until the camera tiles satisfy `predicate`. */
  async waitForTiles(
    predicate: (tiles: VideoTile[]) => boolean,
    timeout = 10_000,
  ): Promise<VideoTile[]> {
    const deadline = Date.now() + timeout;
    let tiles = await this.tiles();
    while (!predicate(tiles)) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: camera tiles never matched: ${JSON.stringify(tiles)}`);
      }
      await this.page.waitForTimeout(100);
      tiles = await this.tiles();
    }
    return tiles;
  }

  /** Waits until the participant list satisfies `predicate`. */
  async waitForParticipants(
    predicate: (rows: ParticipantRow[]) => boolean,
    timeout = 10_000,
  ): Promise<ParticipantRow[]> {
    const deadline = Date.now() + timeout;
    let rows = await this.participants();
    while (!predicate(rows)) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: participant list never matched: ${JSON.stringify(rows)}`);
      }
      await this.page.waitForTimeout(100);
      rows = await this.participants();
    }
    return rows;
  }

  /** Waits until the stage's `<video>` shows a picture. */
  async waitForVideoPicture(timeout = 10_000): Promise<void> {
    try {
      // A function, not a string: the page's CSP forbids eval.
      await this.page.waitForFunction(
        () => {
          const doc = (globalThis as unknown as PageGlobal).document;
          return (doc.querySelector('#screen-video')?.videoWidth ?? 0) > 0;
        },
        undefined,
        { timeout },
      );
    } catch (err) {
      const rtp = await this.rtp();
      const transceivers = await this.transceivers();
      throw new Error(
        `${this.name}: no screen picture; rtp ${JSON.stringify(rtp)}; transceivers ${JSON.stringify(transceivers)}`,
        { cause: err },
      );
    }
  }

  /**
   * Prints what the page showed and logged that went wrong (its error banner, its console errors
   * but livekit-client's known noise) for the test output, then forgets its logs so far.
   */
  async reportProblems(): Promise<void> {
    const banner = await this.errorBanner().catch(() => null);
    const errors = this.logs.filter(
      (l) =>
        (l.startsWith('[error]') || l.startsWith('[pageerror]')) && !LIVEKIT_TEST_LOG_NOISE.test(l),
    );
    if (banner !== null || errors.length > 0) {
      console.log(`${this.name}: error banner: ${banner}\n${errors.join('\n')}`);
    }
    this.logs.splice(0);
  }

  /** The error banner's text, or null while it is hidden. */
  async errorBanner(): Promise<string | null> {
    const banner = this.page.locator('#error-banner');
    if (!(await banner.isVisible())) return null;
    return (await banner.textContent())?.trim() ?? '';
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Per-stream growth of a counter between two samples (streams keyed by ssrc). */
export function growth(
  before: RtpStat[],
  after: RtpStat[],
  pick: (s: RtpStat) => boolean,
  counter: Exclude<keyof RtpStat, 'type' | 'kind' | 'ssrc'>,
): number[] {
  return after.filter(pick).map((s) => {
    const old = before.find((b) => b.ssrc === s.ssrc && b.type === s.type);
    return s[counter] - (old?.[counter] ?? 0);
  });
}

/** Samples `page`'s RTP stats, waits `ms`, samples again. */
export async function measure(
  page: CallsPage,
  ms: number,
): Promise<{ before: RtpStat[]; after: RtpStat[] }> {
  const before = await page.rtp();
  await page.page.waitForTimeout(ms);
  return { before, after: await page.rtp() };
}

/** Inbound audio / video and outbound audio filters. */
export const inboundAudio = (s: RtpStat): boolean => s.type === 'inbound-rtp' && s.kind === 'audio';
export const inboundVideo = (s: RtpStat): boolean => s.type === 'inbound-rtp' && s.kind === 'video';
export const outboundAudio = (s: RtpStat): boolean =>
  s.type === 'outbound-rtp' && s.kind === 'audio';
export const outboundVideo = (s: RtpStat): boolean =>
  s.type === 'outbound-rtp' && s.kind === 'video';
