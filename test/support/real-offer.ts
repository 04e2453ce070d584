import { WrtcTestPeer } from '@app/calls/testing';
import { until } from './calls-probe';

/**
 * A real offer from libwebrtc (audio, video and the `calls-dc` data channel, as Mattermost clients
 * make it) and the host candidates the peer gathered: the seeds of SDP and ICE mutation.
 */
export async function captureRealOffer(): Promise<{ offer: string; candidates: string[] }> {
  const offers: string[] = [];
  const candidates: string[] = [];
  const peer = await WrtcTestPeer.create(
    {
      sendDescription: (d) => {
        if (d.type === 'offer') offers.push(d.sdp);
        return Promise.resolve();
      },
      sendCandidate: (c) => {
        candidates.push(c.candidate);
        return Promise.resolve();
      },
    },
    { name: 'offer-source' },
  );
  try {
    peer.addTone(440);
    peer.addVideo();
    await until(
      () =>
        offers.some((o) => o.includes('m=audio') && o.includes('m=video')) && candidates.length > 0,
      10_000,
      'a real offer with audio, video and candidates',
    );
    return { offer: offers.filter((o) => o.includes('m=video')).at(-1)!, candidates };
  } finally {
    peer.close();
  }
}
