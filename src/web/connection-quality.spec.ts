import {
  grade,
  ownQuality,
  remoteQualities,
  streamsByMid,
  type Counters,
  type StatsEntry,
} from './client/quality';

const SERVER_DESCRIPTION = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=recvonly',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:s1',
  'a=msid:voice_sess-b voice_sess-b_1a2b3c4d',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:s2',
  'a=ssrc:1234 msid:screen_sess_c screen_sess_c_99',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:1',
  '',
].join('\r\n');

const inbound = (id: string, mid: string, received: number, lost: number): StatsEntry => ({
  id,
  type: 'inbound-rtp',
  kind: 'audio',
  mid,
  packetsReceived: received,
  packetsLost: lost,
  jitter: 0.012,
});

describe('connection quality (calls page)', () => {
  it('grades by the worst figure; nothing measured is unknown', () => {
    expect(grade(0, 5, 20)).toBe('good');
    expect(grade(3, 5, 20)).toBe('fair');
    expect(grade(0, 75, null)).toBe('poor');
    expect(grade(null, null, 600)).toBe('poor');
    expect(grade(null, null, null)).toBe('unknown');
  });

  it("maps the server's streams to sessions by mid", () => {
    const streams = streamsByMid(SERVER_DESCRIPTION);
    expect([...streams]).toEqual([
      ['s1', { type: 'voice', sessionId: 'sess-b' }],
      ['s2', { type: 'screen', sessionId: 'sess_c' }],
    ]);
  });

  it("measures a remote voice's loss over the interval, and nothing while it is paused", () => {
    const streams = streamsByMid(SERVER_DESCRIPTION);
    const counters = new Map<string, Counters>();
    const first = remoteQualities([inbound('in1', 's1', 100, 0)], streams, new Map(), counters);
    expect(first.get('sess-b')).toEqual({
      level: 'good',
      lossPct: 0,
      jitterMs: 12,
      rttMs: null,
      packets: 100,
    });
    const lossy = remoteQualities([inbound('in1', 's1', 190, 10)], streams, new Map(), counters);
    expect(lossy.get('sess-b')).toMatchObject({ level: 'poor', lossPct: 10, packets: 190 });
    const paused = remoteQualities([inbound('in1', 's1', 190, 10)], streams, new Map(), counters);
    expect(paused.get('sess-b')).toMatchObject({ level: 'unknown', lossPct: null, jitterMs: null });
  });

  it('finds the mid through the receiving track when the stats have none', () => {
    const entry: StatsEntry = { ...inbound('in1', 's1', 50, 0), trackIdentifier: 'track-x' };
    delete entry.mid;
    const quality = remoteQualities(
      [entry],
      streamsByMid(SERVER_DESCRIPTION),
      new Map([['track-x', 's1']]),
      new Map(),
    );
    expect(quality.get('sess-b')?.level).toBe('good');
  });

  it("grades this page from the server's receiver report and the path's round trip", () => {
    const entries: StatsEntry[] = [
      { id: 'out1', type: 'outbound-rtp', kind: 'audio', packetsSent: 500 },
      {
        id: 'rin1',
        type: 'remote-inbound-rtp',
        kind: 'audio',
        localId: 'out1',
        fractionLost: 0.04,
        jitter: 0.004,
      },
      { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
      { id: 'CP1', type: 'candidate-pair', currentRoundTripTime: 0.031 },
    ];
    expect(ownQuality(entries, new Map())).toEqual({
      level: 'fair',
      lossPct: 4,
      jitterMs: 4,
      rttMs: 31,
      packets: 500,
    });
    // Muted (no voice sent): only the round trip.
    const muted = ownQuality(entries.slice(2), new Map());
    expect(muted).toMatchObject({ level: 'good', lossPct: null, rttMs: 31, packets: null });
  });
});
