import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { types as ms } from 'mediasoup';
import type { SfuNetworkSettings } from '../workers/sfu-network';

/** Where the pipes between instances listen and the address other instances send to. */
export interface PipeNetworkSettings {
  /** The RTC listen IP. */
  readonly listenIp: string;
  /** Address (IP or host name) announced to other instances. */
  readonly address: string;
  /** Ports of the pipe sockets (the RTC port range). */
  readonly portRange: { readonly min: number; readonly max: number };
}

/**
 * The pipe settings: the explicit `pipeAddress`, else the ICE announced address, else the listen
 * IP; the pipes listen on the RTC listen IP and take ports from the RTC range.
 */
export function pipeNetworkSettings(
  pipeAddress: string,
  network: SfuNetworkSettings,
): PipeNetworkSettings {
  const explicit = pipeAddress.trim();
  return {
    listenIp: network.listenIp,
    address: explicit !== '' ? explicit : (network.announcedAddress ?? network.listenIp),
    portRange: network.portRange,
  };
}

/** Listen info of a pipe transport (UDP only; the address is announced over the bus instead). */
export function pipeListenInfo(settings: PipeNetworkSettings): ms.TransportListenInfo {
  return {
    protocol: 'udp',
    ip: settings.listenIp,
    portRange: settings.portRange,
    ...(isIP(settings.listenIp) === 6 ? { flags: { ipv6Only: true } } : {}),
  };
}

/** An announced pipe address as an IP (mediasoup connects to IPs only): host names are looked up. */
export async function resolvePipeAddress(address: string): Promise<string> {
  if (isIP(address)) return address;
  return (await lookup(address)).address;
}
