// Launches Debian's Chromium headless through playwright-core, with the flags this machine
// needs (no sandbox as root, no background networking: the network is closed). Shared by
// every browser test and browser benchmark.
import {existsSync} from 'node:fs';
import {chromium} from 'playwright-core';

/** Where Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath() {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: install Debian's chromium package ` +
      `(apt-get install chromium; .ci/run does this) or set CHROMIUM_PATH`);
  }
  return path;
}

/**
 * The extra flags for WebGPU: Debian's Chromium 156 headless then offers a SwiftShader
 * adapter (a CPU emulation of a GPU, `adapter.info.architecture === 'swiftshader'`) to pages
 * in a secure context (test-browser/harness.mjs serves them from http://localhost/).
 * `--enable-features=Vulkan` and `--use-webgpu-adapter=swiftshader` change nothing here.
 */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

/**
 * Launches headless Chromium. WebGL runs on SwiftShader (a CPU emulation of a GPU), as on
 * any machine without a GPU.
 * @param {{args?: string[]}} [options]
 */
export async function launchChromium(options = {}) {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      ...(options.args ?? []),
    ],
  });
}
