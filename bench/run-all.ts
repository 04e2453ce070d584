/**
 * Runs every benchmark and prints one Markdown table each (copy them into bench/RESULTS.md).
 * Usage: npm run bench [-- <name> ...]   names: state, fanout, join, joinlk, joincost, arrivals, join3,
 *   forwarding, bigcall, video
 */
import { cpus } from 'node:os';
import { bigCallBench } from './big-call.bench';
import { fanoutBench } from './fanout.bench';
import { forwardingBench } from './forwarding.bench';
import { joinArrivalsBench } from './join-arrivals.bench';
import { joinCostBench } from './join-cost.bench';
import { joinInstancesBench } from './join-instances.bench';
import { joinBench } from './join.bench';
import { joinLiveKitBench } from './join-livekit.bench';
import { stateStoreBench } from './state-store.bench';
import { videoBench } from './video.bench';

const BENCHES: Record<string, () => Promise<void>> = {
  state: stateStoreBench,
  fanout: fanoutBench,
  join: joinBench,
  joinlk: joinLiveKitBench,
  joincost: joinCostBench,
  arrivals: joinArrivalsBench,
  join3: joinInstancesBench,
  forwarding: forwardingBench,
  bigcall: bigCallBench,
  video: videoBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench)
      throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
    await bench();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
