import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Something that happened in a page's room (see pages/livekit-harness.ts). */
export interface LkPageEvent {
  readonly type: string;
  readonly identity?: string;
  readonly source?: string;
  readonly detail?: string;
}

/** One remote track's RTP counters, as the page receives it. */
export interface LkTrackStats {
  readonly bytes: number;
  readonly packets: number;
  readonly audioLevel: number;
  readonly frames: number;
  /** Video: the size of the frames received now. */
  readonly width: number;
  readonly height: number;
}

/** One simulcast layer a page sends (see pages/livekit-harness.ts). */
export interface LkSentLayer {
  readonly rid: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly frames: number;
}

/** How a page shows a remote video: its tile's size (CSS pixels), or hidden. */
export interface LkTileLayout {
  readonly width: number;
  readonly height: number;
  readonly hidden: boolean;
}

/** A remote participant as the page sees it. */
export interface LkRemote {
  readonly identity: string;
  readonly sid: string;
  readonly attributes: Record<string, string>;
  readonly tracks: { sid: string; source: string; muted: boolean; subscribed: boolean }[];
}

/** `window.__lk` of pages/livekit-harness.ts, as far as the tests call it. */
interface Harness {
  events: LkPageEvent[];
  connect(
    url: string,
    token: string,
    adaptiveStream?: boolean,
  ): Promise<{ sid: string; identity: string }>;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  layOut(identity: string, source: string, layout: LkTileLayout): void;
  sentLayers(source: string): Promise<LkSentLayer[]>;
  setScreenShare(on: boolean): Promise<void>;
  setAttributes(attributes: Record<string, string>): Promise<void>;
  publishJson(topic: string, body: unknown, destinationIdentities?: string[]): Promise<void>;
  localTracks(): { source: string; muted: boolean }[];
  remotes(): LkRemote[];
  inbound(identity: string, source: string): Promise<LkTrackStats | null>;
  outbound(source: string): Promise<{ level: number; packets: number } | null>;
  disconnect(): Promise<void>;
}

type PageGlobal = { __lk: Harness };

/** With LIVEKIT_PAGE_DEBUG set, pages log at debug level and keep every line (`debug`). */
const DEBUG = process.env.LIVEKIT_PAGE_DEBUG !== undefined;
// The functions given to page.evaluate run in the page: they may use nothing from this module.

/**
 * What livekit-client logs here on every join and full reconnect, by design: its single-PC
 * attempt is refused (`/rtc/v1` 404, so it falls back to `/rtc`), and a dropped signal
 * connection (or a server `leave` with action RECONNECT) is reported before the client rejoins.
 */
export const LIVEKIT_TEST_LOG_NOISE =
  /rtc\/v1|v1 RTC path|404 \(Not Found\)|signal disconnected|failed to remove track|leave-reconnect/;

/** Polls `check` until it holds (or throws after `ms`, naming `what` and the last value seen). */
export async function until<T>(
  what: string,
  check: () => Promise<T> | T,
  ok: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await check();
  while (!ok(value)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    value = await check();
  }
  return value;
}

/**
 * One person with the stock livekit-client in their own browser context: a blank page on the
 * host's origin (so the signal WebSocket is same-origin) running pages/livekit-harness.ts.
 */
export class LiveKitPage {
  readonly logs: string[] = [];
  /** Everything the page logged, with LIVEKIT_PAGE_DEBUG set (livekit-client at debug level). */
  readonly debug: string[] = [];
  identity = '';
  sid = '';

