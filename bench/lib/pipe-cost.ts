import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { types as ms } from 'mediasoup';
import { ROUTER_MEDIA_CODECS } from '../../libs/calls/src/sfu/workers/media-codecs';
import type { LoadProcess } from './load-process';
import { rawWorker, workerCpuSeconds } from './media-host';
import { PACKET_INTERVAL_MS } from './rtp';

const OPUS_PT = 111;

/**
 * How a pipe is made: `plain` as between the routers of one call (`pipeToRouter` defaults: RTP
 * on loopback), `srtp` as between instances (SRTP and RTX on the pipe transports).
 */
export type PipeVariant = 'plain' | 'srtp';

/** The cost of piping streams from one worker to another, over one measured window. */
export interface PipeCost {
  readonly variant: PipeVariant;
  readonly streams: number;
  /** Packets per second the copies received on the second router. */
  readonly pipedPps: number;
  /** Worker A's CPU (fraction of a core) before and with the pipes; worker B's likewise. */
  readonly cpuA0: number;
  readonly cpuA1: number;
  readonly cpuB0: number;
  readonly cpuB1: number;
}

/** CPU fraction of each worker over `seconds`. */
async function cpuOver(workers: ms.Worker[], seconds: number): Promise<number[]> {
  const before = await Promise.all(workers.map(workerCpuSeconds));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await Promise.all(workers.map(workerCpuSeconds));
  const elapsed = (performance.now() - t0) / 1000;
  return after.map((a, i) => (a - before[i]) / elapsed);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/**
 * Measures on bare mediasoup what a pipe between two routers costs per piped stream: `streams`
 * Opus streams (plain RTP from the load process, 20 ms packets) are produced on router A of
 * worker A and measured alone, then each is piped into router B of worker B
 * (`router.pipeToRouter`) and measured again. The pipe's cost is worker A's increase (sending
 * every packet again) plus worker B's increase (receiving it), medians of `windows` windows.
 */
export async function measurePipeCost(
  load: LoadProcess,
  variant: PipeVariant,
  streams: number,
  windowS: number,
  windows: number,
): Promise<PipeCost> {
  const [workerA, workerB] = await Promise.all([rawWorker(), rawWorker()]);
  try {
    const routerA = await workerA.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const routerB = await workerB.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const { first, ports } = await load.call('udpAdd', { count: 1 });
    const transport = await routerA.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
    });
    await transport.connect({ ip: '127.0.0.1', port: ports[0] });
    const producers: ms.Producer[] = [];
    const ssrcs: number[] = [];
    for (let i = 0; i < streams; i++) {
      const ssrc = randomBytes(4).readUInt32BE(0) || 1;
      ssrcs.push(ssrc);
      producers.push(
        await transport.produce({
          kind: 'audio',
          rtpParameters: {
            codecs: [
              {
                mimeType: 'audio/opus',
                payloadType: OPUS_PT,
                clockRate: 48000,
                channels: 2,
                parameters: { useinbandfec: 1 },
              },
            ],
            encodings: [{ ssrc }],
          },
        }),
      );
    }
    await load.call('udpSend', {
      flows: ssrcs.map((ssrc) => ({
        index: first,
        port: transport.tuple.localPort,
        ssrc,
        payloadType: OPUS_PT,
      })),
    });
    await sleep(2000);
    const alone: number[][] = [];
    for (let w = 0; w < windows; w++) alone.push(await cpuOver([workerA, workerB], windowS));

    const copies: ms.Producer[] = [];
    for (const producer of producers) {
      const { pipeProducer } = await routerA.pipeToRouter({
        producerId: producer.id,
        router: routerB,
        ...(variant === 'srtp' ? { enableSrtp: true, enableRtx: true } : {}),
      });
      if (pipeProducer) copies.push(pipeProducer);
    }
    await sleep(2000);
    const packets = async () => {
      const stats = await Promise.all(copies.map((c) => c.getStats()));
      return stats.flat().reduce((n, s) => n + s.packetCount, 0);
    };
    const piped: number[][] = [];
    const pps: number[] = [];
    for (let w = 0; w < windows; w++) {
      const p0 = await packets();
      const t0 = performance.now();
      piped.push(await cpuOver([workerA, workerB], windowS));
      pps.push(((await packets()) - p0) / ((performance.now() - t0) / 1000));
    }
    return {
      variant,
      streams,
      pipedPps: median(pps),
      cpuA0: median(alone.map((c) => c[0])),
      cpuB0: median(alone.map((c) => c[1])),
      cpuA1: median(piped.map((c) => c[0])),
      cpuB1: median(piped.map((c) => c[1])),
    };
  } finally {
    await load.call('udpClear', undefined);
    workerA.close();
    workerB.close();
  }
}

/** Nominal packets per second of one stream. */
export const STREAM_PPS = 1000 / PACKET_INTERVAL_MS;
