import { type EngineConnection, engineWebSocket } from './engine-websocket';

/** The engine.io server (socket.io's `io.engine`). */
export interface FlushingEngine {
  on(event: 'flush', listener: (connection: EngineConnection) => void): unknown;
}

/**
 * Sends the frames a WebSocket connection flushes in one tick with one system call. engine.io
 * queues a connection's packets while its previous write is in flight and then flushes them, and
 * `ws` writes each frame on its own, so a burst (a call's fan-out reaching a socket that is still
 * writing) costs one `writev` per frame. Corking the connection's TCP socket until the end of the
 * tick turns that into one `writev` per flush. Order and delivery are unchanged; a transport that
 * is not a `ws` WebSocket (long polling) is left alone.
 */
export function coalesceWebSocketWrites(engine: FlushingEngine): void {
  engine.on('flush', (connection) => {
    const socket = engineWebSocket(connection)?._socket;
    if (!socket || socket.destroyed || socket.writableCorked > 0) return;
    socket.cork();
    process.nextTick(() => socket.uncork());
  });
}
