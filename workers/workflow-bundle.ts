/**
 * How every worker, replayer and benchmark bundles drw's workflow code. One place, so a replay
 * in CI runs the bundle production runs.
 *
 * Why preload: with the SDK's reusable V8 context every workflow run gets a fresh module cache,
 * so each new run (and each replay after a cache eviction) re-evaluated every module it imports:
 * building drw's zod schemas alone took about 10 ms of CPU per run, more than the rest of a
 * short remediation's replay, and every cached run held its own copy of them. The modules
 * workflows/preload.ts imports are pure (schemas, the planner, the decision core, the message
 * definitions: no per-run state, no workflow API at import time), so the SDK evaluates them once
 * per worker, deep-freezes them and shares them between runs (`bundlerOptions.preloadModules`).
 * A module shared must stay free of per-run mutable state: a frozen export that a run tries to
 * change throws, and a shared mutable one would leak between runs.
 */
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** workflows/preload.ts imports (and readies for freezing) every module shared; relative to the repository (or dist/) root. */
const PRELOAD = 'workflows/preload';

/** drw's workflows entry point (`workflows/index` next to this file's tree: sources under ts-jest, dist/ when built). */
export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export function preloadModules(entry = workflowsPath()): string[] {
  const root = path.resolve(path.dirname(entry), '..');
  return [path.join(root, PRELOAD)];
}

type WebpackConfig = Parameters<NonNullable<Parameters<typeof bundleWorkflowCode>[0]['webpackConfigHook']>>[0];

/** zod's locale index (CommonJS and ESM builds), which the bundle takes from workers/zod-locales-en.ts instead. */
function zodLocaleIndexes(): string[] {
  const dir = path.dirname(require.resolve('zod/v4/locales/en.cjs'));
  return [path.join(dir, 'index.cjs'), path.join(dir, 'index.js')];
}

/** Keeps zod's other locales out of the bundle: webpack matches an absolute alias against zod's relative require of its index. */
export function trimWorkflowBundle(config: WebpackConfig): WebpackConfig {
  const english = require.resolve('./zod-locales-en');
  const alias = Object.fromEntries(zodLocaleIndexes().map((index) => [index, english]));
  const resolve = config.resolve ?? {};
  return { ...config, resolve: { ...resolve, alias: { ...(resolve.alias as Record<string, string> | undefined), ...alias } } };
}

/** Options for Worker.create / runReplayHistories when they bundle the code themselves. */
export function workflowSourceOptions(entry = workflowsPath()): {
  workflowsPath: string;
  bundlerOptions: { preloadModules: string[]; webpackConfigHook: typeof trimWorkflowBundle };
} {
  return { workflowsPath: entry, bundlerOptions: { preloadModules: preloadModules(entry), webpackConfigHook: trimWorkflowBundle } };
}

type BundleLogger = Parameters<typeof bundleWorkflowCode>[0]['logger'];

/** A prebuilt bundle (tests and the benchmark build one and share it between workers). */
export function bundleDrwWorkflows(logger?: BundleLogger, entry = workflowsPath()): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: entry, preloadModules: preloadModules(entry), webpackConfigHook: trimWorkflowBundle, ...(logger ? { logger } : {}) });
}
