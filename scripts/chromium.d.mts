import type {Browser} from 'playwright-core';

/** Where Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export declare function chromiumPath(): string;
/** Launches headless Chromium (SwiftShader WebGL) with the flags this machine needs. */
export declare function launchChromium(options?: {args?: string[]}): Promise<Browser>;
/** The extra Chromium flags for WebGPU (a SwiftShader adapter, in secure contexts). */
export declare const WEBGPU_ARGS: string[];
