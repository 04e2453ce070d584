import { deflateSync } from 'node:zlib';
import { WrtcTestPeer, type TestPeerSignal } from '@app/calls/testing';
import type { Envelope, TestClient } from './test-client';

/**
 * A real WebRTC participant (@roamhq/wrtc) signaling through the gateway the way Mattermost clients
 * do: SDP as zlib-compressed JSON bytes, ICE as the JSON string of the candidate, and the server's
 * `signal` events (only those for this connection) fed back to the peer.
 */
export async function gatewayPeer(client: TestClient, name: string): Promise<WrtcTestPeer> {
  const peer = await WrtcTestPeer.create(
    {
      sendDescription: async (description) => {
        const ack = await client.send<{ ok: boolean }>('sdp', {
          data: deflateSync(Buffer.from(JSON.stringify(description))),
        });
        if (!ack.ok) throw new Error(`sdp refused: ${JSON.stringify(ack)}`);
      },
      sendCandidate: async (candidate) => {
        await client.send('ice', { data: JSON.stringify(candidate) });
      },
    },
    { name },
  );
  client.socket.on('custom_com.mattermost.calls_signal', (envelope: Envelope) => {
    if (envelope.data.connID !== client.connectionId) return;
    void peer.handleSignal(JSON.parse(envelope.data.data as string) as TestPeerSignal);
  });
  return peer;
}
