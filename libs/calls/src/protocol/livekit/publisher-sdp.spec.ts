import { msidsOf, restream } from './publisher-sdp';

const SDP = [
  'v=0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=msid:{stream-a} {track-a}',
  'a=ssrc:11 msid:{stream-a} {track-a}',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=msid:{stream-v} {track-v}',
  'a=ssrc:22 msid:{stream-v} {track-v}',
  '',
].join('\r\n');

describe("a LiveKit client's publisher SDP", () => {
  it('lists the msid of every section', () => {
    expect(msidsOf(SDP)).toEqual([
      { streamId: '{stream-a}', trackId: '{track-a}' },
      { streamId: '{stream-v}', trackId: '{track-v}' },
    ]);
  });

  it('moves one track into another stream (its msid and ssrc lines), leaving the rest', () => {
    const out = restream(SDP, '{track-a}', '{stream-v}');
    expect(msidsOf(out)).toEqual([
      { streamId: '{stream-v}', trackId: '{track-a}' },
      { streamId: '{stream-v}', trackId: '{track-v}' },
    ]);
    expect(out).toContain('a=ssrc:11 msid:{stream-v} {track-a}\r\n');
    expect(out).toContain('a=ssrc:22 msid:{stream-v} {track-v}\r\n');
    expect(out.split('\r\n')).toHaveLength(SDP.split('\r\n').length);
    expect(restream(SDP, '{nope}', 'x')).toBe(SDP);
  });
});
