import { announceSelf, displayNames, signIn, type HostAction } from './api';
import {
  localFeed,
  videoKey,
  type CallProtocol,
  type CallSession,
  type ConnectionState,
  type ConnectionTrouble,
  type Emoji,
  type VideoFeed,
} from './call-session';
import { DevicePickers } from './devices';
import { MattermostSession } from './mattermost-session';
import { MediaSinks } from './media-sinks';
import { paintQuality, participantRow } from './participants-view';
import { messageOf } from './problems';
import { PROTOCOLS, protocolOf, storedProtocol, storeProtocol } from './protocols';
import type { StatsEntry } from './quality';
import { VideoStage, type StageLayout, type TileSpec } from './video-stage';

const REACTIONS: readonly Emoji[] = [
  { name: '+1', unified: '1f44d', literal: '👍' },
  { name: 'heart', unified: '2764-fe0f', literal: '❤️' },
  { name: 'joy', unified: '1f602', literal: '😂' },
  { name: 'tada', unified: '1f389', literal: '🎉' },
  { name: 'clap', unified: '1f44f', literal: '👏' },
];
const CHANNEL = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const STATE_LABELS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  failed: 'Connection failed',
};
const TROUBLE_TEXT: Record<Exclude<ConnectionTrouble, null>, string> = {
  server:
    'Reconnecting to the server… You are still in the call; what you click waits until it is back.',
  media: 'The sound connection is interrupted. Reconnecting…',
  both: 'The connection is lost. Reconnecting…',
};
const COPIED_MS = 2000;

/** The address that opens this page on a channel. */
function callLink(channel: string): string {
  const url = new URL(location.pathname, location.origin);
  url.searchParams.set('channel', channel);
  return url.toString();
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page element #${id} is missing`);
  return node as T;
}

/** The calls page: a join form, then the call (controls, stage, participants). */
class CallsPage {
  session: CallSession | null = null;
  state: ConnectionState = 'idle';
  /** Every state the page showed, in order (for the browser tests). */
  readonly states: ConnectionState[] = [];
  private readonly names = new Map<string, string>();
  private readonly asked = new Set<string>();
  private readonly sinks: MediaSinks;
  private readonly stage: VideoStage;
  private readonly devices: DevicePickers;
  /** The camera button's action is under way (the browser may be asking for permission). */
  private cameraBusy = false;
  /** How the stage is laid out now (for the browser tests). */
  layout: StageLayout = 'empty';
  private readonly ui = {
    joinView: byId('join-view'),
    callView: byId('call-view'),
    form: byId<HTMLFormElement>('join-form'),
    name: byId<HTMLInputElement>('name-input'),
    channel: byId<HTMLInputElement>('channel-input'),
    joinButton: byId<HTMLButtonElement>('join-btn'),
    protocols: [...document.querySelectorAll<HTMLInputElement>('input[name="protocol"]')],
    protocolLabel: byId('protocol-label'),
    channelLabel: byId('channel-label'),
    connState: byId('conn-state'),
    rtt: byId('rtt'),
    errorBanner: byId('error-banner'),
    errorText: byId('error-text'),
    noticeBanner: byId('notice-banner'),
    noticeText: byId('notice-text'),
    mute: byId<HTMLButtonElement>('mute-btn'),
    hand: byId<HTMLButtonElement>('hand-btn'),
    camera: byId<HTMLButtonElement>('camera-btn'),
    screen: byId<HTMLButtonElement>('screen-btn'),
    leave: byId<HTMLButtonElement>('leave-btn'),
    reactions: byId('reactions'),
    hostBar: byId('host-bar'),
    muteOthers: byId<HTMLButtonElement>('mute-others-btn'),
    endCall: byId<HTMLButtonElement>('end-call-btn'),
    participants: byId<HTMLUListElement>('participants'),
    count: byId('participant-count'),
    media: byId('media'),
    videoGrid: byId('video-grid'),
    screenArea: byId('screen-area'),
    screenVideo: byId<HTMLVideoElement>('screen-video'),
    screenPlaceholder: byId('screen-placeholder'),
    screenCaption: byId('screen-caption'),
    audioSinks: byId('audio-sinks'),
    reconnectBanner: byId('reconnect-banner'),
    reconnectText: byId('reconnect-text'),
    micSelect: byId<HTMLSelectElement>('mic-select'),
    speakerSelect: byId<HTMLSelectElement>('speaker-select'),
    callLink: byId<HTMLInputElement>('call-link'),
    copyLink: byId<HTMLButtonElement>('copy-link-btn'),
  };

