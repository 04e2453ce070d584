/**
 * The parts of `@roamhq/wrtc` (Chrome's libwebrtc M106 for Node) the test helpers use, typed
 * here because the package's own typings lean on the DOM library this project does not load.
 */

/** `RTCSessionDescriptionInit`. */
export interface WrtcDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

/** `RTCIceCandidateInit`. */
export interface WrtcCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** `MediaStreamTrack`. */
export interface WrtcTrack {
  readonly id: string;
  readonly kind: string;
  readonly readyState: string;
  enabled: boolean;
  stop(): void;
}

/** `MediaStream`. */
export interface WrtcStream {
  readonly id: string;
  getTracks(): WrtcTrack[];
}

/** `RTCRtpSender`. */
export interface WrtcSender {
  readonly track: WrtcTrack | null;
  replaceTrack(track: WrtcTrack | null): Promise<void>;
}

/** `RTCRtpTransceiver`. */
export interface WrtcTransceiver {
  readonly mid: string | null;
  direction: string;
  readonly currentDirection: string | null;
  readonly receiver: { readonly track: WrtcTrack };
  readonly sender: WrtcSender;
}

/** `RTCDataChannel`. */
export interface WrtcDataChannel {
  readonly label: string;
  readonly id: number | null;
  readonly readyState: string;
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(): void;
}

/** `RTCPeerConnection`. */
export interface WrtcPeerConnection {
  readonly localDescription: WrtcDescription | null;
  readonly remoteDescription: WrtcDescription | null;
  readonly signalingState: string;
  readonly iceConnectionState: string;
  readonly connectionState: string;
  onicecandidate: ((event: { candidate: WrtcCandidateInit | null }) => void) | null;
  onnegotiationneeded: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  ontrack: ((event: { track: WrtcTrack; transceiver: WrtcTransceiver }) => void) | null;
  createOffer(options?: { iceRestart?: boolean }): Promise<WrtcDescription>;
  createAnswer(): Promise<WrtcDescription>;
  setLocalDescription(description: WrtcDescription): Promise<void>;
  setRemoteDescription(description: WrtcDescription): Promise<void>;
  addIceCandidate(candidate: WrtcCandidateInit): Promise<void>;
  addTrack(track: WrtcTrack, ...streams: WrtcStream[]): WrtcSender;
  addTransceiver(
    trackOrKind: WrtcTrack | 'audio' | 'video',
    init?: {
      direction?: string;
      streams?: WrtcStream[];
      sendEncodings?: { rid?: string; maxBitrate?: number; scaleResolutionDownBy?: number }[];
    },
  ): WrtcTransceiver;
  removeTrack(sender: WrtcSender): void;
  getTransceivers(): WrtcTransceiver[];
  createDataChannel(
    label: string,
    init?: { ordered?: boolean; maxRetransmits?: number },
  ): WrtcDataChannel;
  /** The stats report (an `RTCStatsReport`: a map of stats objects by id). */
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  restartIce(): void;
  close(): void;
}

/** `nonstandard.RTCAudioSource`: 10 ms frames of PCM in, a track out. */
export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: {
    samples: Int16Array;
    sampleRate: number;
    bitsPerSample?: number;
    channelCount?: number;
    numberOfFrames?: number;
  }): void;
}

/** `nonstandard.RTCAudioSink`: decoded PCM of a remote track. */
export interface WrtcAudioSink {
  ondata:
    ((data: { samples: Int16Array; sampleRate: number; channelCount?: number }) => void) | null;
  stop(): void;
}

/** An I420 video frame. */
export interface WrtcVideoFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** `nonstandard.RTCVideoSource`. */
export interface WrtcVideoSource {
  createTrack(): WrtcTrack;
  onFrame(frame: WrtcVideoFrame): void;
}

/** `nonstandard.RTCVideoSink`: decoded frames of a remote track. */
export interface WrtcVideoSink {
  onframe: ((event: { frame: WrtcVideoFrame }) => void) | null;
  stop(): void;
}

/** The module. */
export interface WrtcModule {
  RTCPeerConnection: new (config: { iceServers: unknown[] }) => WrtcPeerConnection;
  MediaStream: new (tracks?: WrtcTrack[]) => WrtcStream;
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
    RTCVideoSource: new (init?: { isScreencast?: boolean }) => WrtcVideoSource;
    RTCVideoSink: new (track: WrtcTrack) => WrtcVideoSink;
  };
}
