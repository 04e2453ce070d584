/**
 * Plays what the server sends: an `<audio autoplay>` per remote audio track, and the newest remote
 * video track (the shared screen) in the stage's `<video>`.
 */
export class MediaSinks {
  private readonly audio = new Map<MediaStreamTrack, HTMLAudioElement>();
  private readonly videos: MediaStreamTrack[] = [];
  private local: MediaStream | null = null;
  /** The chosen speaker ('' = the system default). */
  private speakerId = '';

  constructor(
    private readonly audioHost: HTMLElement,
    private readonly video: HTMLVideoElement,
    private readonly blocked: () => void,
    private readonly problem: (message: string) => void,
  ) {}

  /** Plays every voice (now and later) on this speaker ('' = the system default). */
  setSpeaker(deviceId: string): void {
    this.speakerId = deviceId;
    for (const el of this.audio.values()) this.route(el);
  }

  /** The speaker each voice plays on (`sinkId`; '' = the system default). */
  get speakers(): string[] {
    return [...this.audio.values()].map((el) => el.sinkId ?? '');
  }

  add(track: MediaStreamTrack): void {
    if (track.kind === 'audio') {
      if (this.audio.has(track)) return;
      const el = document.createElement('audio');
      el.autoplay = true;
      el.srcObject = new MediaStream([track]);
      this.audioHost.append(el);
      this.audio.set(track, el);
      this.route(el);
      this.play(el);
      return;
    }
    if (!this.videos.includes(track)) this.videos.push(track);
    this.showVideo();
  }

  remove(track: MediaStreamTrack): void {
    const el = this.audio.get(track);
    if (el) {
      el.srcObject = null;
      el.remove();
      this.audio.delete(track);
    }
    const i = this.videos.indexOf(track);
    if (i >= 0) {
      this.videos.splice(i, 1);
      this.showVideo();
    }
  }

  /** Shows this page's own screen capture instead of remote video (null: back to remote). */
  setLocalPreview(stream: MediaStream | null): void {
    if (this.local === stream) return;
    this.local = stream;
    this.showVideo();
  }

  /** True when the stage shows a video (remote screen or own preview). */
  get showingVideo(): boolean {
    return this.local !== null || this.videos.length > 0;
  }

  /** Retries playback after the browser blocked autoplay (call on a user gesture). */
  resume(): void {
    for (const el of this.audio.values()) if (el.paused) this.play(el);
    if (this.video.paused && this.video.srcObject) this.play(this.video);
  }

  clear(): void {
    for (const track of [...this.audio.keys()]) this.remove(track);
    this.videos.splice(0);
    this.local = null;
    this.showVideo();
  }

  private showVideo(): void {
    const remote = this.videos[this.videos.length - 1];
    const stream = this.local ?? (remote ? new MediaStream([remote]) : null);
    this.video.srcObject = stream;
    this.video.hidden = stream === null;
    if (stream) this.play(this.video);
  }

  private route(el: HTMLAudioElement): void {
    if (typeof el.setSinkId !== 'function' || el.sinkId === this.speakerId) return;
    el.setSinkId(this.speakerId).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      this.problem(`The chosen speaker cannot be used (${reason}); playing on the default one.`);
    });
  }

  private play(el: HTMLMediaElement): void {
    el.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') this.blocked();
    });
  }
}
