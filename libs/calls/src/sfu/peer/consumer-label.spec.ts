import type { MediaTrack } from '../../media/media-plane.interface';
import { consumerLabelOf } from './consumer-label';

const TRACK: MediaTrack = {
  producerId: 'p1',
  callId: 'c1',
  sessionId: 's1',
  userId: 'u1',
  kind: 'audio',
  type: 'voice',
  clientTrackId: 'cid-1',
  streamId: 'stream-1',
  mid: '0',
  paused: false,
};

describe('consumerLabelOf', () => {
  it("gives the session's label for the track", () => {
    const refused = jest.fn();
    const label = consumerLabelOf(
      (t) => ({
        streamId: `PA_${t.sessionId}|TR_${t.clientTrackId}`,
        trackId: `TR_${t.clientTrackId}`,
      }),
      TRACK,
      refused,
    );
    expect(label).toEqual({ streamId: 'PA_s1|TR_cid-1', trackId: 'TR_cid-1' });
    expect(refused).not.toHaveBeenCalled();
  });

  it.each([
    ['an empty stream id', { streamId: '', trackId: 't' }],
    ['a space', { streamId: 's', trackId: 'a b' }],
    ['a line break', { streamId: 's\r\na=inject', trackId: 't' }],
    ['a very long id', { streamId: 'x'.repeat(257), trackId: 't' }],
  ])('refuses %s (the default naming is used)', (_what, bad) => {
    const refused = jest.fn();
    expect(consumerLabelOf(() => bad, TRACK, refused)).toBeUndefined();
    expect(refused).toHaveBeenCalledTimes(1);
  });

  it('refuses a labeller that throws', () => {
    const refused = jest.fn();
    const label = consumerLabelOf(
      () => {
        throw new Error('unknown track');
      },
      TRACK,
      refused,
    );
    expect(label).toBeUndefined();
    expect(refused).toHaveBeenCalledWith('it threw: unknown track');
  });
});