  constructor() {
    const ui = this.ui;
    this.sinks = new MediaSinks(
      ui.audioSinks,
      () => this.notice('The browser blocked sound: click anywhere on the page to hear the call.'),
      (m) => this.error(m),
    );
    this.stage = new VideoStage(ui.media, ui.screenVideo, ui.videoGrid, () =>
      this.notice('The browser blocked video: click anywhere on the page to see the call.'),
    );
    this.sinks.setSpeaker(DevicePickers.stored('audiooutput'));
    this.devices = new DevicePickers(ui.micSelect, ui.speakerSelect, (kind, deviceId) => {
      if (kind === 'audiooutput') this.sinks.setSpeaker(deviceId);
      else this.run((s) => s.useMicrophone(deviceId));
    });
    void this.devices.refresh();
    const params = new URLSearchParams(location.search);
    ui.name.value = params.get('name') ?? sessionStorage.getItem('calls.name') ?? '';
    ui.channel.value =
      params.get('channel') ?? sessionStorage.getItem('calls.channel') ?? ui.channel.value;
    const protocol = protocolOf(params.get('protocol')) ?? storedProtocol();
    for (const input of ui.protocols) {
      input.checked = input.value === protocol;
      input.addEventListener('change', () => {
        const chosen = protocolOf(input.value);
        if (input.checked && chosen) storeProtocol(chosen);
      });
    }

    ui.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.join();
    });
    byId('error-close').addEventListener('click', () => (ui.errorBanner.hidden = true));
    byId('notice-close').addEventListener('click', () => (ui.noticeBanner.hidden = true));
    ui.mute.addEventListener('click', () =>
      // The first unmute opens the microphone: from then on browsers name every device.
      this.run(async (s) => {
        await s.setMuted(!s.muted);
        await this.devices.refresh();
      }),
    );
    ui.copyLink.addEventListener('click', () => void this.copyLink());
    ui.hand.addEventListener('click', () => this.run((s) => s.setHand(!s.handRaised)));
    ui.camera.addEventListener('click', () => {
      if (this.cameraBusy) return;
      this.cameraBusy = true;
      this.render();
      this.run(async (s) => {
        try {
          await s.setCamera(!s.cameraOn);
        } finally {
          this.cameraBusy = false;
        }
      });
    });
    ui.screen.addEventListener('click', () =>
      this.run((s) => (s.sharingScreen ? s.stopScreen() : s.startScreen())),
    );
    ui.leave.addEventListener('click', () => this.run((s) => s.leave()));
    ui.muteOthers.addEventListener('click', () => this.run((s) => s.host('mute-others')));
    ui.endCall.addEventListener('click', () => this.run((s) => s.host('end')));
    for (const emoji of REACTIONS) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = emoji.literal;
      button.title = `React with :${emoji.name}:`;
      button.dataset.reaction = emoji.name;
      button.addEventListener('click', () => this.run((s) => s.react(emoji)));
      ui.reactions.append(button);
    }
    ui.participants.addEventListener('click', (ev) => this.onHostAction(ev));
    document.addEventListener('click', () => {
      this.sinks.resume();
      this.stage.resume();
    });
    window.addEventListener('pagehide', () => this.session?.abandon());
    setInterval(() => {
      if (this.session?.model.expireReactions()) this.render();
    }, 1000);
    this.render();
  }

  private async join(): Promise<void> {
    const ui = this.ui;
    const name = ui.name.value.trim();
    const channel = ui.channel.value.trim();
    if (!name) return this.error('Enter your name.');
    if (!CHANNEL.test(channel)) {
      return this.error('Channel names use lowercase letters, digits, - and _ (up to 64).');
    }
    const protocol = this.protocol;
    ui.errorBanner.hidden = true;
    ui.noticeBanner.hidden = true;
    ui.joinButton.disabled = true;
    try {
      const login = await signIn(name);
      sessionStorage.setItem('calls.name', name);
      sessionStorage.setItem('calls.channel', channel);
      this.names.set(login.user_id, name);
      announceSelf(login.token).catch((err: unknown) => console.warn('calls: profile', err));
      this.session = await PROTOCOLS[protocol].join(
        {
          token: login.token,
          userId: login.user_id,
          admin: login.admin,
          channel,
          microphoneId: ui.micSelect.value,
        },
        {
          state: (s, trouble) => this.setState(s, trouble),
          changed: () => this.render(),
          measured: () => this.paintQualities(),
          error: (m) => this.error(m),
          notice: (m) => this.notice(m),
          remoteTrack: (t) => {
            this.sinks.add(t);
            this.render();
          },
          remoteTrackGone: (t) => {
            this.sinks.remove(t);
            this.render();
          },
          roundTrip: (ms) => (this.ui.rtt.textContent = `RTT ${Math.round(ms)} ms`),
          ended: () => this.ended(),
        },
      );
      // The address bar now holds the call's link too.
      history.replaceState(null, '', callLink(channel));
      this.render();
    } catch (err) {
      this.error(`Could not join: ${messageOf(err)}`);
      this.session = null;
      this.render();
    } finally {
      ui.joinButton.disabled = false;
    }
  }

  /** The protocol chosen on the form. */
  private get protocol(): CallProtocol {
    const checked = this.ui.protocols.find((input) => input.checked);
    return protocolOf(checked?.value) ?? 'mattermost';
  }

  /** The speaker each remote voice plays on. */
  get speakers(): string[] {
    return this.sinks.speakers;
  }

  private ended(): void {
    this.session = null;
    this.cameraBusy = false;
    this.sinks.clear();
    this.stage.clear();
    this.ui.rtt.textContent = '';
    this.render();
  }

  /** Runs a button's action; a failure is shown to the person. */
  private run(action: (s: CallSession) => Promise<void>): void {
    const session = this.session;
    if (!session) return;
    action(session)
      .catch((err: unknown) => this.error(messageOf(err)))
      .finally(() => this.render());
  }

  private onHostAction(ev: MouseEvent): void {
    const target = ev.target instanceof Element ? ev.target.closest('button[data-action]') : null;
    if (!(target instanceof HTMLButtonElement)) return;
    const action = target.dataset.action as HostAction;
    const sessionId = target.dataset.session ?? '';
    const userId = target.dataset.user ?? '';
    this.run((s) =>
      s.host(action, action === 'make' ? { new_host_id: userId } : { session_id: sessionId }),
    );
  }

  private setState(state: ConnectionState, trouble: ConnectionTrouble): void {
    this.state = state;
    this.states.push(state);
    this.ui.connState.dataset.state = state;
    this.ui.connState.textContent = STATE_LABELS[state];
    this.ui.reconnectBanner.hidden = trouble === null;
    this.ui.reconnectBanner.dataset.trouble = trouble ?? '';
    if (trouble) this.ui.reconnectText.textContent = TROUBLE_TEXT[trouble];
  }

  /** Copies the call's link (or selects it where the clipboard is not available, e.g. plain http). */
  private async copyLink(): Promise<void> {
    const ui = this.ui;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(ui.callLink.value);
      ui.copyLink.textContent = 'Copied';
      setTimeout(() => (ui.copyLink.textContent = 'Copy link'), COPIED_MS);
    } catch {
      ui.callLink.focus();
      ui.callLink.select();
      this.notice('Copy the selected link (Ctrl+C or ⌘C) and send it to the others.');
    }
  }

  private error(message: string): void {
    this.ui.errorText.textContent = message;
    this.ui.errorBanner.hidden = false;
  }

  private notice(message: string): void {
    this.ui.noticeText.textContent = message;
    this.ui.noticeBanner.hidden = false;
  }

  private nameOf(userId: string): string {
    return this.names.get(userId) ?? `User ${userId.slice(-6)}`;
  }

  /** Asks the server for names not seen yet. */
  private lookUpNames(userIds: string[]): void {
    const session = this.session;
    const missing = userIds.filter((id) => !this.names.has(id) && !this.asked.has(id));
    if (!session || missing.length === 0) return;
    missing.forEach((id) => this.asked.add(id));
    displayNames(session.options.token, missing)
      .then((found) => {
        for (const [id, name] of Object.entries(found)) this.names.set(id, name);
        // Unknown ids may register later: ask again on a later change.
        missing.filter((id) => !found[id]).forEach((id) => this.asked.delete(id));
        this.render();
      })
      .catch((err: unknown) => console.warn('calls: names', err));
  }

  /** New quality figures: the rows' indicators are updated in place (no re-render). */
  private paintQualities(): void {
    const s = this.session;
    if (!s) return;
    for (const row of this.ui.participants.querySelectorAll<HTMLElement>('li[data-session]')) {
      const indicator = row.querySelector<HTMLElement>('.quality');
      const id = row.dataset.session ?? '';
      if (indicator) {
        paintQuality(indicator, id === s.sessionId ? s.ownQuality : (s.quality.get(id) ?? null));
      }
    }
  }

  private render(): void {
    const ui = this.ui;
    const s = this.session;
    ui.joinView.hidden = s !== null;
    ui.callView.hidden = s === null;
    ui.channelLabel.textContent = s ? `#${s.options.channel}` : '';
    ui.protocolLabel.textContent = s ? `via ${PROTOCOLS[s.protocol].label}` : '';
    ui.protocolLabel.dataset.protocol = s?.protocol ?? '';
    if (s && ui.callLink.value !== callLink(s.options.channel)) {
      ui.callLink.value = callLink(s.options.channel);
    }
    if (!s) {
      ui.participants.replaceChildren();
      ui.count.textContent = '';
      this.layout = this.stage.show(null, []);
      return;
    }
    const model = s.model;
    ui.mute.textContent = s.muted ? 'Unmute' : 'Mute';
    ui.mute.dataset.on = String(!s.muted);
    ui.hand.textContent = s.handRaised ? 'Lower hand' : 'Raise hand';
    ui.hand.dataset.on = String(s.handRaised);
    ui.camera.hidden = !s.videoEnabled && !s.cameraOn;
    ui.camera.disabled = this.cameraBusy;
    ui.camera.dataset.on = String(s.cameraOn);
    ui.camera.setAttribute('aria-pressed', String(s.cameraOn));
    ui.camera.title = s.cameraOn ? 'Turn your camera off' : 'Turn your camera on';
    ui.screen.textContent = s.sharingScreen ? 'Stop sharing' : 'Share screen';
    ui.screen.dataset.on = String(s.sharingScreen);
    ui.screen.disabled =
      !s.sharingScreen && model.screenSessionId !== '' && model.screenSessionId !== s.sessionId;
    ui.hostBar.hidden = !s.canHost;

    const participants = [...model.participants.values()];
    this.lookUpNames([...new Set(participants.map((p) => p.userId))]);
    ui.count.textContent = `(${participants.length})`;
    ui.participants.replaceChildren(
      ...participants.map((p) =>
        participantRow(p, {
          name: this.nameOf(p.userId),
          isSelf: p.sessionId === s.sessionId,
          isHost: p.userId === model.hostId,
          sharing: p.sessionId === model.screenSessionId,
          hostActions: s.canHost && p.sessionId !== s.sessionId,
          quality:
            p.sessionId === s.sessionId ? s.ownQuality : (s.quality.get(p.sessionId) ?? null),
        }),
      ),
    );

    this.layout = this.stage.show(this.screenFeed(s), this.tiles(s));
    const sharer = model.participants.get(model.screenSessionId);
    const showing = this.stage.showingScreen;
    ui.screenArea.hidden = this.layout === 'grid';
    ui.screenPlaceholder.hidden = showing || sharer !== undefined;
    if (s.sharingScreen) ui.screenCaption.textContent = 'You are sharing your screen';
    else if (sharer)
      ui.screenCaption.textContent = `${this.nameOf(sharer.userId)} is sharing their screen`;
    ui.screenCaption.hidden = !s.sharingScreen && !sharer;
    ui.screenArea.dataset.active = String(showing);
  }

  /** The screen share for the stage: this page's own, else the sharer's (else any received). */
  private screenFeed(s: CallSession): VideoFeed | null {
    const own = s.screenStream;
    if (s.sharingScreen && own) return localFeed(s.sessionId, 'screen', own);
    const screens = [...s.videos.values()].filter((f) => f.source === 'screen');
    return s.videos.get(videoKey(s.model.screenSessionId, 'screen')) ?? screens.at(-1) ?? null;
  }

  /** A tile for everyone whose camera is on (this page's own while it sends it), in call order. */
  private tiles(s: CallSession): TileSpec[] {
    const own = s.cameraStream;
    const tiles: TileSpec[] = [];
    for (const p of s.model.participants.values()) {
      const self = p.sessionId === s.sessionId;
      if (self ? !s.cameraOn : !p.video) continue;
      tiles.push({
        sessionId: p.sessionId,
        name: self ? `${this.nameOf(p.userId)} (you)` : this.nameOf(p.userId),
        self,
        speaking: p.speaking,
        feed: self
          ? own && localFeed(p.sessionId, 'camera', own)
          : (s.videos.get(videoKey(p.sessionId, 'camera')) ?? null),
      });
    }
    return tiles;
  }
}

