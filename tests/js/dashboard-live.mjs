// Drives the live dashboard of a running `robotctl run` in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core; no browser download): the camera image must change, E-STOP must latch and the page must show it.
// Usage: node dashboard-live.mjs <page-url> <screenshot.png>
// Prints one JSON line with what it saw; exit 0 when every step was observed, 1 otherwise (the reason on stderr).
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node dashboard-live.mjs <page-url> <screenshot.png>");
  process.exit(2);
}
const executablePath = process.env.ROBOTCTL_CHROMIUM || "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "robotctl-chromium-"));
const timeout = 30_000; // generous: every step waits for something observable, never for a fixed time

let browser;
try {
  // A fresh profile, nothing phoning home: the page must work offline.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
  });
  browser = context;
  const page = context.pages()[0] ?? await context.newPage();
  const external = [], pageErrors = [];
  // A script error on the page fails the run at once, with the error, instead of as a timeout later.
  let failPage;
  const pageFailed = new Promise((_, reject) => { failPage = reject; });
  pageFailed.catch(() => {});
  page.on("pageerror", (e) => { pageErrors.push(String(e)); failPage(new Error("script error on the page: " + e)); });
  const orFail = (p) => Promise.race([p, pageFailed]);
  page.on("request", (r) => { if (!r.url().startsWith(new URL(url).origin)) external.push(r.url()); });
  await page.goto(url, { timeout });

  // The camera image: loaded once, then replaced by a newer frame (its data-version is the loop's cycle count).
  const camera = page.locator("#camera");
  await orFail(page.waitForFunction(() => { const i = document.getElementById("camera"); return Number(i.dataset.version) > 0 && i.naturalWidth > 0; }, null, { timeout }));
  const first = Number(await camera.getAttribute("data-version"));
  const firstSrc = await camera.getAttribute("src");
  await orFail(page.waitForFunction((v) => Number(document.getElementById("camera").dataset.version) > v, first, { timeout }));
  const second = Number(await camera.getAttribute("data-version"));
  const secondSrc = await camera.getAttribute("src");
  const goalWidth = await page.locator("#goal-image").evaluate((i) => i.complete ? i.naturalWidth : 0);

  // E-STOP: the page must show the latch as the server reports it (the state pill is set from the event stream only).
  await page.click("#estop", { timeout });
  await orFail(page.waitForFunction(() => document.getElementById("estop-state").textContent === "E-STOP LATCHED", null, { timeout }));
  const statusUrl = new URL("/api/status", url);
  statusUrl.search = new URL(url).search;
  const status = await page.evaluate(async (u) => (await fetch(u)).json(), statusUrl.toString());
  const bannerVisible = await page.locator("#banner").isVisible();
  const estopText = await page.locator("#estop-state").textContent();
  await page.screenshot({ path: screenshot, fullPage: true });

  // The live page links to the episode being recorded: the browser's scrubber over its steps.
  await page.click("#episode a", { timeout });
  await orFail(page.waitForFunction(() => !document.getElementById("detail").hidden && document.getElementById("frame").naturalWidth > 0, null, { timeout }));
  const firstStep = await page.locator("#step").textContent();
  const lastIndex = Number(await page.locator("#scrub").getAttribute("max"));
  await page.locator("#scrub").evaluate((el, v) => { el.value = String(v); el.dispatchEvent(new Event("input")); }, lastIndex);
  await orFail(page.waitForFunction((s) => document.getElementById("step").textContent !== s && document.getElementById("frame").complete
    && document.getElementById("frame").naturalWidth > 0, firstStep, { timeout }));
  const scrubbed = { firstStep, lastStep: await page.locator("#step").textContent(), lastIndex, frameSrc: await page.locator("#frame").getAttribute("src") };
  await page.screenshot({ path: screenshot.replace(/\.png$/, "") + "-episode.png", fullPage: true });

  console.log(JSON.stringify({ first, second, firstSrc, secondSrc, goalWidth, estopText, bannerVisible, status, scrubbed, external, pageErrors }));
  await context.close();
  browser = null;
} catch (e) {
  console.error(String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
