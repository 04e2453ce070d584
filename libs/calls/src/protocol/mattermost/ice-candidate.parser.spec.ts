import { InvalidMessageError } from '../../errors';
import { parseIceCandidate } from './ice-candidate.parser';

const LINE =
  'candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0';

describe('parseIceCandidate (the Mattermost forms of a candidate)', () => {
  it('parses the JSON string of a browser RTCIceCandidate (its fields win)', () => {
    const json = JSON.stringify({
      candidate: LINE,
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'abcd',
    });
    expect(parseIceCandidate({ candidate: json, sdpMid: 'ignored', sdpMLineIndex: 7 })).toEqual({
      candidate: LINE,
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'abcd',
    });
  });

  it('parses a raw candidate line with explicit sdpMid and index', () => {
    expect(parseIceCandidate({ candidate: LINE, sdpMid: 'audio', sdpMLineIndex: 1 })).toEqual({
      candidate: LINE,
      sdpMid: 'audio',
      sdpMLineIndex: 1,
      usernameFragment: null,
    });
  });

  it('accepts the snake_case fallbacks and an a= prefix', () => {
    const parsed = parseIceCandidate({
      candidate: `a=${LINE}`,
      sdp_mid: '1',
      sdp_mline_index: 2,
    } as never);
    expect(parsed).toMatchObject({ candidate: LINE, sdpMid: '1', sdpMLineIndex: 2 });
  });

  it.each([[''], ['   '], [JSON.stringify({ candidate: '' })]])(
    'ignores an empty candidate %j',
    (c) => {
      expect(parseIceCandidate({ candidate: c })).toBeNull();
    },
  );

  it.each([
    [{ candidate: 42 }],
    [{ candidate: '{not json' }],
    [{ candidate: 'hello world' }],
    [{ candidate: LINE, sdpMLineIndex: -1 }],
    [{ candidate: JSON.stringify({ candidate: LINE, sdpMid: { a: 1 } }) }],
    [{ candidate: `{"candidate":"${'x'.repeat(4096)}"}` }],
    [{ candidate: JSON.stringify([1, 2]) }],
    [{ candidate: 'null' }],
  ])('rejects %j with a named error', (input) => {
    expect(() => parseIceCandidate(input)).toThrow(InvalidMessageError);
  });
});
