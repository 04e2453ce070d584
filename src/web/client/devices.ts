/** What the person chose, remembered across visits. */
const STORED = { audioinput: 'calls.microphone', audiooutput: 'calls.speaker' } as const;

type AudioKind = keyof typeof STORED;

/** True when this browser can route a media element to a chosen speaker. */
export const canChooseSpeaker = (): boolean =>
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/**
 * The microphone and speaker pickers: filled from `navigator.mediaDevices.enumerateDevices()`, kept
 * up to date on `devicechange` (and after the first microphone permission, when browsers start
 * telling device names), and the choice remembered in localStorage.
 */
export class DevicePickers {
  constructor(
    private readonly microphone: HTMLSelectElement,
    private readonly speaker: HTMLSelectElement,
    private readonly chosen: (kind: AudioKind, deviceId: string) => void,
  ) {
    microphone.addEventListener('change', () => this.pick('audioinput', microphone.value));
    speaker.addEventListener('change', () => this.pick('audiooutput', speaker.value));
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.refresh());
    if (!canChooseSpeaker()) {
      speaker.disabled = true;
      speaker.title = 'This browser plays calls on its default speaker';
    }
  }

  /** The remembered choice ('' = the system default). */
  static stored(kind: AudioKind): string {
    try {
      return localStorage.getItem(STORED[kind]) ?? '';
    } catch {
      return '';
    }
  }

  /** Re-reads the device lists. */
  async refresh(): Promise<void> {
    let devices: MediaDeviceInfo[] = [];
    try {
      devices = (await navigator.mediaDevices?.enumerateDevices()) ?? [];
    } catch (err) {
      console.warn('calls: cannot list devices', err);
    }
    this.fill(this.microphone, devices, 'audioinput', 'Microphone');
    this.fill(this.speaker, devices, 'audiooutput', 'Speaker');
  }

  private pick(kind: AudioKind, deviceId: string): void {
    try {
      localStorage.setItem(STORED[kind], deviceId);
    } catch {
      // Private browsing: the choice lasts for this page only.
    }
    this.chosen(kind, deviceId);
  }

  private fill(
    select: HTMLSelectElement,
    devices: readonly MediaDeviceInfo[],
    kind: AudioKind,
    noun: string,
  ): void {
    const own = devices.filter((d) => d.kind === kind && d.deviceId !== '');
    const wanted = select.value || DevicePickers.stored(kind);
    const options = [new Option(`System default ${noun.toLowerCase()}`, '')];
    own
      .filter((d) => d.deviceId !== 'default')
      .forEach((d, i) => options.push(new Option(d.label || `${noun} ${i + 1}`, d.deviceId)));
    select.replaceChildren(...options);
    select.value = options.some((o) => o.value === wanted) ? wanted : '';
  }
}
