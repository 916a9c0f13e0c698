// Playwright drives Debian's Chromium (never a downloaded browser) against a live `mhp serve`
// started by scripts/check-pages.sh, which passes its address and the demo's sign-ins.
const { defineConfig } = require("@playwright/test");

module.exports = defineConfig({
  testDir: "tests",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: process.env.MHP_BROWSER_OUT ? `${process.env.MHP_BROWSER_OUT}/results` : "test-results",
  use: {
    baseURL: process.env.MHP_BASE_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    viewport: { width: 1280, height: 900 },
  },
});
