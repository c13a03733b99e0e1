// Re-exports the two functions Domus uses from the npm package lzma1 (MIT). The package publishes
// its TypeScript sources as its types, and those do not compile under this project's stricter
// compiler flags; lzma1-bridge.d.ts declares the same functions so the type checker never opens
// the package's sources, while esbuild and Vitest load this file and the package's built JS.
export { compress, decompress } from 'lzma1';
