/**
 * End-to-end tests of the demo and examples in Debian's Chromium (`/usr/bin/chromium`; browsers
 * are never downloaded). WebGPU runs through SwiftShader (software), so generations are kept tiny.
 * The server is `demo/serve.ts --test-hooks` (builds, then serves with COOP/COEP, a request log and
 * fault injection). Screenshots of each demo state go to e2e/artifacts/ (gitignored).
 *
 * Projects: `chromium` (WebGPU on, SwiftShader), `chromium-no-webgpu` (no WebGPU adapter), for the
 * wasm-path tests in e2e/*.nogpu.spec.ts.
 */
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.BITNET_E2E_PORT ?? 4317);
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];
const GPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-features=Vulkan'];

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  // Per test; generous for loaded machines (model loads take seconds on an idle one).
  timeout: 300_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never', outputFolder: 'test-results/e2e-report' }]] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: { executablePath: '/usr/bin/chromium', args: [...BASE_ARGS, ...GPU_ARGS] },
    navigationTimeout: 120_000,
    actionTimeout: 60_000,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    { name: 'chromium', testIgnore: /\.nogpu\.spec\.ts$/ },
    {
      name: 'chromium-no-webgpu',
      testMatch: /\.nogpu\.spec\.ts$/,
      // Without --enable-unsafe-webgpu, Linux Chromium exposes navigator.gpu but gives no adapter.
      use: { launchOptions: { executablePath: '/usr/bin/chromium', args: BASE_ARGS } },
    },
  ],
  webServer: {
    command: `node --import tsx demo/serve.ts --port ${PORT} --test-hooks`,
    url: `http://127.0.0.1:${PORT}/`,
    // BITNET_E2E_REUSE=1 uses a server you started (node --import tsx demo/serve.ts --port 4317 --test-hooks).
    reuseExistingServer: process.env.BITNET_E2E_REUSE === '1',
    timeout: 240_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
