import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const server = process.env.CYBROS_DEV_SERVER ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: { "/api": server, "/up": server, "/mock_llm": server },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
