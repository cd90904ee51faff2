/**
 * The few WebAssembly JS-API types the backend uses. tslab compiles notebook imports without the DOM library,
 * where TypeScript keeps the `WebAssembly` namespace, so lib code must not name `WebAssembly.*` types directly.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

export interface WasmGlobal {
  value: number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

/** The runtime's WebAssembly object (Node has it globally). */
export const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
