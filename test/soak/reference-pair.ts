import { type TestPeerSignal, WrtcTestPeer } from '@app/calls/testing';

/**
 * Two WebRTC peers of this process connected to each other directly (no server in between), one
 * sending a tone to the other: the control of the hearing measurements. A second in which even
 * this pair's packets do not arrive is a second this process or the machine stalled (a loaded
 * machine that did not give it the CPU), whatever the servers did.
 */
export class ReferencePair {
  private packets = 0;

  private constructor(
    private readonly sender: WrtcTestPeer,
    private readonly receiver: WrtcTestPeer,
  ) {}

  /** Connects the pair and waits until audio flows (bounded). */
  static async start(tone: number): Promise<ReferencePair> {
    // Signals are delivered, not awaited: each peer handles its steps one at a time, and a step
    // that waited for the other's reply would wait for itself.
    const deliver = (to: () => WrtcTestPeer, signal: TestPeerSignal): Promise<void> => {
      void to().handleSignal(signal);
      return Promise.resolve();
    };
    // The receiver first: it only answers, by then the sender exists; the sender offers at once.
    let sender: WrtcTestPeer | null = null;
    const receiver = await WrtcTestPeer.create(
      {
        sendDescription: (d) => deliver(() => sender!, d),
        sendCandidate: (c) => deliver(() => sender!, { type: 'candidate', candidate: c }),
      },
      { name: 'reference-receiver', dataChannel: false },
    );
    sender = await WrtcTestPeer.create(
      {
        sendDescription: (d) => deliver(() => receiver, d),
        sendCandidate: (c) => deliver(() => receiver, { type: 'candidate', candidate: c }),
      },
      { name: 'reference-sender' },
    );
    sender.addTone(tone);
    const pair = new ReferencePair(sender, receiver);
    await receiver.waitConnected(20_000);
    await receiver.waitFor(() => receiver.receiving('audio').length > 0, 20_000, 'reference audio');
    return pair;
  }

  /** Audio packets received so far by the receiving peer. */
  async receivedPackets(): Promise<number> {
    for (const s of await this.receiver.inboundRtp().catch(() => [])) {
      if (s.kind === 'audio') this.packets = Math.max(this.packets, s.packets);
    }
    return this.packets;
  }

  close(): void {
    this.sender.close();
    this.receiver.close();
  }
}
