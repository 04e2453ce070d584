import { TrackSource } from '@livekit/protocol';
import { type LiveKitGrants, mayPublish, withoutSources } from './livekit-grants';

const GRANTS: LiveKitGrants = {
  canPublish: true,
  canSubscribe: true,
  canPublishData: true,
  canPublishSources: [],
  canUpdateOwnMetadata: false,
  hidden: false,
};

describe('LiveKit grants less what the configuration refuses', () => {
  it('any source, less the camera: the other three, and the camera refused', () => {
    const grants = withoutSources(GRANTS, [TrackSource.CAMERA]);
    expect([...grants.canPublishSources].sort()).toEqual(
      [TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE, TrackSource.SCREEN_SHARE_AUDIO].sort(),
    );
    expect(mayPublish(grants, TrackSource.CAMERA)).toBe(false);
    expect(mayPublish(grants, TrackSource.MICROPHONE)).toBe(true);
  });

  it('named sources keep only those not refused; nothing refused changes nothing', () => {
    const named = { ...GRANTS, canPublishSources: [TrackSource.CAMERA, TrackSource.MICROPHONE] };
    expect(withoutSources(named, [TrackSource.CAMERA]).canPublishSources).toEqual([
      TrackSource.MICROPHONE,
    ]);
    expect(withoutSources(GRANTS, [])).toBe(GRANTS);
  });
});
