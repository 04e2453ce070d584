import type { types as ms } from 'mediasoup';
import { formatServerCandidate } from '../sdp/ice-candidate';
import type { LocalSection } from '../sdp/local-description';
import type { MediaSignal } from '../../media/media-plane.interface';

/**
 * The server's ICE candidates as `candidate` signals for the description just sent (they are in
 * its SDP as well): on the first bundled section, with the current ICE username fragment.
 */
export function serverCandidateSignals(
  transport: ms.WebRtcTransport,
  sections: readonly LocalSection[],
): MediaSignal[] {
  const first = sections.findIndex((s) => !s.rejected);
  if (first < 0) return [];
  return transport.iceCandidates.map((candidate) => ({
    type: 'candidate',
    candidate: {
      candidate: formatServerCandidate(candidate),
      sdpMid: sections[first].mid,
      sdpMLineIndex: first,
      usernameFragment: transport.iceParameters.usernameFragment,
    },
  }));
}
