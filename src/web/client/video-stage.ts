import type { VideoFeed } from './call-session';

/** One camera tile as the page wants it. */
export interface TileSpec {
  sessionId: string;
  /** The display name shown on the tile. */
  name: string;
  /** This page's own camera (a mirrored preview). */
  self: boolean;
  /** The participant is speaking: the tile is highlighted. */
  speaking: boolean;
  /** The video, or null while it has not arrived yet (the tile shows the name only). */
  feed: VideoFeed | null;
}

/** How the stage is laid out: a screen share large, camera tiles only, or nothing to show. */
export type StageLayout = 'screen' | 'grid' | 'empty';

interface Tile {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly caption: HTMLElement;
  readonly label: HTMLElement;
  feed: VideoFeed | null;
}

/**
 * Shows `to` in `el` instead of `from` (nothing is done when it is the same track).
 * @returns true when it changed
 */
function swap(el: HTMLVideoElement, from: VideoFeed | null, to: VideoFeed | null): boolean {
  if (from?.track === to?.track) return false;
  from?.detach(el);
  to?.attach(el);
  return true;
}

/**
 * The call's videos: the screen share on the stage's large `<video>`, and a tile per camera (each
 * with the person's name, highlighted while they speak) in a grid, or in a strip under the screen
 * share when there is one. Elements are kept across renders (a video is attached once).
 * `data-layout` on the container (`screen`, `grid`, `empty`) drives the CSS.
 */
export class VideoStage {
  private readonly tiles = new Map<string, Tile>();
  private screen: VideoFeed | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly screenVideo: HTMLVideoElement,
    private readonly grid: HTMLElement,
    /** The browser refused to play (autoplay policy): the page asks for a click. */
    private readonly blocked: () => void,
  ) {}

  /** True when the stage shows a screen share. */
  get showingScreen(): boolean {
    return this.screen !== null;
  }

  /** Shows this screen share (null: none) and these camera tiles, in this order. */
  show(screen: VideoFeed | null, tiles: readonly TileSpec[]): StageLayout {
    const changed = swap(this.screenVideo, this.screen, screen);
    this.screen = screen;
    this.screenVideo.hidden = screen === null;
    if (changed && screen) this.play(this.screenVideo);

    const wanted = new Set(tiles.map((t) => t.sessionId));
    for (const [sessionId, tile] of this.tiles) {
      if (wanted.has(sessionId)) continue;
      tile.feed?.detach(tile.video);
      tile.root.remove();
      this.tiles.delete(sessionId);
    }
    const order = tiles.map((spec) => this.update(spec));
    const shown = [...this.grid.children];
    if (order.some((tile, i) => shown[i] !== tile.root)) {
      // Moving a playing element pauses it: only when the order changed, then play again.
      this.grid.replaceChildren(...order.map((t) => t.root));
      order.forEach((t) => t.feed && this.play(t.video));
    }

    const layout: StageLayout = screen ? 'screen' : tiles.length > 0 ? 'grid' : 'empty';
    this.container.dataset.layout = layout;
    this.grid.hidden = tiles.length === 0;
    this.grid.dataset.count = String(tiles.length);
    return layout;
  }

  /** Retries playback after the browser blocked autoplay (call on a user gesture). */
  resume(): void {
    for (const video of [this.screenVideo, ...[...this.tiles.values()].map((t) => t.video)]) {
      if (video.paused && video.srcObject) this.play(video);
    }
  }

  /** Back to nothing shown (the call is over). */
  clear(): void {
    this.show(null, []);
  }

  private update(spec: TileSpec): Tile {
    let tile = this.tiles.get(spec.sessionId);
    if (!tile) {
      tile = makeTile(spec.sessionId);
      this.tiles.set(spec.sessionId, tile);
    }
    const { root, video } = tile;
    root.dataset.self = String(spec.self);
    root.dataset.speaking = String(spec.speaking);
    root.dataset.video = String(spec.feed !== null);
    root.setAttribute('aria-label', spec.self ? 'Your camera' : `${spec.name}'s camera`);
    if (tile.caption.textContent !== spec.name) tile.caption.textContent = spec.name;
    tile.label.hidden = !spec.speaking;
    if (swap(video, tile.feed, spec.feed) && spec.feed) this.play(video);
    tile.feed = spec.feed;
    video.hidden = spec.feed === null;
    return tile;
  }

  private play(el: HTMLVideoElement): void {
    el.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') this.blocked();
    });
  }
}

/** A tile: `<figure data-session>` with its `<video>` and the name as its caption. */
function makeTile(sessionId: string): Tile {
  const root = document.createElement('figure');
  root.className = 'tile';
  root.dataset.session = sessionId;
  root.setAttribute('role', 'listitem');
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true;
  const caption = document.createElement('figcaption');
  const name = document.createElement('span');
  name.className = 'tile-name';
  const label = document.createElement('span');
  label.className = 'tile-speaking';
  label.textContent = 'speaking';
  label.hidden = true;
  caption.append(name, label);
  root.append(video, caption);
  return { root, video, caption: name, label, feed: null };
}
