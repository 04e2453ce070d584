import { InvalidMessageError } from '../errors';
import { MAX_ICE_CANDIDATE_LENGTH, validateIceCandidate } from './ice-candidate.grammar';

const SRFLX =
  'candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0';

describe('validateIceCandidate (the one ICE candidate grammar)', () => {
  it('parses a browser candidate with its mid, index and ufrag', () => {
    const c = validateIceCandidate({
      candidate:
        'candidate:3798461258 1 udp 2122260223 192.168.1.5 54321 typ host generation 0 ufrag AbCd network-id 1',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'AbCd',
    });
    expect(c).toMatchObject({
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'AbCd',
      line: {
        foundation: '3798461258',
        component: 1,
        protocol: 'udp',
        priority: 2122260223,
        address: '192.168.1.5',
        port: 54321,
        type: 'host',
      },
    });
  });

  it.each([
    ['srflx with raddr/rport', SRFLX, 'srflx'],
    ['tcp', 'candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active', 'host'],
    [
      'mDNS host',
      'candidate:2 1 UDP 2122252543 4b1b0c4e-1a2b-4c3d-8e9f-0123456789ab.local 56789 typ host',
      'host',
    ],
    [
      'IPv6 relay',
      'candidate:3 1 udp 41885439 2001:db8::1 3478 typ relay raddr :: rport 0',
      'relay',
    ],
  ])('accepts a %s candidate', (_what, candidate, type) => {
    expect(validateIceCandidate({ candidate })).toMatchObject({ candidate, line: { type } });
  });

  it('normalises the line: white space and an a= prefix go, the protocol is lower case', () => {
    const c = validateIceCandidate({
      candidate: ' a=candidate:1 1 TCP 1518280447 abc.local 9 typ host tcptype active\r\n',
    });
    expect(c?.candidate).toBe('candidate:1 1 TCP 1518280447 abc.local 9 typ host tcptype active');
    expect(c?.line.protocol).toBe('tcp');
    expect(c).toMatchObject({ sdpMid: null, sdpMLineIndex: null, usernameFragment: null });
  });

  it.each([[''], ['   '], ['a='], ['\r\n']])(
    'gives null for the end-of-candidates marker %j',
    (candidate) => {
      expect(validateIceCandidate({ candidate, sdpMid: { not: 'looked at' } })).toBeNull();
    },
  );

  it.each([
    ['not a string', { candidate: 42 }, 'invalid candidate: must be a string'],
    ['garbage', { candidate: 'hello world' }, 'is not an ICE candidate line'],
    ['a short line', { candidate: 'candidate:garbage' }, 'is not an ICE candidate line'],
    ['sctp', { candidate: 'candidate:1 1 sctp 1 1.2.3.4 5 typ host' }, 'not an ICE'],
    ['an unknown type', { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ bogus' }, 'not an ICE'],
    ['a mixed-case protocol', { candidate: 'candidate:1 1 Udp 1 1.2.3.4 5 typ host' }, 'not an'],
    ['a double a= prefix', { candidate: `a=a=${SRFLX}` }, 'is not an ICE candidate line'],
    ['an odd extension', { candidate: `${SRFLX} dangling` }, 'is not an ICE candidate line'],
    ['a port over 65535', { candidate: 'candidate:1 1 udp 1 1.2.3.4 70000 typ host' }, 'range'],
    ['component 0', { candidate: 'candidate:1 0 udp 1 1.2.3.4 5 typ host' }, 'out of range'],
    [
      'a priority over 2^32',
      { candidate: 'candidate:1 1 udp 9999999999 1.2.3.4 5 typ host' },
      'range',
    ],
    [
      'a line over the limit',
      { candidate: `${SRFLX} x ${'y'.repeat(MAX_ICE_CANDIDATE_LENGTH)}` },
      'invalid candidate: is too long',
    ],
    ['sdpMLineIndex -1', { candidate: SRFLX, sdpMLineIndex: -1 }, 'invalid sdpMLineIndex'],
    ['sdpMLineIndex 1.5', { candidate: SRFLX, sdpMLineIndex: 1.5 }, 'invalid sdpMLineIndex'],
    ['sdpMLineIndex 65536', { candidate: SRFLX, sdpMLineIndex: 65536 }, 'invalid sdpMLineIndex'],
    ["sdpMLineIndex '0'", { candidate: SRFLX, sdpMLineIndex: '0' }, 'invalid sdpMLineIndex'],
    ['an object sdpMid', { candidate: SRFLX, sdpMid: { a: 1 } }, 'invalid sdpMid'],
    ['a long sdpMid', { candidate: SRFLX, sdpMid: 'm'.repeat(65) }, 'invalid sdpMid'],
    [
      'a long usernameFragment',
      { candidate: SRFLX, usernameFragment: 'u'.repeat(65) },
      'invalid usernameFragment: must be a short string',
    ],
  ])('refuses %s with InvalidMessageError', (_what, input, message) => {
    expect(() => validateIceCandidate(input)).toThrow(InvalidMessageError);
    expect(() => validateIceCandidate(input)).toThrow(message);
  });
});
