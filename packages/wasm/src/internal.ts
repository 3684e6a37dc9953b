/**
 * `@deepspline/wasm/internal`: the WebAssembly programs of the kernels (their exports,
 * compilation and instantiation on a memory) and the reach into the wasm backend's heap, for
 * backend authors and the package's own tests; not part of the user-facing API.
 *
 * @packageDocumentation
 */
export {checkTableBytes} from './kernels.js';
export {compiledModule, instanceOn, isSharedMemory} from './programs.js';
export type {SplineExports} from './programs.js';
export {backendMemory} from './tfjs_internals.js';
export type {EmscriptenModuleLike, WasmBackendLike} from './tfjs_internals.js';
