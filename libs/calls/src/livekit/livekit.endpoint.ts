import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DisconnectReason } from '@livekit/protocol';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { DrainState } from '../calls/drain-state';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { type Admission, LiveKitAdmission } from './livekit-admission';
import { CloseCode } from './livekit-connection';
import { accessToken, refuseUpgrade, requestUrl } from './livekit-http';
import { LiveKitJoinService } from './livekit-join.service';
import { LiveKitSessions } from './livekit-sessions';
import { createSignalSocketServer } from './livekit-socket-server';
import { LiveKitSwitch } from './livekit-switch';

/**
 * Time the checks before an upgrade may take (ms): engine.io (socket.io, on the same server)
 * ends an upgrade nobody has answered within 1 s.
 */
const ADMISSION_BUDGET_MS = 800;

type Handler = (req: IncomingMessage, res: unknown) => void;

/**
 * The LiveKit endpoint on the host app's HTTP server, at `livekitPath` (default `/livekit`):
 *
 * - `<path>/rtc`: the signal WebSocket (binary protobuf); the token is checked before the upgrade
 *   (401 / 403 / 404 "requested room does not exist" / 503 while draining);
 * - `<path>/rtc/v1` (single-PC signalling) answers its upgrade with 404 and `<path>/rtc/v1/validate`
 *   with 404 `not found`, so clients fall back to `/rtc` (dual-PC);
 * - `GET <path>/rtc/validate`: LiveKit's diagnosis of a failed upgrade (200 `success`, 401, 403,
 *   404);
 * - `HEAD|GET <path>`: 200 (clients' `prepareConnection`).
 *
 * Other upgrades are left alone (socket.io's engine.io handles its own and ends the rest). Off
 * when no LiveKit API key is configured.
 */
@Injectable()
export class LiveKitEndpoint
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(LiveKitEndpoint.name);
  private readonly base: string;
  private wss: WebSocketServer | null = null;
  private server: Server | null = null;
  private accepting = true;

  constructor(
    @Inject(CALLS_OPTIONS) options: Pick<ResolvedCallsOptions, 'livekitPath'>,
    private readonly adapterHost: HttpAdapterHost,
    private readonly enabled: LiveKitSwitch,
    private readonly admission: LiveKitAdmission,
    private readonly joins: LiveKitJoinService,
    private readonly connections: LiveKitSessions,
    private readonly drain: DrainState,
    private readonly metrics: CallsMetrics,
  ) {
    this.base = options.livekitPath;
  }

  /** Routes are added before Nest's not-found handler, which comes after the init hooks. */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!this.enabled.on || !adapter) return;
    const text = (res: unknown, status: number, body: string) => {
      adapter.setHeader(res, 'Content-Type', 'text/plain; charset=utf-8');
      adapter.setHeader(res, 'Access-Control-Allow-Origin', '*');
      adapter.status(res, status);
      adapter.end(res, body);
    };
    const validate: Handler = (req, res) => {
      void this.admit(req).then((a) => text(res, a.ok ? 200 : a.status, a.ok ? 'success' : a.body));
    };
    const ok: Handler = (_req, res) => text(res, 200, 'OK');
    adapter.get(`${this.base}/rtc/validate`, validate);
    adapter.get(`${this.base}/rtc/v1/validate`, (_req: IncomingMessage, res: unknown) =>
      text(res, 404, 'not found'),
    );
    adapter.get(`${this.base}/rtc`, (_req: IncomingMessage, res: unknown) =>
      text(res, 404, 'not found'),
    );
    if (this.base !== '') {
      adapter.get(this.base, ok);
      adapter.head(this.base, ok);
    }
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!this.enabled.on) return;
    if (!server) {
      this.logger.warn('LiveKit keys are set but the host app has no HTTP server: endpoint off');
      return;
    }
    this.wss = createSignalSocketServer();
    this.server = server;
    server.on('upgrade', this.onUpgrade);
    this.logger.log(`LiveKit endpoint on [path=${this.base || '/'}/rtc]`);
  }

  /** Stops accepting clients; the core's shutdown removes their sessions (`leave SERVER_SHUTDOWN`). */
  beforeApplicationShutdown(): void {
    this.accepting = false;
    for (const connection of this.connections.all()) {
      connection.removing(DisconnectReason.SERVER_SHUTDOWN);
    }
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
    this.server = null;
    for (const client of this.wss?.clients ?? []) client.close(CloseCode.goingAway, 'shutdown');
    this.wss?.close();
    this.wss = null;
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestUrl(req.url);
    const path = url.pathname.replace(/\/+$/, '');
    if (path === `${this.base}/rtc/v1`) {
      this.metrics.messages.inc({ type: 'livekit:upgrade', result: 'v1' });
      refuseUpgrade(socket, 404, 'not found');
      return;
    }
    if (path !== `${this.base}/rtc`) return;
    void this.accept(req, socket, head);
  };

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    if (!this.accepting || this.drain.draining || !this.wss) {
      refuseUpgrade(socket, 503, 'server is shutting down');
      return;
    }
    const admission = await this.admitWithin(req, ADMISSION_BUDGET_MS);
    if (!admission.ok) {
      this.metrics.messages.inc({ type: 'livekit:upgrade', result: String(admission.status) });
      refuseUpgrade(socket, admission.status, admission.body);
      return;
    }
    if (socket.destroyed || !this.wss) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.joins.start(ws, admission.client));
  }

  private admit(req: IncomingMessage): Promise<Admission> {
    return this.admission.admit(accessToken(requestUrl(req.url), req.headers));
  }

  private async admitWithin(
    req: IncomingMessage,
    ms: number,
  ): Promise<Admission | { ok: false; status: 503; body: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ ok: false; status: 503; body: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, status: 503, body: 'admission timed out' }),
        ms,
      );
    });
    try {
      return await Promise.race([this.admit(req), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
