import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { SignalSink } from '@app/calls/testing';
import type { SfuService } from '@app/calls/sfu/sfu.service';
import type { MediaSessionRef, MediaSignal } from '@app/calls/media/media-plane.interface';
import { pageRtp, type RtpStat } from './calls-browser';

const CLIENT_DIR = resolve(__dirname, '..', '..', 'src', 'web', 'client');
/** Any loopback origin is a secure context (getUserMedia works); nothing listens there. */
const PAGE_URL = 'http://127.0.0.1:9/peer.html';

/** What the bundled script puts on the page. */
interface PeerPage {
  __peer: {
    signal(signal: unknown): void;
    setMicrophone(on: boolean): Promise<void>;
    close(): void;
    pc: { signalingState: string };
  };
  __problems: string[];
}

/**
 * The calls page's own `CallsPeer` (src/web/client/calls-peer.ts: the browser side of the
 * Mattermost RTCPeer protocol), bundled for a bare page. Built once per test file.
 */
export async function bundleCallsPeer(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import { CallsPeer } from './calls-peer';
        const g = globalThis as any;
        g.__problems = [];
        g.__startPeer = () => {
          g.__peer = new CallsPeer([], {
            description: (d) => g.__toServer('description', d),
            candidate: (c) => g.__toServer('candidate', c),
          }, {
            state: () => undefined,
            remoteTrack: () => undefined,
            remoteTrackGone: () => undefined,
            roundTrip: () => undefined,
            screenEnded: () => undefined,
            problem: (message, err) => { g.__problems.push(message + ': ' + String(err)); },
          });
        };
        g.__captureScreen = async () => {
          g.__screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
          return g.__screen.id;
        };
        g.__startScreen = () => g.__peer.startScreen(g.__screen);`,
      resolveDir: CLIENT_DIR,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    target: ['chrome110'],
    tsconfig: join(CLIENT_DIR, 'tsconfig.json'),
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

/**
 * A Chromium page with one `CallsPeer`, wired straight to `SfuService` (no gateway): its
 * descriptions and candidates go to the service, the service's signals come in through
 * {@link handleSignal} (an `SfuHarness` sink).
 */
export class BrowserPeer implements SignalSink {
  readonly logs: string[] = [];

  private constructor(
    readonly ref: MediaSessionRef,
    private readonly context: BrowserContext,
    readonly page: Page,
    private readonly sfu: SfuService,
  ) {
    page.on('console', (m) => this.logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
  }

  /** Opens a page, starts its peer (its data channel makes it offer at once). */
  static async open(
    browser: Browser,
    script: string,
    sfu: SfuService,
    ref: MediaSessionRef,
  ): Promise<BrowserPeer> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const peer = new BrowserPeer(ref, context, page, sfu);
    await page.route(PAGE_URL, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>peer</title>' }),
    );
    await page.exposeFunction('__toServer', async (kind: string, payload: unknown) => {
      if (kind === 'description') {
        await sfu.handleDescription(ref.sessionId, payload as { type: 'offer'; sdp: string });
      } else {
        await sfu.addIceCandidate(ref.sessionId, payload as { candidate: string });
      }
    });
    await page.goto(PAGE_URL);
    await page.addScriptTag({ content: script });
    await page.evaluate(() => (globalThis as unknown as { __startPeer(): void }).__startPeer());
    return peer;
  }

  handleSignal(signal: MediaSignal): Promise<void> {
    if (signal.type !== 'offer' && signal.type !== 'answer' && signal.type !== 'candidate') {
      return Promise.resolve();
    }
    return this.page
      .evaluate((s) => (globalThis as unknown as PeerPage).__peer.signal(s), signal)
      .catch(() => undefined); // the page is closing
  }

  /** Turns the fake microphone on (the first time: adds the track, which renegotiates). */
  unmute(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as PeerPage).__peer.setMicrophone(true));
  }

  /**
   * Shares the (fake) screen, in Mattermost's order: its stream named to the SFU as the screen
   * (`screen_on`), then a new send-only video section, which renegotiates.
   */
  async shareScreen(): Promise<void> {
    type Screen = { __captureScreen(): Promise<string>; __startScreen(): void };
    const streamId = await this.page.evaluate(() =>
      (globalThis as unknown as Screen).__captureScreen(),
    );
    await this.sfu.setScreenStream(this.ref.sessionId, streamId);
    await this.page.evaluate(() => (globalThis as unknown as Screen).__startScreen());
  }

  /** The page's signaling state. */
  signalingState(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PeerPage).__peer.pc.signalingState);
  }

  /** Negotiation failures the peer reported. */
  problems(): Promise<string[]> {
    return this.page.evaluate(() => [...(globalThis as unknown as PeerPage).__problems]);
  }

  /** Inbound and outbound RTP counters. */
  rtp(): Promise<RtpStat[]> {
    return pageRtp(this.page, '__peer');
  }

  close(): void {
    void this.context.close().catch(() => undefined);
  }
}
