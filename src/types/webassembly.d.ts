// The slice of the WebAssembly JS API that wasm.ts uses (@types/node 20 leaves it to lib.dom).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array)
    static imports(m: Module): { module: string; name: string; kind: string }[]
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>)
    readonly exports: Record<string, unknown>
  }
  class Memory {
    readonly buffer: ArrayBuffer
  }
}
