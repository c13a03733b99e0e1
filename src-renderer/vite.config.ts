// Vite build of the renderer: React + Tailwind, relative asset paths (the Electron app loads it
// from app://, `domus serve` from its own origin), output in dist/renderer.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  base: './',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: new URL('../dist/renderer', import.meta.url).pathname,
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    // Slow plugin warnings are noise on a loaded 2-core machine.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
