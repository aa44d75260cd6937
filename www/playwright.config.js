// Playwright drives Debian's chromium (Playwright cannot download browsers here).
// WebGPU comes from SwiftShader, a CPU implementation, so the tests need no GPU.
import { defineConfig } from "@playwright/test";

const port = 8181;

export default defineConfig({
  testDir: "tests",
  outputDir: "../artifacts/playwright",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Tests start without a service worker, so that no cache outlives a test and route
    // interception sees every request; the offline test turns it on.
    serviceWorkers: "block",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu-sandbox",
        "--enable-unsafe-webgpu",
        "--use-webgpu-adapter=swiftshader",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: `python3 ../scripts/serve.py --root . --port ${port}`,
    url: `http://127.0.0.1:${port}/index.html`,
    reuseExistingServer: false,
  },
});
