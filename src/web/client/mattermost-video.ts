import type { VideoFeed } from './call-session';

/** How long a tile's size must hold before the server is told (a window being dragged). */
const SETTLE_MS = 400;

/** This server's `track_settings` extension of Mattermost's protocol: how to send someone's camera. */
export interface CameraSize {
  /** The sender's session. */
  session_id: string;
  type: 'video';
  width?: number;
  height?: number;
  /** The camera is not shown (its tile is hidden or empty): send none of it. */
  disabled?: boolean;
}

/**
 * A camera received over Mattermost's protocol: shown in an element, whose size (in device pixels)
 * is sent to the server with `track_settings` when it settles, so the server sends the smallest
 * layer that covers it (without it, the layer covering 640×360).
 */
export function mattermostCameraFeed(
  track: MediaStreamTrack,
  sessionId: string,
  ask: (settings: CameraSize) => void,
): VideoFeed {
  let observer: ResizeObserver | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = '';
  const tell = (el: HTMLVideoElement): void => {
    const scale = window.devicePixelRatio || 1;
    const width = Math.round(el.clientWidth * scale);
    const height = Math.round(el.clientHeight * scale);
    const settings: CameraSize =
      width > 0 && height > 0
        ? { session_id: sessionId, type: 'video', width, height }
        : { session_id: sessionId, type: 'video', disabled: true };
    const text = JSON.stringify(settings);
    if (text === asked) return;
    asked = text;
    ask(settings);
  };
  return {
    sessionId,
    source: 'camera',
    track,
    attach(el) {
      el.srcObject = new MediaStream([track]);
      observer?.disconnect();
      observer = new ResizeObserver(() => {
        clearTimeout(timer);
        timer = setTimeout(() => tell(el), SETTLE_MS);
      });
      observer.observe(el);
    },
    detach(el) {
      observer?.disconnect();
      observer = null;
      clearTimeout(timer);
      el.srcObject = null;
    },
  };
}
