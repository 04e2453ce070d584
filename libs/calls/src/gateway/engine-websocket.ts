/** The part of a TCP socket that write coalescing uses. */
export interface CorkableSocket {
  readonly destroyed: boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
}

/** What the module uses of the `ws` WebSocket under an engine.io websocket transport. */
export interface EngineWebSocket {
  /** Stops reading the connection (public `ws` API). */
  pause(): void;
  /** Reads the connection again (public `ws` API). */
  resume(): void;
  /** The connection's TCP socket: `ws` keeps it here (checked by ws-write-coalescing.int-spec). */
  readonly _socket?: CorkableSocket;
}

/** An engine.io connection (socket.io's `socket.conn`, or the engine's `flush` argument). */
export interface EngineConnection {
  readonly transport?: unknown;
}

/** The `ws` WebSocket of a connection on the websocket transport; none on long polling. */
export function engineWebSocket(connection: EngineConnection): EngineWebSocket | undefined {
  const transport = connection.transport as { name?: string; socket?: EngineWebSocket } | undefined;
  return transport?.name === 'websocket' ? transport.socket : undefined;
}
