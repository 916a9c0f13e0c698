// Lighthouse 12 on the pages people open most (sign-in, team dashboard, athlete page) of the
// demo organisation, signed in as its clinician. Chromium (Debian's) is started by Playwright
// with a remote-debugging port; Lighthouse audits through that port in the same profile, so the
// session cookie carries (storage is not reset). Prints each page's scores and fails when
// performance, accessibility or best practices is below MIN (default 95). Reports, as JSON,
// go to MHP_BROWSER_OUT.
//
//   MHP_BASE_URL=… MHP_DEMO_OUT=… node lighthouse.mjs
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "@playwright/test";
import lighthouse from "lighthouse";

const BASE = process.env.MHP_BASE_URL;
const OUT = process.env.MHP_BROWSER_OUT || "test-results";
const MIN = Number(process.env.MIN_SCORE || 95);
const demo = fs.readFileSync(process.env.MHP_DEMO_OUT, "utf8");
const [, email, password] = /^ {2}clinician\s+(\S+)\s+(\S+)$/m.exec(demo);
const port = 9300 + Math.floor(Math.random() * 500);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mhp-lighthouse-"));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    `--remote-debugging-port=${port}`,
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
const targets = [["sign-in", `${BASE}/sign-in`]];
await page.goto(`${BASE}/sign-in`);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(/\/teams\//);
targets.push(["dashboard", page.url()]);
targets.push(["athlete", new URL(await page.locator("table#roster tbody tr th a").first().getAttribute("href"), BASE).href]);

let failed = false;
fs.mkdirSync(OUT, { recursive: true });
for (const [name, url] of targets) {
  // A run whose trace Chromium did not record (NO_NAVSTART, NO_FCP, …) scores nothing and says
  // to run again: it is run again, up to twice, and reported as such; scores are never retried.
  let result;
  for (let attempt = 1; attempt <= 3; attempt++) {
    result = await lighthouse(
      url,
      { port, output: "json", logLevel: "error", disableStorageReset: true },
      {
        extends: "lighthouse:default",
        settings: { onlyCategories: ["performance", "accessibility", "best-practices"] },
      },
    );
    if (!result.lhr.runtimeError) break;
    console.log(`lighthouse ${name}: ${result.lhr.runtimeError.code} on attempt ${attempt}`);
  }
  fs.writeFileSync(path.join(OUT, `lighthouse-${name}.json`), result.report);
  const scores = Object.fromEntries(
    Object.entries(result.lhr.categories).map(([k, c]) => [k, Math.round(c.score * 100)]),
  );
  const low = Object.entries(scores).filter(([, s]) => s < MIN);
  console.log(
    `lighthouse ${name.padEnd(10)} performance ${scores.performance}  accessibility ${scores.accessibility}  best-practices ${scores["best-practices"]}${low.length ? "  BELOW " + MIN : ""}`,
  );
  if (low.length) {
    failed = true;
    for (const a of Object.values(result.lhr.audits)) {
      if (a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== "informative") {
        console.log(`  ${a.id}: ${a.title} (${a.displayValue ?? a.score})`);
      }
    }
  }
}
await context.close();
fs.rmSync(profile, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
