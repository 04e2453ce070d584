import { TrackSource } from '@livekit/protocol';

/** What a LiveKit token allows its participant (LiveKit's `video` grant, defaults applied). */
export interface LiveKitGrants {
  /** May publish tracks; unset in the token = true. */
  readonly canPublish: boolean;
  /** May subscribe to others' tracks; unset = true. */
  readonly canSubscribe: boolean;
  /** May send data packets; unset = true. */
  readonly canPublishData: boolean;
  /** The sources it may publish; empty = any (within `canPublish`). */
  readonly canPublishSources: readonly TrackSource[];
  /** May change its own name, metadata and attributes; unset = false. */
  readonly canUpdateOwnMetadata: boolean;
  /** Invisible to the other participants (recorders); unset = false. */
  readonly hidden: boolean;
}

/** The grants a token may ask for when it is minted (unset fields keep LiveKit's defaults). */
export interface LiveKitGrantsInput {
  readonly canPublish?: boolean;
  readonly canSubscribe?: boolean;
  readonly canPublishData?: boolean;
  /** Source names: `camera`, `microphone`, `screen_share`, `screen_share_audio`. */
  readonly canPublishSources?: readonly TrackSourceName[];
  readonly canUpdateOwnMetadata?: boolean;
  readonly hidden?: boolean;
}

/** A track source as tokens name it. */
export type TrackSourceName = 'camera' | 'microphone' | 'screen_share' | 'screen_share_audio';

const SOURCES: Readonly<Record<TrackSourceName, TrackSource>> = {
  camera: TrackSource.CAMERA,
  microphone: TrackSource.MICROPHONE,
  screen_share: TrackSource.SCREEN_SHARE,
  screen_share_audio: TrackSource.SCREEN_SHARE_AUDIO,
};

/** The protocol's value of a source name. */
export function trackSourceOf(name: TrackSourceName): TrackSource {
  return SOURCES[name];
}

/** The grants of a token's `video` claim (untrusted shape; unknown source names are dropped). */
export function grantsFromClaim(video: Record<string, unknown>): LiveKitGrants {
  const flag = (name: string, fallback: boolean): boolean =>
    typeof video[name] === 'boolean' ? video[name] : fallback;
  const sources = Array.isArray(video.canPublishSources) ? video.canPublishSources : [];
  return {
    canPublish: flag('canPublish', true),
    canSubscribe: flag('canSubscribe', true),
    canPublishData: flag('canPublishData', true),
    canPublishSources: sources
      .filter((s): s is TrackSourceName => typeof s === 'string' && s in SOURCES)
      .map((s) => SOURCES[s]),
    canUpdateOwnMetadata: flag('canUpdateOwnMetadata', false),
    hidden: flag('hidden', false),
  };
}

/** The `video` claim that gives these grants back (for a refreshed token). */
export function grantsToInput(grants: LiveKitGrants): LiveKitGrantsInput {
  const names = Object.entries(SOURCES)
    .filter(([, source]) => grants.canPublishSources.includes(source))
    .map(([name]) => name as TrackSourceName);
  return {
    canPublish: grants.canPublish,
    canSubscribe: grants.canSubscribe,
    canPublishData: grants.canPublishData,
    ...(names.length > 0 ? { canPublishSources: names } : {}),
    canUpdateOwnMetadata: grants.canUpdateOwnMetadata,
    hidden: grants.hidden,
  };
}

/** Whether the grants allow publishing a track of this source. */
export function mayPublish(grants: LiveKitGrants, source: TrackSource): boolean {
  if (!grants.canPublish) return false;
  return grants.canPublishSources.length === 0 || grants.canPublishSources.includes(source);
}

/**
 * The grants with these sources taken away (what the server's configuration refuses, e.g. the
 * camera when video is off): clients are shown the sources left, and refuse the others at once.
 */
export function withoutSources(
  grants: LiveKitGrants,
  refused: readonly TrackSource[],
): LiveKitGrants {
  if (refused.length === 0) return grants;
  const allowed =
    grants.canPublishSources.length > 0 ? grants.canPublishSources : Object.values(SOURCES);
  return { ...grants, canPublishSources: allowed.filter((s) => !refused.includes(s)) };
}
