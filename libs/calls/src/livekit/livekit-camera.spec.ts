import { TrackSource, TrackType } from '@livekit/protocol';
import type {
  ActingSession,
  ParticipantActionsService,
} from '../calls/participant-actions.service';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import type { SignalMessage } from '../protocol/livekit/livekit-codec';
import type { TrackView } from '../protocol/livekit/participant-view';
import { LiveKitCameras } from './livekit-camera';
import type { LiveKitConnection } from './livekit-connection';

const camera = (cid: string, muted = false): TrackView => ({
  sid: `TR_${cid}`,
  cid,
  type: TrackType.VIDEO,
  source: TrackSource.CAMERA,
  name: '',
  muted,
  width: 0,
  height: 0,
  stream: '',
});

/** A publisher offer whose section sends `cid` in MediaStream `stream`. */
const offer = (cid: string, stream: string) =>
  `v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=msid:${stream} ${cid}\r\n`;

describe('LiveKitCameras (a LiveKit camera is the core video)', () => {
  let calls: [boolean, string | undefined][];
  let refuse: boolean;
  let sent: SignalMessage[];
  let connection: LiveKitConnection;
  let cameras: LiveKitCameras;
  const pending = new Map<string, TrackView>();

  beforeEach(() => {
    calls = [];
    refuse = false;
    sent = [];
    pending.clear();
    const actions = {
      setVideo: (_s: ActingSession, on: boolean, streamId?: string) => {
        if (on && refuse) return Promise.reject(new VideoUnavailableError('the call is full'));
        calls.push([on, streamId]);
        return Promise.resolve();
      },
    } as unknown as ParticipantActionsService;
    cameras = new LiveKitCameras(actions);
    connection = {
      session: { sessionId: 's1', callId: 'c1', channelId: 'ch1' },
      client: { userId: 'u1' },
      view: { pending, self: { tracks: [] } },
      send: (...messages: SignalMessage[]) => sent.push(...messages),
    } as unknown as LiveKitConnection;
  });

  it('announced: on; its offer names its stream; muted: off; unpublished: off', async () => {
    const track = camera('cam-1');
    pending.set(track.sid, track);
    expect(await cameras.announced(connection, track)).toBeNull();
    await cameras.beforeOffer(connection, offer('cam-1', 'stream-1'));
    await cameras.beforeOffer(connection, offer('cam-1', 'stream-1')); // nothing new
    expect(await cameras.muted(connection, track, true)).toBe(true);
    expect(await cameras.muted(connection, track, false)).toBe(true);
    await cameras.unpublished(connection, 'TR_other');
    await cameras.unpublished(connection, track.sid);
    expect(calls).toEqual([
      [true, undefined],
      [true, 'stream-1'],
      [false, 'stream-1'],
      [true, 'stream-1'],
      [false, undefined],
    ]);
  });

  it('refused by the core: the announcement says why, an unmute is muted back', async () => {
    refuse = true;
    expect(await cameras.announced(connection, camera('cam-1'))).toBe('the call is full');
    refuse = false;
    const track = camera('cam-2');
    expect(await cameras.announced(connection, track)).toBeNull();
    expect(await cameras.muted(connection, track, true)).toBe(true);
    refuse = true;
    expect(await cameras.muted(connection, track, false)).toBe(false);
    expect(sent).toEqual([
      { case: 'mute', value: expect.objectContaining({ sid: track.sid, muted: true }) },
    ]);
  });

  it('one camera per participant', async () => {
    expect(await cameras.announced(connection, camera('cam-1'))).toBeNull();
    expect(await cameras.announced(connection, camera('cam-2'))).toBe('one camera per participant');
  });
});
