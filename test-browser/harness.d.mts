import type {Plugin} from 'esbuild';
import type {Browser, Page} from 'playwright-core';

/** The repository root. */
export declare const ROOT: string;
/** esbuild plugin: `@deepspline/name` -> `packages/name/src/index.ts`. */
export declare const deepsplineSources: Plugin;
/** Bundles `entry` and its imports into one browser script (IIFE). */
export declare function bundle(entry: string): Promise<string>;
/** An open page of headless Chromium. */
export interface BrowserPage {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions of the page so far. */
  errors: string[];
  /** Closes the browser. */
  close(): Promise<void>;
}
/**
 * Launches headless Chromium and runs the bundle of `entry` in an empty page served from
 * `http://localhost/` (a secure context, as WebGPU needs); `args` are extra Chromium flags.
 */
export declare function openPage(entry: string, options?: {args?: string[]}): Promise<BrowserPage>;
