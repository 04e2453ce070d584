import { sfuNetworkSettings, transportListenInfos, webRtcServerListenInfos } from './sfu-network';

const base = {
  rtcListenIp: '0.0.0.0',
  iceHostOverride: '',
  rtcMinPort: 40000,
  rtcMaxPort: 49999,
  udpPort: 0,
  tcpPort: 0,
  rtcEnableTcp: true,
};
const interfaces = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '', mac: '', cidr: null }],
  eth0: [
    { address: '10.1.2.3', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null },
  ],
} as const;

describe('sfuNetworkSettings', () => {
  it('announces the first external IPv4 when listening on a wildcard address', () => {
    const n = sfuNetworkSettings(base, interfaces as never);
    expect(n.announcedAddress).toBe('10.1.2.3');
    expect(transportListenInfos(n)).toEqual([
      {
        protocol: 'udp',
        ip: '0.0.0.0',
        announcedAddress: '10.1.2.3',
        portRange: { min: 40000, max: 49999 },
      },
      {
        protocol: 'tcp',
        ip: '0.0.0.0',
        announcedAddress: '10.1.2.3',
        portRange: { min: 40000, max: 49999 },
      },
    ]);
  });

  it('announces a concrete listen IP itself, and an override always wins', () => {
    expect(
      sfuNetworkSettings({ ...base, rtcListenIp: '127.0.0.1' }, interfaces as never)
        .announcedAddress,
    ).toBeUndefined();
    expect(
      sfuNetworkSettings({ ...base, iceHostOverride: 'media.example.com' }).announcedAddress,
    ).toBe('media.example.com');
    expect(sfuNetworkSettings({ ...base }, { lo: interfaces.lo } as never).announcedAddress).toBe(
      '127.0.0.1',
    );
  });

  it('gives worker i of a single-port setup port + i, TCP on the UDP number unless set', () => {
    const n = sfuNetworkSettings({ ...base, rtcListenIp: '127.0.0.1', udpPort: 8443 });
    expect(webRtcServerListenInfos(n, 2)).toEqual([
      { protocol: 'udp', ip: '127.0.0.1', port: 8445 },
      { protocol: 'tcp', ip: '127.0.0.1', port: 8445 },
    ]);
    const noTcp = sfuNetworkSettings({
      ...base,
      rtcListenIp: '::',
      udpPort: 8443,
      tcpPort: 9443,
      rtcEnableTcp: false,
      iceHostOverride: '2001:db8::1',
    });
    expect(webRtcServerListenInfos(noTcp, 0)).toEqual([
      {
        protocol: 'udp',
        ip: '::',
        announcedAddress: '2001:db8::1',
        port: 8443,
        flags: { ipv6Only: true },
      },
    ]);
  });
});
