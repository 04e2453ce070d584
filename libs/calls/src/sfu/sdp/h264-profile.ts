/** H.264 profiles that matter when matching codecs (RFC 6184 profile-level-id, as libwebrtc reads it). */
export type H264Profile =
  | 'constrained-baseline'
  | 'baseline'
  | 'main'
  | 'constrained-high'
  | 'high'
  | 'predictive-high-444';

/** [profile_idc, profile_iop bit pattern (x = any), profile] in libwebrtc's order of precedence. */
const PATTERNS: readonly [number, string, H264Profile][] = [
  [0x42, 'x1xx0000', 'constrained-baseline'],
  [0x4d, '1xxx0000', 'constrained-baseline'],
  [0x58, '11xx0000', 'constrained-baseline'],
  [0x42, 'x0xx0000', 'baseline'],
  [0x58, '10xx0000', 'baseline'],
  [0x4d, '0x0x0000', 'main'],
  [0x64, '00000000', 'high'],
  [0x64, '00001100', 'constrained-high'],
  [0xf4, '00000000', 'predictive-high-444'],
];

/** Level 3.1 Constrained Baseline, the default when `profile-level-id` is absent. */
const DEFAULT_PROFILE_LEVEL_ID = '42e01f';

function matchesPattern(iop: number, pattern: string): boolean {
  for (let bit = 0; bit < 8; bit++) {
    const want = pattern[bit];
    const have = (iop >> (7 - bit)) & 1;
    if (want !== 'x' && Number(want) !== have) return false;
  }
  return true;
}

/**
 * The profile of an H.264 `profile-level-id` (six hex digits), or `null` when it is malformed or
 * of a profile WebRTC does not use.
 */
export function h264Profile(profileLevelId: string | number | undefined): H264Profile | null {
  const value = String(profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID);
  if (!/^[0-9a-fA-F]{6}$/.test(value)) return null;
  const idc = parseInt(value.slice(0, 2), 16);
  const iop = parseInt(value.slice(2, 4), 16);
  for (const [patternIdc, pattern, profile] of PATTERNS) {
    if (patternIdc === idc && matchesPattern(iop, pattern)) return profile;
  }
  return null;
}
