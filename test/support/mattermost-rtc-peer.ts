import { buildSync } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventEmitter } from 'node:events';

/** The parts of the stock Mattermost client's `RTCPeer` the tests use. */
export interface StockRTCPeer extends EventEmitter {
  signal(data: string): Promise<void>;
  addStream(stream: unknown): void;
  replaceTrack(oldTrackId: string, track: unknown): void;
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  destroy(): void;
}

export type StockRTCPeerClass = new (config: Record<string, unknown>) => StockRTCPeer;

const OUT = join(__dirname, '../../node_modules/.cache/calls-tests/calls-common-rtc-peer.cjs');

/**
 * Loads the `RTCPeer` class of the npm package `@mattermost/calls-common` (the code Mattermost's
 * web, desktop and mobile clients run). The package ships untranspiled ES modules, so it is
 * bundled to CommonJS with esbuild first (cached under node_modules/.cache).
 */
export function loadStockRTCPeer(): StockRTCPeerClass {
  if (!existsSync(OUT)) {
    mkdirSync(dirname(OUT), { recursive: true });
    buildSync({
      entryPoints: [require.resolve('@mattermost/calls-common/lib/index.js')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: OUT,
      logLevel: 'error',
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(OUT) as { RTCPeer: StockRTCPeerClass }).RTCPeer;
}

/** The WebRTC implementation calls-common is given: @roamhq/wrtc (Chrome's libwebrtc). */
export function wrtcForStockClient(): { RTCPeerConnection: unknown; MediaStream: unknown } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wrtc = require('@roamhq/wrtc') as {
    RTCPeerConnection: new (config: unknown) => {
      signalingState: string;
      createOffer(): Promise<unknown>;
      createAnswer(): Promise<unknown>;
      setLocalDescription(d: unknown): Promise<void>;
      getStats(selector?: unknown): Promise<unknown>;
    };
    MediaStream: unknown;
  };
  /**
   * wrtc (libwebrtc M106 bindings) lacks two browser behaviours RTCPeer uses: the parameterless
   * `setLocalDescription()` (offer or answer as the signaling state needs) and `getStats(null)`.
   */
  class PerfectNegotiationPC extends wrtc.RTCPeerConnection {
    override getStats(selector?: unknown): Promise<unknown> {
      return selector === null || selector === undefined
        ? super.getStats()
        : super.getStats(selector);
    }

    override async setLocalDescription(description?: unknown): Promise<void> {
      const d =
        description ??
        (this.signalingState === 'have-remote-offer'
          ? await this.createAnswer()
          : await this.createOffer());
      return super.setLocalDescription(d);
    }
  }
  return { RTCPeerConnection: PerfectNegotiationPC, MediaStream: wrtc.MediaStream };
}
