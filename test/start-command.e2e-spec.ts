import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@app/calls/testing';

const ROOT = join(__dirname, '..');
const START_TIMEOUT_MS = 200_000;

/** True when setup.sh would run `npm ci` (its own rule): this test never installs packages. */
function installNeeded(): boolean {
  try {
    if (lstatSync(join(ROOT, 'node_modules')).isSymbolicLink()) return false;
    const lock = statSync(join(ROOT, 'package-lock.json')).mtimeMs;
    return statSync(join(ROOT, 'node_modules', '.package-lock.json')).mtimeMs < lock;
  } catch {
    return true;
  }
}

/**
 * The README's start command, `npm start`, as a person runs it: its setup (the worker, the build of
 * the app and of its calls page) and then the built app, `node dist/src/main.js`. Not the e2e host
 * the other specs build: the artefacts `npm start` itself leaves.
 */
describe('npm start', () => {
  let child: ChildProcess | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  const output: string[] = [];
  let url = '';

  beforeAll(async () => {
    if (installNeeded()) {
      throw new Error(
        'node_modules is older than package-lock.json: run `npm run setup` first (this test does not run npm ci)',
      );
    }
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
    };
    // As from a shell: the app finds the worker where setup linked it, not through the variable.
    delete env.MEDIASOUP_WORKER_BIN;
    delete env.NODE_ENV;
    const started = Date.now();
    child = spawn('npm', ['start'], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = once(child, 'exit');
    const keep = (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`npm start exited (${child.exitCode}):\n${output.join('\n')}`);
      }
      const page = await fetch(`${url}/`).catch(() => null);
      if (page?.status === 200) break;
      if (Date.now() > deadline) {
        throw new Error(
          `npm start served no page within ${START_TIMEOUT_MS} ms:\n${output.join('\n')}`,
        );
      }
      await sleep(250);
    }
    console.log(
      `npm start: the calls page was served ${Date.now() - started} ms after the command`,
    );
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    if (!child?.pid || child.exitCode !== null) return;
    // npm, its shell and node: the whole process group.
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => child?.pid && process.kill(-child.pid, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }, 30_000);

  it('built the calls page: / serves it, with its script and styles', async () => {
    const index = await fetch(`${url}/`);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const html = await index.text();
    expect(html).toContain('<script src="app.js"');
    const script = await fetch(`${url}/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    // The bundle of src/web/client (it names the calls namespace it connects to).
    expect(await script.text()).toContain('/calls');
    const styles = await fetch(`${url}/app.css`);
    expect(styles.status).toBe(200);
    expect(styles.headers.get('content-type')).toMatch(/css/);
  });

  it('serves /health (with a running mediasoup worker) and /metrics', async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { details: Record<string, Record<string, unknown>> };
    expect(body.details.calls_media).toMatchObject({ status: 'up', workers: 1 });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('calls_active_calls');
  });
});
