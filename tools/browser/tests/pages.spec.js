// MHP's pages in Chromium against a live `mhp serve` holding the demo organisation
// (scripts/check-pages.sh starts both and passes MHP_BASE_URL and MHP_DEMO_OUT). Every page
// visited is checked by axe-core (WCAG 2.1 A and AA) and photographed under MHP_BROWSER_OUT.
const { test, expect } = require("@playwright/test");
const AxeBuilder = require("@axe-core/playwright").default;
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const jsQR = require("jsqr");
const { PNG } = require("pngjs");

const OUT = process.env.MHP_BROWSER_OUT || "test-results";
const demo = fs.readFileSync(process.env.MHP_DEMO_OUT, "utf8");
const ORG = /^organisation: .* \(([0-9a-f-]+)\)$/m.exec(demo)[1];
const PEOPLE = {};
for (const m of demo.matchAll(/^ {2}(\w+)\s+(\S+@\S+)\s+(\S+)$/gm)) {
  PEOPLE[m[1]] = { email: m[2], password: m[3] };
}

// What each role's main navigation holds, exactly.
const NAV = {
  org_admin: ["Dashboard", "Athletes", "Upload", "Injuries", "Reports", "Datasets", "Models", "Pipelines", "Audit log", "Security", "Settings"],
  clinician: ["Dashboard", "Athletes", "Upload", "Injuries", "Reports"],
  coach: ["Dashboard", "Athletes", "Reports"],
  athlete: ["My results"],
  auditor: ["Audit log", "Security", "Start"],
  data_scientist: ["Datasets", "Models", "Pipelines", "Start"],
};

async function checkA11y(page, name) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const found = results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
  expect(found, `axe on ${name}`).toEqual([]);
}

async function shot(page, name) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function signIn(page, role) {
  const who = PEOPLE[role];
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("load");
}

// The link to `page` in the newest message to `to` in the demo's outbox, or null.
function linkIn(to, page) {
  const dir = path.join(process.env.MHP_DATA_DIR, "outbox");
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  let found = null;
  for (const f of files) {
    const m = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    if (m.to !== to) continue;
    const line = m.body.split("\n").find((l) => l.includes(`${page}?token=`));
    if (line) found = line.trim();
  }
  return found;
}

async function navNames(page) {
  return page.getByRole("navigation", { name: "Main" }).getByRole("link").allInnerTexts();
}

