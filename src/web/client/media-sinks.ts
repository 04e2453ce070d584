/**
 * Plays the voices the server sends: an `<audio autoplay>` per remote audio track, on the chosen
 * speaker. (Videos are the stage's: `video-stage.ts`.)
 */
export class MediaSinks {
  private readonly audio = new Map<MediaStreamTrack, HTMLAudioElement>();
  /** The chosen speaker ('' = the system default). */
  private speakerId = '';

  constructor(
    private readonly audioHost: HTMLElement,
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

  /** Plays a remote voice. */
  add(track: MediaStreamTrack): void {
    if (track.kind !== 'audio' || this.audio.has(track)) return;
    const el = document.createElement('audio');
    el.autoplay = true;
    el.srcObject = new MediaStream([track]);
    this.audioHost.append(el);
    this.audio.set(track, el);
    this.route(el);
    this.play(el);
  }

  remove(track: MediaStreamTrack): void {
    const el = this.audio.get(track);
    if (el) {
      el.srcObject = null;
      el.remove();
      this.audio.delete(track);
    }
  }

  /** Retries playback after the browser blocked autoplay (call on a user gesture). */
  resume(): void {
    for (const el of this.audio.values()) if (el.paused) this.play(el);
  }

  clear(): void {
    for (const track of [...this.audio.keys()]) this.remove(track);
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
