import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { turnCredentials } from '../calls/turn-credentials';
import type { IceServerEntry } from '../protocol/livekit/join-response.builder';

/** The options the ICE servers come from. */
export type IceOptions = Pick<
  ResolvedCallsOptions,
  'stunServers' | 'turnServerUrls' | 'turnStaticAuthSecret' | 'turnCredentialsTtlMinutes'
>;

/** STUN servers as configured, TURN servers with the user's short-lived REST credentials. */
export function iceServersFor(options: IceOptions, userId: string): IceServerEntry[] {
  const servers: IceServerEntry[] = [];
  if (options.stunServers.length > 0) servers.push({ urls: options.stunServers });
  if (options.turnServerUrls.length > 0 && options.turnStaticAuthSecret) {
    const { urls, username, credential } = turnCredentials(
      options.turnServerUrls,
      options.turnStaticAuthSecret,
      userId,
      options.turnCredentialsTtlMinutes,
    );
    servers.push({ urls, username, credential });
  }
  return servers;
}
