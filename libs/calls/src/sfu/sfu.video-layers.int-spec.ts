import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaTrackPreference } from '../media/media-plane.interface';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

/** The sender's simulcast layers (wrtc test peer): rid l at half size, rid h at full size. */
const FULL = { width: 640, height: 360 };
const HALF = { width: 320, height: 180 };
const FPS = 15;

/** The one remote video of a peer: frames decoded so far and the size of the last one. */
function received(p: HarnessPeer): { frames: number; width: number; height: number } {
  const [video] = p.peer.videoFrames();
  return video ?? { frames: 0, width: 0, height: 0 };
}

/** Frames decoded by `p` over `ms`. */
async function framesOver(p: HarnessPeer, ms: number): Promise<number> {
  const before = received(p).frames;
  await sleep(ms);
  return received(p).frames - before;
}

/** Waits until `p` decodes frames of the given width (a few, to skip frames in flight). */
async function waitForWidth(p: HarnessPeer, width: number): Promise<void> {
  let since = -1;
  await p.peer.waitFor(
    () => {
      const now = received(p);
      if (now.width !== width) since = -1;
      else if (since === -1) since = now.frames;
      return since !== -1 && now.frames - since >= 5;
    },
    20_000,
    `frames ${width} wide (last ${JSON.stringify(received(p))})`,
  );
}

/**
 * Real mediasoup, real WebRTC peers (wrtc) sending VP8 simulcast: the camera gate (video is
 * forwarded once its MediaStream is named), the layer a receiver's preference picks, a hidden
 * track's consumer paused, a session's default camera preference, and the frame rate of a
 * simulcast stream (all its temporal layers forwarded).
 */
describe('SfuService: video layers and preferences', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start();
  });

  afterAll(async () => {
    await h.close();
  });

  it('forwards a camera once named, at the layer each receiver prefers; a hidden one sends nothing', async () => {
    const callId = `call-${randomUUID()}`;
    const viewer = await h.join(callId, { name: 'viewer' });
    const sender = await h.join(callId, { name: 'camera' });
    const { streamId } = sender.peer.addVideo({ ...FULL, fps: FPS, simulcast: true });
    await sender.peer.waitConnected(15_000);

    // Video outside a named screen or camera stream is not forwarded.
    await viewer.peer.waitFor(() => viewer.peer.videoFrames().length === 1, 15_000, 'the offer');
    expect(await framesOver(viewer, 1500)).toBe(0);

    // Named as the camera: forwarded, at the top layer (no preference, bandwidth to spare), with
    // every temporal layer (the full frame rate, not the base layer's quarter of it).
    await h.sfu.setCameraStream(sender.ref.sessionId, streamId);
    await waitForWidth(viewer, FULL.width);
    const fps = (await framesOver(viewer, 2000)) / 2;
    console.log(`[video-layers] top layer decoded at ${fps} fps (sent at ${FPS})`);
    expect(fps).toBeGreaterThan(FPS * 0.6);

    const [track] = h.sfu.tracksOf(callId).filter((t) => t.kind === 'video');
    const prefer = (p: MediaTrackPreference) =>
      h.sfu.setTrackPreference(viewer.ref.sessionId, track.producerId, p);

    // A small tile: the low layer. A large one: the top layer again.
    let t0 = Date.now();
    await prefer({ width: 320, height: 180 });
    await waitForWidth(viewer, HALF.width);
    console.log(`[video-layers] down to the low layer in ${Date.now() - t0} ms`);
    t0 = Date.now();
    await prefer({ width: 1280, height: 720 });
    await waitForWidth(viewer, FULL.width);
    console.log(`[video-layers] up to the top layer in ${Date.now() - t0} ms`);
    await prefer({ quality: 'low' });
    await waitForWidth(viewer, HALF.width);

    // Hidden: nothing arrives; shown again: frames again.
    await prefer({ disabled: true });
    await sleep(300);
    expect(await framesOver(viewer, 1500)).toBe(0);
    await prefer({});
    await waitForWidth(viewer, FULL.width);

    // A session opened with a default camera preference gets the layer it names.
    const small = await h.join(callId, {
      name: 'small',
      session: { cameraPreference: { width: 320, height: 180 } },
    });
    await waitForWidth(small, HALF.width);

    // Camera off (its stream no longer named): nobody gets its video.
    await h.sfu.setCameraStream(sender.ref.sessionId, null);
    await sleep(300);
    expect(await framesOver(viewer, 1500)).toBe(0);
    for (const p of [viewer, sender, small]) expect(p.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
  });
});
