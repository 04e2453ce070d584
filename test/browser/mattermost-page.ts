import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestClient } from '../support/host-app';

/** One inbound RTP stream's counters (see pages/mattermost-harness.ts). */
export interface MmInbound {
  readonly kind: string;
  readonly bytes: number;
  readonly packets: number;
  readonly audioLevel: number;
  readonly frames: number;
  /** The receiving track's id (the server's label: `<type>_<sender session>_<hex>`). */
  readonly trackId: string;
  readonly width: number;
  readonly height: number;
}

/** `window.__mm` of pages/mattermost-harness.ts, as far as the tests call it. */
interface Harness {
  problems: string[];
  start(): void;
  signal(data: string): Promise<void>;
  addMicrophone(): Promise<void>;
  captureScreen(): Promise<string>;
  sendScreen(): void;
  captureCamera(): Promise<string>;
  sendCamera(): void;
  stopCamera(): void;
  inbound(): Promise<MmInbound[]>;
  close(): void;
}

type PageGlobal = { __mm: Harness };
// The functions given to page.evaluate run in the page: they may use nothing from this module.

/**
 * A Mattermost participant: the stock `RTCPeer` of @mattermost/calls-common in Chromium, its
 * signaling carried by a socket.io client of the test process (`sdp`/`ice` up, `signal` down), as
 * the Mattermost web app wires it to its calls WebSocket.
 */
export class MattermostPage {
  private constructor(
    readonly client: TestClient,
    private readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Opens the page and starts the peer of `client`'s session (it has joined already). */
  static async open(
    browser: Browser,
    origin: string,
    script: string,
    client: TestClient,
  ): Promise<MattermostPage> {
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const url = `${origin}/__mattermost-test/${client.connectionId}.html`;
    await page.route(url, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>mm</title>' }),
    );
    await page.exposeFunction('__mmSend', async (kind: 'sdp' | 'ice', data: string) => {
      await client.send(kind, { data });
    });
    await page.goto(url);
    await page.addScriptTag({ content: script });
    client.socket.on(
      'custom_com.mattermost.calls_signal',
      (e: { data: { connID: string; data: string } }) => {
        if (e.data.connID !== client.connectionId) return;
        const type = (JSON.parse(e.data.data) as { type: string }).type;
        if (!['offer', 'answer', 'candidate'].includes(type)) return;
        void page
          .evaluate((d) => (globalThis as unknown as PageGlobal).__mm.signal(d), e.data.data)
          .catch(() => undefined);
      },
    );
    await page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.start());
    return new MattermostPage(client, context, page);
  }

  /** Adds the microphone and unmutes, as the Mattermost client's first unmute does. */
  async unmute(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.addMicrophone());
    await this.client.send('unmute');
  }

  /** Shares the (fake) screen: `screen_on` with its stream id, then the stream. */
  async shareScreen(): Promise<void> {
    const screenStreamID = await this.page.evaluate(() =>
      (globalThis as unknown as PageGlobal).__mm.captureScreen(),
    );
    await this.client.send('screen_on', { data: JSON.stringify({ screenStreamID }) });
    await this.page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.sendScreen());
  }

  /** Turns the (fake) camera on: `video_on` with its stream id, then the stream. */
  async startCamera(): Promise<Record<string, unknown>> {
    const videoStreamID = await this.page.evaluate(() =>
      (globalThis as unknown as PageGlobal).__mm.captureCamera(),
    );
    const ack = await this.client.send('video_on', { data: JSON.stringify({ videoStreamID }) });
    await this.page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.sendCamera());
    return ack;
  }

  /** Turns the camera off: the track is removed, then `video_off`. */
  async stopCamera(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.stopCamera());
    await this.client.send('video_off');
  }

  /**
   * How this client wants another session's camera or screen (the server's `track_settings`
   * extension).
   */
  trackSettings(
    sessionId: string,
    type: 'video' | 'screen',
    settings: { disabled?: boolean; width?: number; height?: number },
  ): Promise<Record<string, unknown>> {
    return this.client.send('track_settings', {
      data: JSON.stringify({ session_id: sessionId, type, ...settings }),
    });
  }

  inbound(): Promise<MmInbound[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageGlobal).__mm.inbound());
  }

  problems(): Promise<string[]> {
    return this.page.evaluate(() => [...(globalThis as unknown as PageGlobal).__mm.problems]);
  }

  async close(): Promise<void> {
    await this.page
      .evaluate(() => (globalThis as unknown as PageGlobal).__mm.close())
      .catch(() => undefined);
    await this.context.close().catch(() => undefined);
  }
}
