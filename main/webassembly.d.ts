// main/ compiles without the DOM lib, which is where TypeScript declares WebAssembly; Node provides the same
// globals at run time. Only what main/ uses is declared here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    /** Grows the memory by `pages` of 64 KiB; returns the previous size in pages. */
    grow(pages: number): number;
  }
}
