import { RtpHeader, RtpPacket } from 'werift';

/** RFC 8285 header extension profiles. */
const ONE_BYTE = 0xbede;
const TWO_BYTE = 0x1000;

type Extension = RtpHeader['extensions'][number];

/**
 * The header extensions of a packet as werift reads them, from `offset` for `length` bytes, and
 * where werift's reading stopped (the payload's offset).
 */
function readExtensions(
  raw: Buffer,
  profile: number,
  offset: number,
  length: number,
): { extensions: Extension[]; stop: number } {
  const extensions: Extension[] = [];
  const end = offset + length;
  if (profile !== ONE_BYTE && profile !== TWO_BYTE) {
    const payload = raw.subarray(offset, end);
    return { extensions: [{ id: 0, payload }], stop: offset + payload.length };
  }
  let at = offset;
  while (at < end) {
    if (raw[at] === 0) {
      at++;
      continue;
    }
    let id: number;
    let len: number;
    if (profile === ONE_BYTE) {
      id = raw[at] >> 4;
      len = (raw[at] & 0x0f) + 1;
      at++;
      if (id === 0xf) break;
    } else {
      id = raw[at];
      len = raw[at + 1];
      at += 2;
    }
    extensions.push({ id, payload: raw.subarray(at, at + len) });
    at += len;
  }
  return { extensions, stop: at };
}

/**
 * `RtpHeader.deSerialize` of werift, giving the same header (same fields, same prototype) in a
 * fraction of the time: werift builds each header through a constructor of fifteen
 * `Object.defineProperty` calls and reads the first two bytes a bit at a time, a quarter of the
 * load generator's CPU when hundreds of werift peers receive audio (the arrivals bench's
 * profile). Only the load generator uses it ({@link useFastRtpHeaderParsing}); the server never
 * runs werift.
 */
export function parseRtpHeader(raw: Buffer): RtpHeader {
  const first = raw[0];
  const csrcLength = first & 0x0f;
  const extension = (first & 0x10) !== 0;
  const padding = (first & 0x20) !== 0;
  const csrc: number[] = [];
  for (let i = 0; i < csrcLength; i++) csrc.push(raw.readUInt32BE(12 + 4 * i));
  let offset = 12 + 4 * csrcLength;
  let extensionProfile: number = ONE_BYTE;
  let extensionLength: number | undefined;
  let extensions: Extension[] = [];
  if (extension) {
    extensionProfile = raw.readUInt16BE(offset);
    extensionLength = raw.readUInt16BE(offset + 2) * 4;
    ({ extensions, stop: offset } = readExtensions(
      raw,
      extensionProfile,
      offset + 4,
      extensionLength,
    ));
  }
  const h = Object.create(RtpHeader.prototype) as RtpHeader;
  h.version = first >> 6;
  h.padding = padding;
  h.paddingSize = padding ? raw[raw.length - 1] : 0;
  h.extension = extension;
  h.marker = (raw[1] & 0x80) !== 0;
  h.payloadOffset = offset;
  h.payloadType = raw[1] & 0x7f;
  h.sequenceNumber = raw.readUInt16BE(2);
  h.timestamp = raw.readUInt32BE(4);
  h.ssrc = raw.readUInt32BE(8);
  h.csrcLength = csrcLength;
  h.csrc = csrc;
  h.extensionProfile = extensionProfile as RtpHeader['extensionProfile'];
  h.extensionLength = extensionLength;
  h.extensions = extensions;
  return h;
}

/**
 * `RtpPacket.clone` of werift (which its receiver calls for every packet it hands to a track): the
 * same copy (a new header with the same fields, the same payload) without the constructors.
 */
export function cloneRtpPacket(this: RtpPacket): RtpPacket {
  const header = Object.assign(Object.create(RtpHeader.prototype) as RtpHeader, this.header);
  const packet = Object.create(RtpPacket.prototype) as RtpPacket;
  packet.header = header;
  packet.payload = this.payload;
  return packet;
}

/**
 * Makes werift in this process parse received RTP headers with {@link parseRtpHeader} and copy
 * packets with {@link cloneRtpPacket}.
 */
export function useFastRtpHeaders(): void {
  RtpHeader.deSerialize = parseRtpHeader;
  RtpPacket.prototype.clone = cloneRtpPacket;
}
