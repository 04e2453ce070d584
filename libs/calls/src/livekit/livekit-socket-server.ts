import { WebSocketServer } from 'ws';

/** Hard cap of a WebSocket message before it is even buffered; the codec's limit is lower. */
export const MAX_WS_PAYLOAD = 1024 * 1024;

/**
 * The WebSocket server of the signal connections (upgrades are handed to it by the endpoint).
 * Messages over {@link MAX_WS_PAYLOAD} are refused by `ws` itself (close 1009); text frames are
 * not checked for UTF-8, so the connection refuses every text frame alike, with a reason (`ws`
 * would close one that is not UTF-8 with 1007 and none).
 */
export function createSignalSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_PAYLOAD,
    skipUTF8Validation: true,
  });
}
