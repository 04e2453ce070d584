import {
  ProtectionProfileAeadAes128Gcm,
  type RTCDtlsTransport,
  type RTCPeerConnection,
} from 'werift';

/** Bytes of the authentication tag that ends an SRTP packet: GCM 16, AES-CM/HMAC-SHA1-80 10. */
const TAG_BYTES = (profile: number | undefined) =>
  profile === ProtectionProfileAeadAes128Gcm ? 16 : 10;

const handled = new WeakSet<RTCDtlsTransport>();

function skip(dtls: RTCDtlsTransport): void {
  const tag = TAG_BYTES(dtls.dtls?.srtp.srtpProfile);
  dtls.srtp.decrypt = (packet: Buffer) => packet.subarray(0, packet.length - tag);
}

/**
 * Makes a werift peer stop decrypting the SRTP it receives: each packet keeps its clear RTP
 * header (SSRC, sequence number, extensions) and loses its tag, its payload stays encrypted.
 * werift then handles the packet as usual (receiver statistics, RTCP receiver reports, transport
 * feedback, `onReceiveRtp`), so the server sees the same client; only the load generator's
 * per-packet decryption is gone. SRTCP is still decrypted. For listeners of a load test that
 * count packets and never play them. Applies to the peer's DTLS transports now, or once their
 * handshake is done (werift may report the peer connected before it is); call it again when
 * the peer may have a new transport.
 */
export function skipSrtpDecryption(pc: RTCPeerConnection): void {
  for (const dtls of pc.dtlsTransports) {
    if (handled.has(dtls)) continue;
    handled.add(dtls);
    if (dtls.srtpStarted) skip(dtls);
    else
      dtls.onStateChange.subscribe((state) => {
        if (state === 'connected') skip(dtls);
      });
  }
}
