import { pipeListenInfo, pipeNetworkSettings, resolvePipeAddress } from './pipe-network';

const network = {
  listenIp: '0.0.0.0',
  announcedAddress: '10.1.2.3',
  portRange: { min: 40000, max: 49999 },
  udpPort: 8443,
  tcpPort: 8443,
  enableTcp: true,
};

describe('pipeNetworkSettings', () => {
  it('announces the explicit pipe address, trimmed', () => {
    expect(pipeNetworkSettings(' calls-1 ', network).address).toBe('calls-1');
  });

  it('defaults to the ICE announced address, else the listen IP', () => {
    expect(pipeNetworkSettings('', network).address).toBe('10.1.2.3');
    expect(
      pipeNetworkSettings('', { ...network, listenIp: '127.0.0.1', announcedAddress: undefined })
        .address,
    ).toBe('127.0.0.1');
  });

  it('listens on the RTC listen IP with the RTC port range, UDP only, also in single-port mode', () => {
    expect(pipeListenInfo(pipeNetworkSettings('', network))).toEqual({
      protocol: 'udp',
      ip: '0.0.0.0',
      portRange: { min: 40000, max: 49999 },
    });
    expect(pipeListenInfo(pipeNetworkSettings('', { ...network, listenIp: '::1' }))).toEqual({
      protocol: 'udp',
      ip: '::1',
      portRange: { min: 40000, max: 49999 },
      flags: { ipv6Only: true },
    });
  });
});

describe('resolvePipeAddress', () => {
  it('keeps IP addresses and looks host names up', async () => {
    await expect(resolvePipeAddress('10.9.8.7')).resolves.toBe('10.9.8.7');
    await expect(resolvePipeAddress('localhost')).resolves.toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
