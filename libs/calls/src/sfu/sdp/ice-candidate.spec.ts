import { InvalidMessageError } from '../../errors';
import { formatServerCandidate, parseClientIceCandidate } from './ice-candidate';

describe('ICE candidates in the SFU', () => {
  it('parses browser candidates into their fields, with mid, index and ufrag', () => {
    const c = parseClientIceCandidate({
      candidate:
        'candidate:3798461258 1 udp 2122260223 192.168.1.5 54321 typ host generation 0 ufrag AbCd network-id 1',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'AbCd',
    });
    expect(c).toMatchObject({
      protocol: 'udp',
      address: '192.168.1.5',
      port: 54321,
      type: 'host',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'AbCd',
    });
    expect(
      parseClientIceCandidate({
        candidate: 'a=candidate:1 1 TCP 1518280447 abc.local 9 typ host tcptype active',
      })?.protocol,
    ).toBe('tcp');
    expect(
      parseClientIceCandidate({
        candidate:
          'candidate:2 1 udp 1686052607 203.0.113.9 50000 typ srflx raddr 10.0.0.2 rport 50000',
      })?.type,
    ).toBe('srflx');
  });

  it('ignores the empty end-of-candidates marker', () => {
    expect(parseClientIceCandidate({ candidate: '' })).toBeNull();
  });

  it('refuses what the grammar refuses with InvalidMessageError', () => {
    expect(() =>
      parseClientIceCandidate({ candidate: 'candidate:1 1 udp 1 1.2.3.4 70000 typ host' }),
    ).toThrow(InvalidMessageError);
    expect(() =>
      parseClientIceCandidate({
        candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host',
        sdpMLineIndex: -1,
      }),
    ).toThrow('sdpMLineIndex');
  });

  it('formats mediasoup candidates as candidate lines', () => {
    expect(
      formatServerCandidate({
        foundation: 'tcpcandidate',
        priority: 1076276479,
        ip: '10.0.0.1',
        address: 'media.example.com',
        protocol: 'tcp',
        port: 8443,
        type: 'host',
        tcpType: 'passive',
      }),
    ).toBe(
      'candidate:tcpcandidate 1 tcp 1076276479 media.example.com 8443 typ host tcptype passive',
    );
  });
});