  private constructor(
    readonly name: string,
    private readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('console', (m) => {
      if (DEBUG) this.debug.push(`${Date.now() % 100_000} [${m.type()}] ${m.text().slice(0, 300)}`);
      if (m.type() === 'error' || m.type() === 'warning')
        this.logs.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
  }

  /** Opens the page on `origin` with the bundled harness `script`. */
  static async open(
    browser: Browser,
    origin: string,
    script: string,
    name: string,
  ): Promise<LiveKitPage> {
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const url = `${origin}/__livekit-test/${encodeURIComponent(name)}.html`;
    await page.route(url, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>${name}</title>` }),
    );
    await page.goto(url);
    if (DEBUG) await page.evaluate(() => Object.assign(globalThis, { __lkDebug: true }));
    await page.addScriptTag({ content: script });
    return new LiveKitPage(name, context, page);
  }

  /**
   * `room.connect(url, token)`; resolves once connected. With `adaptiveStream`, the video it
   * receives follows the tiles it shows it in.
   */
  async connect(url: string, token: string, adaptiveStream = false): Promise<void> {
    try {
      const { sid, identity } = await this.page.evaluate(
        ([u, t, a]) => (globalThis as unknown as PageGlobal).__lk.connect(u, t, a),
        [url, token, adaptiveStream] as const,
      );
      this.sid = sid;
      this.identity = identity;
    } catch (err) {
      throw new Error(`${this.name} did not connect: ${String(err)}\n${this.logs.join('\n')}`, {
        cause: err,
      });
    }
  }

  setMicrophone(on: boolean): Promise<void> {
    return this.page.evaluate(
      (v) => (globalThis as unknown as PageGlobal).__lk.setMicrophone(v),
      on,
    );
  }

  /** Publishes (the first time: 960×540, three simulcast layers) or unmutes the camera; false mutes it. */
  setCamera(on: boolean): Promise<void> {
    return this.page.evaluate((v) => (globalThis as unknown as PageGlobal).__lk.setCamera(v), on);
  }

  /** Lays out the tile this page shows `identity`'s video of `source` in. */
  layOut(identity: string, source: string, layout: LkTileLayout): Promise<void> {
    return this.page.evaluate(
      ([i, s, l]) => (globalThis as unknown as PageGlobal).__lk.layOut(i, s, l),
      [identity, source, layout] as const,
    );
  }

  /** The simulcast layers this page sends of its track of `source`, smallest first. */
  sentLayers(source: string): Promise<LkSentLayer[]> {
    return this.page.evaluate(
      (s) => (globalThis as unknown as PageGlobal).__lk.sentLayers(s),
      source,
    );
  }

  setScreenShare(on: boolean): Promise<void> {
    return this.page.evaluate(
      (v) => (globalThis as unknown as PageGlobal).__lk.setScreenShare(v),
      on,
    );
  }

  setAttributes(attributes: Record<string, string>): Promise<void> {
    return this.page.evaluate(
      (a) => (globalThis as unknown as PageGlobal).__lk.setAttributes(a),
      attributes,
    );
  }

  publishJson(topic: string, body: unknown, to?: string[]): Promise<void> {
    return this.page.evaluate(
      ([t, b, d]) => (globalThis as unknown as PageGlobal).__lk.publishJson(t, b, d),
      [topic, body, to] as const,
    );
  }

  localTracks(): Promise<{ source: string; muted: boolean }[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__lk.localTracks());
  }

  remotes(): Promise<LkRemote[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__lk.remotes());
  }

  events(): Promise<LkPageEvent[]> {
    return this.page.evaluate(() => [...(globalThis as unknown as PageGlobal).__lk.events]);
  }

  inbound(identity: string, source: string): Promise<LkTrackStats | null> {
    return this.page.evaluate(
      ([i, s]) => (globalThis as unknown as PageGlobal).__lk.inbound(i, s),
      [identity, source] as const,
    );
  }

  /** This page's own track of `source`: its capture level and packets sent. */
  outbound(source: string): Promise<{ level: number; packets: number } | null> {
    return this.page.evaluate(
      (s) => (globalThis as unknown as PageGlobal).__lk.outbound(s),
      source,
    );
  }

  /** Waits until the page received `identity`'s track of `source` flowing: bytes and packets growing, a sound level. */
  async hears(identity: string, source = 'microphone', ms = 15_000): Promise<LkTrackStats> {
    let last: LkTrackStats | null = null;
    return until(
      `${this.name} receiving ${identity}'s ${source}`,
      async () => {
        const before = last;
        last = await this.inbound(identity, source);
        return { before, now: last };
      },
      ({ before, now }) =>
        before !== null &&
        now !== null &&
        now.packets > before.packets &&
        now.bytes > before.bytes &&
        (source !== 'microphone' || now.audioLevel > 0),
      ms,
    ).then(({ now }) => now as LkTrackStats);
  }

  /** Packets of `identity`'s `source` received here over `ms`. */
  async packetsOver(identity: string, source: string, ms: number): Promise<number> {
    const before = await this.inbound(identity, source);
    await this.page.waitForTimeout(ms);
    const after = await this.inbound(identity, source);
    return (after?.packets ?? 0) - (before?.packets ?? 0);
  }

  async close(): Promise<void> {
    await this.page
      .evaluate(() => (globalThis as unknown as PageGlobal).__lk.disconnect())
      .catch(() => undefined);
    await this.context.close().catch(() => undefined);
  }
}
