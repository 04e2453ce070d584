/**
 * Event fan-out: one channel event to 1,000 connected sockets through the calls module
 * (the core's CallDelivery: Mattermost event and envelope, channel room, socket.io) next to a bare socket.io server
 * emitting the same payload to a room of 1,000 sockets, in the same run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import { Server } from 'socket.io';
import { CallDelivery } from '../libs/calls/src/calls/call-delivery.interface';
import { TestHostApp } from '../test/support/host-app';
import { percentile, printTable, type Row } from './lib/measure';

const SOCKETS = 1000;
const ROUNDS = 30;
const EVENT = 'custom_com.mattermost.calls_user_reacted';

/** Emits once and resolves with the time (ms) until every socket received the event. */
function timeFanOut(sockets: Socket[], emit: () => void): Promise<number> {
  return new Promise((resolve) => {
    let pending = sockets.length;
    const start = performance.now();
    const onEvent = function (this: Socket) {
      this.off(EVENT, onEvent);
      if (--pending === 0) resolve(performance.now() - start);
    };
    for (const s of sockets) s.on(EVENT, onEvent);
    emit();
  });
}

async function rounds(sockets: Socket[], emit: () => void): Promise<number[]> {
  await timeFanOut(sockets, emit); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timeFanOut(sockets, emit));
  return times;
}

async function connectAll(
  url: string,
  auth: Record<string, string>,
  onConnect?: (s: Socket) => Promise<void>,
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < SOCKETS; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, SOCKETS - i) }, async () => {
        const s = connect(url, {
          transports: ['websocket'],
          auth,
          forceNew: true,
          reconnection: false,
        });
        await new Promise<void>((resolve, reject) => {
          s.once('connect', () => resolve());
          s.once('connect_error', reject);
        });
        await onConnect?.(s);
        return s;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

export async function fanoutBench(): Promise<void> {
  const channelId = 'fanout-bench';
  const payload = {
    user_id: 'u-bench',
    user_id_raw: 'u-bench',
    session_id: 's-bench',
    emoji: { name: 'tada', literal: '🎉' },
    timestamp: 0,
  };

  // The module: 1,000 sockets follow the channel (call_state subscribes them).
  const host = await TestHostApp.start({
    RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
    RUSTCHAT_CALLS_WORKERS: '1',
    RUSTCHAT_CALLS_WS_BURST: '100000',
  });
  const { token } = await host.login('Bench');
  const moduleSockets = await connectAll(`${host.url}/calls`, { token }, async (s) => {
    await s
      .timeout(10_000)
      .emitWithAck('custom_com.mattermost.calls_call_state', { channelID: channelId });
  });
  const delivery = host.app.get<CallDelivery>(CallDelivery);
  const event = {
    type: 'reacted',
    userId: 'u-bench',
    sessionId: 's-bench',
    emoji: payload.emoji,
    timestamp: 0,
  } as const;
  const moduleTimes = await rounds(moduleSockets, () => delivery.toChannel(channelId, event));
  moduleSockets.forEach((s) => s.disconnect());
  await host.close();

  // The baseline: a bare socket.io server, same room size, same envelope.
  const http = createServer();
  const bare = new Server(http);
  bare.on('connection', (s) => void s.join('room'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const bareSockets = await connectAll(url, {});
  const envelope = {
    event: EVENT,
    data: { ...payload, channelID: channelId },
    broadcast: {
      omit_users: null,
      user_id: '',
      channel_id: channelId,
      team_id: '',
      connection_id: '',
      omit_connection_id: '',
    },
    seq: 1,
  };
  const bareTimes = await rounds(bareSockets, () => bare.to('room').emit(EVENT, envelope));
  bareSockets.forEach((s) => s.disconnect());
  await bare.close();

  const row = (name: string, t: number[], base: number[]): Row => ({
    case: name,
    'p50 ms': percentile(t, 50),
    'p99 ms': percentile(t, 99),
    'ratio p50': percentile(t, 50) / percentile(base, 50),
  });
  printTable(`Event fan-out to ${SOCKETS} sockets (${ROUNDS} rounds, same process, loopback)`, [
    row('bare socket.io room emit', bareTimes, bareTimes),
    row('calls module channel event', moduleTimes, bareTimes),
  ]);
}
