/**
 * Benchmark entry point: `npm run bench [-- filter...]` builds and runs `node dist/bench/main.js`.
 * Modules run one after another; with filter arguments only modules whose name contains one of
 * them run (`node dist/bench/main.js memory`). Each module prints `name: value` lines (report.ts).
 */
import { cpuBench } from './cpu.js';
import { linuxBench } from './linux.js';
import { memoryBench } from './memory.js';
import { migrationBench } from './migration.js';
import { virtioBench } from './virtio.js';
import { webBench } from './web.js';

export interface BenchModule {
  readonly name: string;
  run(): Promise<void>;
}

/** Add new benchmark modules here. */
const modules: readonly BenchModule[] = [memoryBench, cpuBench, migrationBench, virtioBench, webBench, linuxBench];

async function main(filters: readonly string[]): Promise<number> {
  const selected = modules.filter((m) => filters.length === 0 || filters.some((f) => m.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no benchmark module matches ${filters.join(' ')} (modules: ${modules.map((m) => m.name).join(', ')})`);
    return 2;
  }
  for (const module of selected) {
    console.log(`# ${module.name}`);
    const start = performance.now();
    await module.run();
    console.log(`# ${module.name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 70;
  },
);