const page = new CallsPage();

/** Read-only hooks for the browser tests (and curious people with a console). */
Object.defineProperty(window, '__calls', {
  value: {
    /** The Mattermost session's peer connection (null on LiveKit, which has two). */
    get pc(): RTCPeerConnection | null {
      const s = page.session;
      return s instanceof MattermostSession ? (s.peer?.pc ?? null) : null;
    },
    get protocol(): CallProtocol | '' {
      return page.session?.protocol ?? '';
    },
    get sessionId(): string {
      return page.session?.sessionId ?? '';
    },
    get state(): ConnectionState {
      return page.state;
    },
    get states(): ConnectionState[] {
      return [...page.states];
    },
    get microphone(): { deviceId: string; label: string } | null {
      return page.session?.microphone ?? null;
    },
    get speakers(): string[] {
      return page.speakers;
    },
    /** How the stage is laid out: `screen`, `grid` or `empty`. */
    get layout(): StageLayout {
      return page.layout;
    },
    /** Every statistic of the session's peer connections. */
    stats(): Promise<StatsEntry[]> {
      return page.session?.stats() ?? Promise.resolve([]);
    },
    /** Drops the socket as a network failure would (Mattermost's protocol only). */
    dropConnection(): void {
      if (page.session instanceof MattermostSession) page.session.dropConnection();
    },
    /** A raw Mattermost action (Mattermost's protocol only). */
    action(type: string, data?: unknown): Promise<Record<string, unknown>> {
      const s = page.session;
      if (!(s instanceof MattermostSession)) {
        return Promise.reject(new Error("not in a call over Mattermost's protocol"));
      }
      return s.rawAction(type, data);
    },
  },
});
