import { buildSync } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { loadWrtc } from './wrtc-test-peer';

/** The parts of the stock Mattermost client's `RTCPeer` the tests use. */
export interface StockRTCPeer extends EventEmitter {
  signal(data: string): Promise<void>;
  addStream(stream: unknown): void;
  replaceTrack(oldTrackId: string, track: unknown): void;
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  destroy(): void;
}

export type StockRTCPeerClass = new (config: Record<string, unknown>) => StockRTCPeer;

const OUT = join(
  __dirname,
  '../../../../node_modules/.cache/calls-tests/calls-common-rtc-peer.cjs',
);

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

type AnyPc = {
  signalingState: string;
  onnegotiationneeded: (() => void) | null;
  createOffer(): Promise<unknown>;
  createAnswer(): Promise<unknown>;
  setLocalDescription(d?: unknown): Promise<void>;
  setRemoteDescription(d: { type: string }): Promise<void>;
  getStats(selector?: unknown): Promise<unknown>;
  dispatchEvent(event: { type: string; target?: unknown }): void;
  getTransceivers(): { mid: string | null; direction: string; currentDirection: string | null }[];
};

/** The direction of every m-section of a description, by mid. */
function sectionDirections(sdp: string): Map<string, string> {
  const directions = new Map<string, string>();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(section)?.[1];
    if (mid && direction) directions.set(mid, direction);
  }
  return directions;
}

/**
 * wrtc's RTCPeerConnection with the browser behaviour Mattermost's RTCPeer relies on and
 * libwebrtc M106 in Node lacks: parameterless setLocalDescription, description changes applied one
 * at a time, implicit rollback when an offer arrives in have-local-offer (RTCPeer is the polite
 * peer), negotiationneeded fired again once stable when something is left to negotiate, and
 * getStats(null).
 */
export async function browserLikeWebRtc(): Promise<{
  RTCPeerConnection: unknown;
  MediaStream: unknown;
}> {
  const wrtc = (await loadWrtc()) as unknown as {
    RTCPeerConnection: new (config: unknown) => AnyPc;
    MediaStream: unknown;
  };
  class BrowserLikePC extends wrtc.RTCPeerConnection {
    /** Browsers run description changes one at a time (the "operations chain"); so does this. */
    private chain: Promise<unknown> = Promise.resolve();
    private busy = 0;
    private needed = false;
    /** Directions of this side's last answered offer, and of the offer awaiting its answer. */
    private readonly offered = new Map<string, string>();
    private offering: Map<string, string> | null = null;

    /**
     * libwebrtc fires negotiationneeded in any state; browsers only when stable and idle, and
     * again later when something is left to negotiate (a rolled-back offer, a new direction).
     */
    override dispatchEvent(event: { type: string }): void {
      if (event.type !== 'negotiationneeded') return super.dispatchEvent(event);
      this.needed = true;
      this.fireIfNeeded();
    }

    override getStats(selector?: unknown): Promise<unknown> {
      return selector === null || selector === undefined
        ? super.getStats()
        : super.getStats(selector);
    }

    override setLocalDescription(description?: unknown): Promise<void> {
      return this.enqueue(async () => {
        // Created inside the chain, so it matches the state it is applied to.
        const d =
          description ??
          (this.signalingState === 'have-remote-offer'
            ? await this.createAnswer()
            : await this.createOffer());
        await super.setLocalDescription(d);
        const { type, sdp } = d as { type?: string; sdp?: string };
        if (type === 'offer') this.offering = sectionDirections(sdp ?? '');
      });
    }

    override setRemoteDescription(description: { type: string }): Promise<void> {
      return this.enqueue(async () => {
        if (description.type === 'offer' && this.signalingState === 'have-local-offer') {
          await super.setLocalDescription({ type: 'rollback' });
          this.offering = null;
          this.needed = true;
        }
        await super.setRemoteDescription(description);
        if (description.type === 'answer') {
          this.offering?.forEach((direction, mid) => this.offered.set(mid, direction));
          this.offering = null;
        }
      });
    }

    private enqueue(step: () => Promise<void>): Promise<void> {
      this.busy++;
      const next = this.chain.then(step, step).finally(() => {
        this.busy--;
        // A direction the current one differs from is left to negotiate unless this side
        // already offered it (a sendrecv microphone the server only receives stays sendonly).
        const pending = this.getTransceivers().some(
          (t) =>
            t.currentDirection !== null &&
            t.direction !== t.currentDirection &&
            this.offered.get(t.mid ?? '') !== t.direction,
        );
        if (pending) this.needed = true;
        this.fireIfNeeded();
      });
      this.chain = next.catch(() => undefined);
      return next;
    }

    private fireIfNeeded(): void {
      if (!this.needed || this.busy > 0 || this.signalingState !== 'stable') return;
      this.needed = false;
      super.dispatchEvent({ type: 'negotiationneeded', target: this });
    }
  }
  return { RTCPeerConnection: BrowserLikePC, MediaStream: wrtc.MediaStream };
}
