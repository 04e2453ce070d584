/** The `a=msid` of one m-section: its MediaStream id and MediaStreamTrack id. */
export interface SectionMsid {
  readonly streamId: string;
  readonly trackId: string;
}

const MSID_LINE = /^a=msid:(\S+) (\S+)\s*$/gm;

/** The `a=msid` stream and track ids of a client's SDP, in section order. */
export function msidsOf(sdp: string): SectionMsid[] {
  return [...sdp.matchAll(MSID_LINE)].map((m) => ({ streamId: m[1], trackId: m[2] }));
}

/**
 * The SDP with track `trackId` moved into the MediaStream `streamId`: its `a=msid` line and the
 * `msid` of its `a=ssrc` lines. (livekit-client gives each track a MediaStream of its own; the
 * media port tells a screen share's tracks by their common stream.)
 */
export function restream(sdp: string, trackId: string, streamId: string): string {
  const track = escape(trackId);
  return sdp
    .replace(
      new RegExp(`^a=msid:\\S+ ${track}(\\s*)$`, 'gm'),
      (_m, end: string) => `a=msid:${streamId} ${trackId}${end}`,
    )
    .replace(
      new RegExp(`^(a=ssrc:\\d+ msid:)\\S+ ${track}(\\s*)$`, 'gm'),
      (_m, start: string, end: string) => `${start}${streamId} ${trackId}${end}`,
    );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
