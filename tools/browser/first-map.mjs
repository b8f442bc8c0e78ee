// How long the viewer takes to draw its first map, in headless chromium:
//
//   node tools/browser/first-map.mjs BASE_URL [RUNS]
//
// Each run is a fresh browser context (empty cache), so each pays for the map library too.
// Prints the median of each of the page's marks (ms from the start of the navigation):
// library loaded, territory read, map made (WebGL context), first map drawn (`idle`).
import { chromium } from 'playwright-core';

const [base, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 7);
const browser = await chromium.launch({
  executablePath: process.env.DOMANIA_CHROMIUM || '/usr/bin/chromium',
  args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
});
const samples = {};
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  const marks = await page.evaluate(() => Object.fromEntries([
    ['dom_content_loaded', performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd],
    ...performance.getEntriesByType('mark').filter((m) => m.name.startsWith('domania:')).map((m) => [m.name.slice(8), m.startTime]),
  ]));
  for (const [k, v] of Object.entries(marks)) (samples[k] ||= []).push(v);
  await ctx.close();
}
await browser.close();
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return Math.round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};
console.log(JSON.stringify({ runs, median_ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) }));
