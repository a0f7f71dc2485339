import { defineConfig } from "vite";

// The dashboard is served by omniflow itself at /, so asset URLs are absolute (/assets/...).
export default defineConfig({
  base: "/",
  build: { target: "es2020", sourcemap: false, assetsInlineLimit: 0, chunkSizeWarningLimit: 300 },
  server: { proxy: { "/api": "http://127.0.0.1:7071" } },
});
