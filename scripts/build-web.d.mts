import type { BuildOptions, BuildResult, Metafile, Plugin } from 'esbuild';

/** esbuild plugin refusing Node-only imports (builtins, src/node, src/cli, npm packages). */
export declare const browserOnly: Plugin;
/** Bundles entry points for browsers with the playground's settings. */
export declare function bundle(entryPoints: string[], outdir: string, options?: BuildOptions): Promise<BuildResult & { metafile: Metafile }>;
/** The whole playground into `outdir` (default dist/web). */
export declare function buildWeb(outdir?: string): Promise<{ outdir: string; sizes: Record<string, number>; guests: number }>;
