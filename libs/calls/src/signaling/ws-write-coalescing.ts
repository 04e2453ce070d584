/** The part of a TCP socket that write coalescing uses. */
interface CorkableSocket {
  readonly destroyed: boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
}

/** An engine.io connection as seen in its server's `flush` event. */
interface EngineConnection {
  readonly transport?: {
    readonly name?: string;
    /** The `ws` WebSocket of a websocket transport; `ws` keeps its TCP socket in `_socket`. */
    readonly socket?: { readonly _socket?: CorkableSocket };
  };
}

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
    const transport = connection.transport;
    const socket = transport?.name === 'websocket' ? transport.socket?._socket : undefined;
    if (!socket || socket.destroyed || socket.writableCorked > 0) return;
    socket.cork();
    process.nextTick(() => socket.uncork());
  });
}
