// The first view of a store, in headless chromium, as a SIG officer sees it after a first
// import: which view opens, at what zoom, how many parcels it draws, what the page says.
//
//   node tools/browser/first-view.mjs BASE_URL OUT_DIR [QUERY…]
//
// Each QUERY is then typed in the search box and sent with Enter, as a user would: the summary
// says what the first hit was and which space the answer that opened is about.
// Prints a JSON summary; exits 1 when the map draws no parcel.
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, out, ...queries] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.DOMANIA_CHROMIUM || '/usr/bin/chromium',
  args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
});
let failed = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'fr-FR' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  await page.evaluate(() => new Promise((res) => {
    const m = window.domania.map;
    if (m.loaded() && m.areTilesLoaded()) res(); else m.once('idle', res);
  }));
  const summary = await page.evaluate(() => {
    const m = window.domania.map;
    const layers = m.getStyle().layers.map((l) => l.id).filter((id) => ['parcels', 'parcels-outline'].includes(id));
    const parcels = new Set(m.queryRenderedFeatures({ layers }).map((f) => f.properties.idu).filter(Boolean));
    return {
      view: document.getElementById('view').value,
      zoom: Math.round(m.getZoom() * 10) / 10,
      parcels_drawn: parcels.size,
      status: document.getElementById('status').textContent.trim(),
      zoom_hint: document.getElementById('zoom-hint').hidden ? '' : document.getElementById('zoom-hint').textContent,
      missing: document.body.dataset.missing || '',
      legend: [...document.querySelectorAll('#legend-items li')].map((li) => li.textContent.trim()),
      // The map's bearings: sections and streets named in glyphs the server made.
      section_labels: m.getLayer('section-labels') ? m.queryRenderedFeatures({ layers: ['section-labels'] }).length : -1,
      street_labels: m.getLayer('street-labels') ? m.queryRenderedFeatures({ layers: ['street-labels'] }).length : -1,
      sections_drawn: m.getLayer('sections-outline') ? m.queryRenderedFeatures({ layers: ['sections-outline'] }).length : -1,
    };
  });
  await page.locator('#map').screenshot({ path: join(out, 'first-view.png') });
  summary.searches = [];
  for (const q of queries) {
    await page.evaluate(() => { delete document.body.dataset.found; delete document.body.dataset.answer; });
    await page.fill('#q', q);
    await page.press('#q', 'Enter');
    await page.waitForFunction(
      () => document.body.dataset.found || document.querySelector('#hits li.none'),
      null,
      { timeout: 30_000 },
    );
    const found = await page.evaluate(() => document.body.dataset.found || '');
    // A hit with a place opens its answer: wait for it.
    if (found.startsWith('address:') || found.startsWith('parcel:')) {
      await page.waitForFunction(() => document.body.dataset.answer, null, { timeout: 30_000 });
    }
    summary.searches.push(await page.evaluate((query) => ({
      query,
      found: document.body.dataset.found || '',
      first: document.querySelector('#hits [role=option]')?.textContent || document.getElementById('status').textContent.trim(),
      answer: document.body.dataset.answer || '',
      zoom: Math.round(window.domania.map.getZoom() * 10) / 10,
    }), q));
  }
  summary.errors = errors;
  failed = summary.parcels_drawn === 0 || errors.length > 0;
  console.log(JSON.stringify(summary));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
