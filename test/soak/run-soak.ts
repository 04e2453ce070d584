/**
 * The chaos soak: `npm run soak` (not part of `npm test`). Settings from the environment, see
 * soak-options.ts (e.g. `SOAK_MINUTES=2 SOAK_SEED=42 npm run soak`). Exits 1 when a target is
 * missed or something leaked, 130 when interrupted; every process it started is stopped.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Soak } from './soak';
import { soakOptionsFromEnv } from './soak-options';
import { missedTargets, recordsTable } from './soak-report';

function machine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average ${load}`;
}

async function main(): Promise<number> {
  const options = soakOptionsFromEnv(process.env);
  if (!existsSync('dist/src/main.js')) {
    throw new Error('dist/src/main.js missing: the soak runs the build (npm run build)');
  }
  mkdirSync(options.logDir, { recursive: true });
  for (const f of readdirSync(options.logDir)) {
    if (/^soak-\d+\.log$/.test(f)) rmSync(join(options.logDir, f));
  }
  console.log(
    `[soak] seed ${options.seed} (SOAK_SEED=${options.seed} repeats the choices); ${options.minutes} min, ` +
      `a fault every ${options.intervalS.join('–')} s from ${options.faults.join(', ')}; ` +
      `${options.calls} calls × ${options.peersPerCall} peers on ${options.instances} instances (${options.backend}); ` +
      `instance logs in ${options.logDir}`,
  );
  console.log(`[soak] machine: ${machine()}`);
  const soak = new Soak(options);
  let interrupted = false;
  const interrupt = (signal: string) => {
    interrupted = true;
    console.log(`[soak] ${signal}: stopping everything`);
    void soak.release().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  try {
    const { records, leaks } = await soak.run();
    const missed = records.flatMap((r) => missedTargets(r).map((m) => `#${r.index}: ${m}`));
    console.log(`\n${recordsTable(records)}\n`);
    console.log(`[soak] leaks at the end: ${leaks.length === 0 ? 'none' : leaks.join('; ')}`);
    console.log(`[soak] machine at the end: ${machine()}`);
    console.log(
      missed.length + leaks.length === 0
        ? `[soak] all targets met over ${records.length - 1} faults (seed ${options.seed})`
        : `[soak] ${missed.length} target(s) missed, ${leaks.length} leak(s) (seed ${options.seed}):\n  ${[...missed, ...leaks].join('\n  ')}`,
    );
    return missed.length + leaks.length === 0 ? 0 : 1;
  } catch (err) {
    if (interrupted) return 130;
    console.error('[soak] failed:', err);
    return 1;
  } finally {
    await soak.release();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
