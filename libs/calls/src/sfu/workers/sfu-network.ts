import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { types as ms } from 'mediasoup';
import type { ResolvedCallsOptions } from '../../config/calls-options.interface';

/** Where the SFU's RTC sockets listen and what address their ICE candidates announce. */
export interface SfuNetworkSettings {
  readonly listenIp: string;
  /** Address in the candidates; `undefined` announces the listen IP itself. */
  readonly announcedAddress?: string;
  readonly portRange: { readonly min: number; readonly max: number };
  /** 0: per-session ports from the range; otherwise worker i's WebRtcServer listens on `udpPort + i`. */
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly enableTcp: boolean;
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/** The host's first non-internal IPv4 address, or `127.0.0.1`. */
export function firstExternalIpv4(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  for (const infos of Object.values(interfaces)) {
    const found = (infos ?? []).find((i) => i.family === 'IPv4' && !i.internal);
    if (found) return found.address;
  }
  return '127.0.0.1';
}

/**
 * The network settings from the module options: an explicit `iceHostOverride` wins; a concrete
 * listen IP announces itself; a wildcard listen IP announces the host's first external IPv4.
 */
export function sfuNetworkSettings(
  options: Pick<
    ResolvedCallsOptions,
    | 'rtcListenIp'
    | 'iceHostOverride'
    | 'rtcMinPort'
    | 'rtcMaxPort'
    | 'udpPort'
    | 'tcpPort'
    | 'rtcEnableTcp'
  >,
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>,
): SfuNetworkSettings {
  const listenIp = options.rtcListenIp;
  const override = options.iceHostOverride.trim();
  let announcedAddress: string | undefined;
  if (override !== '') announcedAddress = override;
  else if (isWildcard(listenIp)) announcedAddress = firstExternalIpv4(interfaces);
  return {
    listenIp,
    announcedAddress,
    portRange: { min: options.rtcMinPort, max: options.rtcMaxPort },
    udpPort: options.udpPort,
    tcpPort: options.tcpPort === 0 ? options.udpPort : options.tcpPort,
    enableTcp: options.rtcEnableTcp,
  };
}

function listenInfo(
  settings: SfuNetworkSettings,
  protocol: ms.TransportProtocol,
  port: Pick<ms.TransportListenInfo, 'port' | 'portRange'>,
): ms.TransportListenInfo {
  return {
    protocol,
    ip: settings.listenIp,
    ...(settings.announcedAddress ? { announcedAddress: settings.announcedAddress } : {}),
    ...port,
    ...(isIP(settings.listenIp) === 6 ? { flags: { ipv6Only: true } } : {}),
  };
}

/** Listen infos of worker `index`'s WebRtcServer (single-port mode), UDP first. */
export function webRtcServerListenInfos(
  settings: SfuNetworkSettings,
  index: number,
): ms.TransportListenInfo[] {
  const infos = [listenInfo(settings, 'udp', { port: settings.udpPort + index })];
  if (settings.enableTcp)
    infos.push(listenInfo(settings, 'tcp', { port: settings.tcpPort + index }));
  return infos;
}

/** Listen infos of a session transport in port-range mode, UDP first. */
export function transportListenInfos(settings: SfuNetworkSettings): ms.TransportListenInfo[] {
  const infos = [listenInfo(settings, 'udp', { portRange: settings.portRange })];
  if (settings.enableTcp)
    infos.push(listenInfo(settings, 'tcp', { portRange: settings.portRange }));
  return infos;
}