// RFC 6238 with SHA-1, 30 s steps, 6 digits: what an authenticator app shows.
function totp(base32, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = crypto.createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

test.describe.configure({ mode: "serial" });

// One test per role: each visits every page of its navigation with axe and a full-page
// screenshot, which takes a while on two loaded cores.
for (const role of Object.keys(NAV)) {
  test(`${role} signs in and sees exactly its pages, each accessible`, async ({ page }) => {
    await signIn(page, role);
    await expect(page.locator("h1")).toHaveCount(1);
    expect(await navNames(page), role).toEqual(NAV[role]);
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
    await checkA11y(page, `${role} start`);
    await shot(page, `start-${role}`);
    // Every page of the navigation opens, with one heading, and passes axe.
    for (const name of NAV[role]) {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
      await expect(page.locator("h1")).toHaveCount(1);
      await checkA11y(page, `${role} ${name}`);
      await shot(page, `${role}-${name.toLowerCase().replace(/ /g, "-")}`);
    }
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
  });
}

test("the sign-in page is accessible", async ({ page }) => {
  await page.goto("/sign-in");
  await checkA11y(page, "sign-in");
  await shot(page, "sign-in");
});

test("a clinician uploads a recording and reads its curve and metrics", async ({ page }) => {
  await signIn(page, "clinician");
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}/teams/`));
  await checkA11y(page, "dashboard");
  await shot(page, "dashboard");
  const first = page.locator("table#roster tbody tr").first().locator("th a");
  const name = await first.innerText();
  await page.getByRole("link", { name: "Upload" }).click();
  await page.getByLabel("Athlete", { exact: true }).selectOption({ label: name });
  // A crude countermovement jump at 1000 Hz: stand, dip, push, fly, land, stand.
  const f = [];
  for (let i = 0; i < 2000; i++) f.push(800);
  for (let i = 0; i < 350; i++) f.push(800 - 360 * Math.sin((Math.PI * i) / 350) ** 2);
  for (let i = 0; i < 550; i++) f.push(800 + 1000 * Math.sin((Math.PI * i) / 550) ** 2);
  for (let i = 0; i < 500; i++) f.push(0);
  for (let i = 0; i < 400; i++) f.push(800 + 1500 * Math.sin((Math.PI * i) / 400) ** 2);
  for (let i = 0; i < 2000; i++) f.push(800);
  const csv = ["# sample_rate_hz: 1000", "time_s,fz_n", ...f.map((v, i) => `${(i / 1000).toFixed(3)},${v.toFixed(2)}`)].join("\n");
  await page.getByLabel("Files").setInputFiles([
    { name: "jump.csv", mimeType: "text/csv", buffer: Buffer.from(csv) },
    { name: "empty.csv", mimeType: "text/csv", buffer: Buffer.from("time_s,fz_n\n") },
  ]);
  await page.getByRole("button", { name: "Upload and analyse" }).click();
  await expect(page.locator("ul.outcomes li.ok")).toContainText("jump.csv");
  await expect(page.locator("ul.outcomes li.bad")).toContainText("empty.csv");
  await checkA11y(page, "upload results");
  await shot(page, "upload");
  await page.getByRole("link", { name: "Open the athlete's page" }).click();
  await expect(page.locator("h1")).toHaveText(name);
  await expect(page.locator("svg title", { hasText: "Force-time curve" })).toHaveCount(1);
  const height = await page.locator("table.metrics tbody tr").first().locator("td").first().innerText();
  expect(Number(height)).toBeGreaterThan(5);
  await checkA11y(page, "athlete");
  await shot(page, "athlete");
  // An injury takes the athlete out; return to duty brings them back, on the dashboard too.
  const athleteUrl = page.url();
  const rowOnDashboard = async () => {
    await page.getByRole("link", { name: "Dashboard" }).click();
    const teams = page.getByRole("navigation", { name: "Teams" }).getByRole("link");
    for (let i = 0; i < (await teams.count()); i++) {
      await teams.nth(i).click();
      const row = page.locator("table#roster tbody tr", { has: page.getByRole("link", { name, exact: true }) });
      if ((await row.count()) === 1) return row;
    }
    throw new Error(`${name} is on no team`);
  };
  await page.getByText("Record an injury").click();
  await page.getByLabel("Body region").selectOption("hamstring");
  await page.getByLabel("Injury type").selectOption("muscle_strain");
  await page.getByLabel("Side", { exact: true }).selectOption("left");
  await page.getByLabel("Mechanism").selectOption("non_contact");
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel("Occurred on").fill(today);
  // Neither severity nor time loss: refused in words, nothing recorded.
  await page.getByRole("button", { name: "Record injury" }).click();
  await expect(page.locator("#injury-error")).toContainText("Give severity or time loss days");
  await expect(page.locator("p.lead .pill")).toHaveText("Available");
  await page.getByLabel("Days of time loss (if known)").fill("10");
  await page.getByRole("button", { name: "Record injury" }).click();
  await expect(page.locator("p.lead .pill")).toHaveText("Unavailable");
  await checkA11y(page, "athlete with an injury");
  await expect((await rowOnDashboard()).locator("td").first()).toHaveText("Unavailable");
  await page.goto(athleteUrl);
  for (const [stage, expected] of [["rehabilitation", "Unavailable"], ["modified_duty", "Modified duty"], ["cleared", "Available"]]) {
    await page.getByText("Record a decision").click();
    await page.getByLabel("Stage").selectOption(stage);
    await page.getByLabel("Decided on").fill(today);
    await page.getByRole("button", { name: "Record decision" }).click();
    await expect(page.locator("p.lead .pill")).toHaveText(expected);
  }
  await expect((await rowOnDashboard()).locator("td").first()).toHaveText("Available");
  await page.goto(athleteUrl);
  await shot(page, "athlete-injury");

  // The athlete report prints on one or two pages of A4 and of Letter; its text holds the
  // metric shown on the page.
  await page.getByRole("link", { name: "Athlete report to print" }).click();
  await expect(page.locator("h1")).toHaveText(`Athlete report: ${name}`);
  await checkA11y(page, "athlete report");
  await shot(page, "athlete-report");
  await printed(page, "athlete-report", [name, height, "Jump height"]);
  await page.getByRole("link", { name: "Reports" }).click();
  await checkA11y(page, "reports");
  await page.locator("main ul a").first().click();
  await expect(page.locator("h1")).toContainText("Team report: ");
  await checkA11y(page, "team report");
  await shot(page, "team-report");
  await printed(page, "team-report", ["Team report", name]);
});

// What has the keyboard's focus: its element, id, accessible text and whether its focus ring
// shows.
async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      text: (e.labels && e.labels[0] ? e.labels[0].innerText : e.innerText || "").trim(),
      ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    };
  });
}

// Presses Tab until `wanted` holds for the focused element (at most `max` times); every stop on
// the way shows its focus ring.
async function tabTo(page, wanted, what, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    if (f.tag !== "body") expect(f.ring, `focus ring on ${f.tag}#${f.id} "${f.text}"`).toBe(true);
    if (wanted(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

test("a clinician signs in, moves between pages and compares two jumps with the keyboard alone", async ({ page }) => {
  const who = PEOPLE.clinician;
  await page.goto("/sign-in");
  await tabTo(page, (f) => f.text === "Email", "the Email field");
  await page.keyboard.type(who.email);
  await tabTo(page, (f) => f.text === "Password", "the Password field");
  await page.keyboard.type(who.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}/teams/`));
  // The skip link leads past the navigation to the page's content.
  const skip = await tabTo(page, (f) => f.tag === "a" && /skip/i.test(f.text), "the skip link");
  expect(skip.text).toBe("Skip to content");
  await tabTo(page, (f) => f.tag === "a" && f.text === "Athletes", "the Athletes link");
  await page.keyboard.press("Enter");
  await expect(page.locator("h1")).toHaveText("Athletes");
  await tabTo(page, (f) => f.tag === "a" && f.text === "Dashboard", "the Dashboard link");
  await page.keyboard.press("Enter");
  await expect(page.locator("h1")).toHaveText("Dashboard");
  // The roster's first athlete, opened from the keyboard.
  const name = (await page.locator("table#roster tbody tr").first().locator("th a").innerText()).trim();
  await tabTo(page, (f) => f.tag === "a" && f.text === name, `the link to ${name}`, 200);
  await page.keyboard.press("Enter");
  await expect(page.locator("h1")).toHaveText(name);
  // Two jumps chosen and compared: the second select moved one jump back with an arrow key.
  await tabTo(page, (f) => f.id === "jump-a", "the first jump", 200);
  await tabTo(page, (f) => f.id === "jump-b", "the second jump");
  await page.keyboard.press("ArrowDown");
  await tabTo(page, (f) => f.tag === "button" && f.text === "Compare", "the Compare button");
  await page.keyboard.press("Enter");
  await expect(page.locator("svg title", { hasText: "Two jumps compared" })).toHaveCount(1);
  await checkA11y(page, "athlete with two jumps compared");
  await shot(page, "athlete-compare");
});

// Prints the page on A4 and Letter: at most two pages each, holding every text of `holds`.
async function printed(page, name, holds) {
  await page.emulateMedia({ media: "print" });
  for (const format of ["A4", "Letter"]) {
    const pdf = path.join(OUT, `${name}-${format}.pdf`);
    await page.pdf({ path: pdf, format, printBackground: true });
    const text = execFileSync("pdftotext", ["-layout", pdf, "-"]).toString();
    for (const h of holds) expect(text, `${name} ${format}`).toContain(h);
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [pdf]).toString())[1]);
    expect(pages, `${name} on ${format}`).toBeLessThanOrEqual(2);
  }
  await page.emulateMedia({ media: "screen" });
}

test("a coach sees only their team; another team's athlete is not found", async ({ page, browser }) => {
  // The clinician reaches every team: collect an athlete of each.
  const clinician = await browser.newPage();
  await signIn(clinician, "clinician");
  const teams = await clinician.getByRole("navigation", { name: "Teams" }).getByRole("link").all();
  const perTeam = [];
  for (const t of teams) {
    await t.click();
    await clinician.waitForLoadState("load");
    const a = clinician.locator("table#roster tbody tr th a").first();
    perTeam.push({ team: await clinician.locator("h2.team-name").innerText(), href: await a.getAttribute("href"), name: await a.innerText() });
  }
  await clinician.close();
  expect(perTeam.length).toBeGreaterThan(1);

  await signIn(page, "coach");
  await expect(page.getByRole("navigation", { name: "Teams" })).toHaveCount(0);
  const mine = await page.locator("h2.team-name").innerText();
  for (const other of perTeam) {
    const res = await page.goto(other.href);
    if (other.team === mine) {
      expect(res.status()).toBe(200);
    } else {
      expect(res.status(), other.team).toBe(404);
      await expect(page.locator("body")).not.toContainText(other.name);
    }
  }
  await checkA11y(page, "not found");
});

test("an athlete sees only themself; an auditor and a data scientist see no names", async ({ page, browser }) => {
  const clinician = await browser.newPage();
  await signIn(clinician, "clinician");
  const names = await clinician.locator("table#roster tbody tr th a").allInnerTexts();
  await clinician.close();

  await signIn(page, "athlete");
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}/me$`));
  const me = await page.locator("h1").innerText();
  await checkA11y(page, "my results");
  await shot(page, "my-results");
  // Their own record, as JSON and as a FHIR R4 Bundle, with their session.
  for (const [name, check] of [
    ["Download my record (JSON)", (d) => expect(d.format).toBe("mhp-subject-record/1")],
    ["Download my record (FHIR)", (d) => expect(d.resourceType).toBe("Bundle")],
  ]) {
    const href = await page.getByRole("link", { name }).getAttribute("href");
    const res = await page.request.get(href);
    expect(res.status(), name).toBe(200);
    check(await res.json());
  }
  expect((await page.goto(`/orgs/${ORG}`)).status()).toBe(403);
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).click();

  for (const role of ["auditor", "data_scientist"]) {
    await signIn(page, role);
    if (role === "auditor") {
      // The audit log: the clinician's reads are there, by account id, not by name.
      await expect(page.locator("h1")).toHaveText("Audit log");
      await page.getByLabel("Action").fill("subject.read");
      await page.getByRole("button", { name: "Filter" }).click();
      await expect(page.locator("table.audit tbody tr").first()).toContainText("subject.read");
      await checkA11y(page, "audit log");
      await shot(page, "audit-log");
      await page.getByRole("button", { name: "Verify the chain" }).click();
      await expect(page.getByRole("status")).toContainText("Verified:");
    }
    const text = await page.locator("body").innerText();
    for (const n of names.filter((n) => n !== me)) {
      expect(text, role).not.toContain(n);
    }
    expect((await page.goto(`/orgs/${ORG}`)).status(), role).toBe(403);
    await page.goto("/");
    await page.getByRole("button", { name: "Sign out" }).click();
  }
});

test("a data scientist trains the risk model from Pipelines and reads it under Models", async ({ page, browser }) => {
  const clinician = await browser.newPage();
  await signIn(clinician, "clinician");
  const names = await clinician.locator("table#roster tbody tr th a").allInnerTexts();
  await clinician.close();
  await signIn(page, "data_scientist");
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}/models$`));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
  await page.getByRole("button", { name: "Start a run of train-injury-risk" }).click();
  await expect(page.locator("h1")).toHaveText("Run of train-injury-risk");
  // The embedded workers run it; the page shows where it is at each reload.
  await expect.poll(async () => {
    await page.reload();
    return page.locator("p.lead .pill").innerText();
  }, { timeout: 60000 }).toMatch(/succeeded|failed/);
  await expect(page.locator("p.lead .pill")).toHaveText("succeeded");
  await expect(page.getByRole("table").first()).toContainText("register");
  await expect(page.locator("table.log")).toContainText("ROC AUC");
  await checkA11y(page, "pipeline run");
  await shot(page, "pipeline-run");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
  await expect(page.locator("h2").first()).toBeVisible();
  await expect(page.locator("figure.chart svg")).toHaveCount(1);
  await expect(page.locator("table").first()).toContainText("v1");
  await checkA11y(page, "models");
  await shot(page, "models");
  // The run's dataset, with the model trained on it, and its rows as CSV (pseudonyms only).
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Datasets" }).click();
  const newest = page.locator("table tbody tr").first();
  await expect(newest).toContainText("injury-risk v1");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    newest.getByRole("link", { name: /^Download/ }).click(),
  ]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  const [header, ...rows] = csv.trim().split("\n");
  expect(header.startsWith("subject,time,sex,sport,label,")).toBe(true);
  expect(rows.length).toBeGreaterThan(100);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(csv).not.toContain(name);
  await checkA11y(page, "datasets");
  await shot(page, "datasets");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
});

test("an administrator issues an API key from Settings, and the token is shown once and works", async ({ page, request }) => {
  await signIn(page, "org_admin");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.locator("h1")).toHaveText("Settings");
  await page.getByLabel("Key name").fill("Plate in the gym");
  await page.getByLabel("Role", { exact: true }).last().selectOption("clinician");
  await page.getByLabel("Days until it expires").fill("7");
  await page.getByRole("button", { name: "Issue the key" }).click();
  await expect(page.locator("h1")).toHaveText("API key issued");
  await checkA11y(page, "API key issued");
  await shot(page, "api-key-issued");
  const token = (await page.locator("code.key").innerText()).trim();
  const listed = await request.get(`/api/v1/orgs/${ORG}/subjects`, { headers: { authorization: `Bearer ${token}` } });
  expect(listed.status()).toBe(200);
  await page.getByRole("link", { name: "Back to the settings" }).click();
  await expect(page.locator("body")).not.toContainText(token);
  await page.getByRole("button", { name: "Revoke Plate in the gym" }).click();
  await expect(page.getByRole("status")).toHaveText("The API key is revoked.");
  const refused = await request.get(`/api/v1/orgs/${ORG}/subjects`, { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
});

test("a newcomer accepts an invitation and resets a forgotten password through the links in their messages", async ({ page, request }) => {
  // The administrator invites through the API, as an integration would; the message goes to
  // the outbox of the demo's data directory.
  const admin = PEOPLE.org_admin;
  const login = await request.post("/api/v1/auth/login", { data: { email: admin.email, password: admin.password } });
  expect(login.status()).toBe(200);
  const csrf = (await login.json()).csrf_token;
  const newcomer = "newcomer@" + admin.email.split("@")[1];
  const invited = await request.post(`/api/v1/orgs/${ORG}/invitations`, {
    headers: { "x-csrf-token": csrf },
    data: { email: newcomer, role: "coach" },
  });
  expect(invited.status()).toBe(201);

  await page.goto(await linkIn(newcomer, "/invitation"));
  await expect(page.locator("h1")).toHaveText("Accept your invitation");
  await expect(page.locator("p.lead")).toContainText("as a coach");
  await checkA11y(page, "invitation");
  await shot(page, "invitation");
  const first = "a newcomer's first passphrase";
  await page.getByLabel("Your name").fill("Nia Newcomer");
  await page.getByLabel("Password", { exact: true }).fill(first);
  await page.getByLabel("Repeat the password").fill(first);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.locator("h1")).toContainText("Welcome to");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(newcomer);
  await page.getByLabel("Password").fill(first);
  await page.getByRole("button", { name: "Sign in" }).click();
  expect(await navNames(page)).toEqual(NAV.coach);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  // Forgotten: the sign-in page leads to the reset, the message to the new password.
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page.locator("h1")).toHaveText("Reset your password");
  await checkA11y(page, "password reset");
  await page.getByLabel("Email").fill(newcomer);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByRole("status")).toContainText("on its way");
  await shot(page, "password-reset-sent");
  await expect.poll(() => linkIn(newcomer, "/password-reset/new"), { timeout: 10000 }).not.toBeNull();
  await page.goto(linkIn(newcomer, "/password-reset/new"));
  await expect(page.locator("h1")).toHaveText("Choose a new password");
  await checkA11y(page, "new password");
  await shot(page, "password-new");
  const second = "a newcomer's second passphrase";
  await page.getByLabel("New password").fill(second);
  await page.getByLabel("Repeat the password").fill(second);
  await page.getByRole("button", { name: "Set the password" }).click();
  await expect(page.locator("h1")).toHaveText("Password changed");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(newcomer);
  await page.getByLabel("Password").fill(second);
  await page.getByRole("button", { name: "Sign in" }).click();
  expect(await navNames(page)).toEqual(NAV.coach);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  // Single sign-on is found from the address's domain; the demo organisation has none.
  await page.getByRole("link", { name: "Sign in with your organisation" }).click();
  await expect(page.locator("h1")).toHaveText("Sign in with your organisation");
  await page.getByLabel("Email").fill(newcomer);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("No organisation signs in people of this e-mail domain");
  await checkA11y(page, "sign in with your organisation");
  await shot(page, "sign-in-sso");
});

test("a person sets up an authenticator by its QR code, then signs in with their code", async ({ page }) => {
  await signIn(page, "org_admin");
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.locator("h1")).toHaveText("Your account");
  await checkA11y(page, "account");
  await shot(page, "account");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.locator("h1")).toHaveText("Set up an authenticator app");
  await checkA11y(page, "authenticator");
  await shot(page, "authenticator");
  // The QR code is read by an independent decoder (jsQR) from Chromium's rendering of it.
  const png = PNG.sync.read(await page.locator("svg.qr").screenshot());
  const read = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(read, "the QR code decodes").not.toBeNull();
  const uri = new URL(read.data);
  expect(uri.protocol).toBe("otpauth:");
  expect(decodeURIComponent(uri.pathname)).toContain(PEOPLE.org_admin.email);
  const secret = uri.searchParams.get("secret");
  const typed = (await page.locator("code.key").innerText()).replace(/\s/g, "");
  expect(secret).toBe(typed);
  // Confirmed with the previous step's code (the server allows one step of drift), so that
  // the current step's code is still fresh for the sign-in below: a code is good once.
  await page.getByLabel("Authentication code").fill(totp(secret, Date.now() - 30000));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.locator("h1")).toHaveText("Save your recovery codes");
  await expect(page.locator("ul.codes li")).toHaveCount(10);
  await checkA11y(page, "recovery codes");
  await shot(page, "recovery-codes");
  await page.getByRole("link", { name: "Continue to MHP" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  await signIn(page, "org_admin");
  await expect(page).toHaveURL(/\/sign-in\/code$/);
  await expect(page.locator("h1")).toHaveText("Authentication code");
  await checkA11y(page, "authentication code");
  await shot(page, "sign-in-code");
  const wrong = ["000000", "111111", "222222"].find((c) => ![-30000, 0, 30000].some((d) => totp(secret, Date.now() + d) === c));
  await page.getByLabel("Authentication code").fill(wrong);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");
  await page.getByLabel("Authentication code").fill(totp(secret));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}/teams/`));
  expect(await navNames(page)).toEqual(NAV.org_admin);
});
