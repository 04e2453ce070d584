import { randomBytes } from 'node:crypto';
import * as sdpTransform from 'sdp-transform';
import { ntpTime, type RTCDtlsTransport, RtcpSenderInfo, RtcpSrPacket, RtpHeader } from 'werift';
import type { CameraRecording } from './camera-recording';

const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
/** A sender report per layer this often (mediasoup switches layers on their NTP/RTP mapping). */
const SR_INTERVAL_MS = 1000;
/** At most this many packets per call: a starved process skips ahead instead of flooding. */
const MAX_BURST = 200;

/**
 * Replays a {@link CameraRecording} as a browser's simulcast camera over a werift peer: one SSRC
 * per layer, the mid and rid header extensions (and a transport-wide sequence number when
 * negotiated) on every packet,
 * the recorded payloads at their recorded times (looping, sequence numbers and timestamps going
 * on), and a sender report per layer every second. No encoding: the load generator only
 * encrypts and sends. Key frames come when the recording has them (about every 3 s, and at
 * each loop); the server's PLIs are not answered.
 */
export class CameraReplay {
  /** Packets and bytes (RTP payload + 12) sent. */
  sent = 0;
  bytes = 0;
  /** Packets not sent because this process fell behind by more than a burst. */
  skipped = 0;
  /** The MediaStream id the offer names (what `video_on` carries). */
  readonly streamId = `cam-${randomBytes(6).toString('hex')}`;
  private readonly ssrcs: number[];
  private readonly seqs: number[];
  private readonly counts: { packets: number; octets: number }[];
  private readonly tsBase = randomBytes(4).readUInt32BE(0);
  private twccSeq = 0;
  private start = 0;
  private loop = 0;
  private next = 0;
  private lastReport = 0;
  private mid = '';
  private payloadType = 0;
  private ext = { mid: 0, rid: 0, twcc: 0 };

  constructor(private readonly rec: CameraRecording) {
    this.ssrcs = rec.layers.map(() => randomBytes(4).readUInt32BE(0));
    this.seqs = rec.layers.map(() => randomBytes(2).readUInt16BE(0));
    this.counts = rec.layers.map(() => ({ packets: 0, octets: 0 }));
  }

  /**
   * A werift description (offer or answer) as a browser's camera description: the camera's
   * video section (the first video section of the first offer) gets an msid naming
   * {@link streamId}, the layers' rids and `a=simulcast:send`.
   */
  describe(sdp: string): string {
    const parsed = sdpTransform.parse(sdp);
    const m = this.mid
      ? parsed.media.find((s) => String(s.mid) === this.mid)
      : parsed.media.find((s) => s.type === 'video');
    if (!m) throw new Error('camera description without its video section');
    this.mid = String(m.mid);
    m.msid = [{ id: this.streamId, appdata: `${this.streamId}-video` }];
    m.rids = this.rec.layers.map((l) => ({ id: l.rid, direction: 'send' }));
    m.simulcast = { dir1: 'send', list1: this.rec.layers.map((l) => l.rid).join(';') };
    return sdpTransform.write(parsed);
  }

  /**
   * The server's description (answer or offer) for werift: the camera section without its
   * simulcast lines (werift does not send simulcast). An answer's payload type and extension
   * ids are kept for sending.
   */
  fromServer(sdp: string): string {
    const parsed = sdpTransform.parse(sdp);
    const m = parsed.media.find((s) => String(s.mid) === this.mid);
    if (!m) return sdp;
    const vp8 = m.rtp.find((r) => r.codec.toUpperCase() === 'VP8');
    if (!vp8) throw new Error('the server accepts no VP8');
    this.payloadType = vp8.payload;
    const id = (uri: string) => m.ext?.find((e) => e.uri === uri)?.value ?? 0;
    this.ext = { mid: id(MID_URI), rid: id(RID_URI), twcc: id(TWCC_URI) };
    if (!this.ext.rid) throw new Error('the server refused the rid extension');
    delete m.rids;
    delete m.simulcast;
    return sdpTransform.write(parsed);
  }

  /** Sends what is due at `now` (ms, `performance.now()`) through `dtls`. */
  sendDue(now: number, dtls: RTCDtlsTransport): void {
    if (this.payloadType === 0) return;
    if (this.start === 0) this.start = now;
    const { packets, durationUs } = this.rec;
    const elapsedUs = (now - this.start) * 1000;
    for (let burst = 0; ; burst++) {
      const p = packets[this.next];
      const dueUs = this.loop * durationUs + p.atUs;
      if (dueUs > elapsedUs) break;
      if (burst < MAX_BURST) this.send(p, dtls);
      else this.skipped++;
      if (++this.next === packets.length) {
        this.next = 0;
        this.loop++;
      }
    }
    if (now - this.lastReport >= SR_INTERVAL_MS) {
      this.lastReport = now;
      this.report(now, dtls);
    }
  }

  private ticksAt(loopTicks: number): number {
    return (this.tsBase + this.loop * Math.round(this.rec.durationUs * 0.09) + loopTicks) >>> 0;
  }

  private send(p: CameraRecording['packets'][number], dtls: RTCDtlsTransport): void {
    const l = p.layer;
    this.seqs[l] = (this.seqs[l] + 1) & 0xffff;
    this.twccSeq = (this.twccSeq + 1) & 0xffff;
    const twcc = Buffer.alloc(2);
    twcc.writeUInt16BE(this.twccSeq);
    const extensions = [
      ...(this.ext.mid ? [{ id: this.ext.mid, payload: Buffer.from(this.mid) }] : []),
      { id: this.ext.rid, payload: Buffer.from(this.rec.layers[l].rid) },
      ...(this.ext.twcc ? [{ id: this.ext.twcc, payload: twcc }] : []),
    ];
    const header = new RtpHeader({
      payloadType: this.payloadType,
      sequenceNumber: this.seqs[l],
      timestamp: this.ticksAt(p.ticks),
      ssrc: this.ssrcs[l],
      marker: p.marker,
      extensions,
    });
    void dtls.sendRtp(p.payload, header);
    this.sent++;
    this.bytes += p.payload.length + 12;
    this.counts[l].packets++;
    this.counts[l].octets += p.payload.length;
  }

  private report(now: number, dtls: RTCDtlsTransport): void {
    const loopUs = (now - this.start) * 1000 - this.loop * this.rec.durationUs;
    const rtpTimestamp = this.ticksAt(Math.round(loopUs * 0.09));
    const ntpTimestamp = ntpTime();
    void dtls.sendRtcp(
      this.ssrcs.map(
        (ssrc, l) =>
          new RtcpSrPacket({
            ssrc,
            senderInfo: new RtcpSenderInfo({
              ntpTimestamp,
              rtpTimestamp,
              packetCount: this.counts[l].packets,
              octetCount: this.counts[l].octets,
            }),
          }),
      ),
    );
  }
}
