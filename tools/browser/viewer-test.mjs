// The viewer in a real browser: Debian's chromium, headless, driven by playwright-core.
//
//   node tools/browser/viewer-test.mjs BASE_URL OUT_DIR EDITOR_TOKEN UPLOAD_FILE BAD_FILE
//
// Run by tests/viewer.rs against `domania serve` on the demo territory. Writes screenshots and
// the cahier's PDF in OUT_DIR, prints a JSON summary on standard output, and exits non-zero
// with the reason on the first check that fails.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, out, editorToken, uploadFile, badFile] = process.argv.slice(2);
if (!badFile) {
  console.error('usage: viewer-test.mjs BASE_URL OUT_DIR EDITOR_TOKEN UPLOAD_FILE BAD_FILE');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const host = new URL(base).host;
const summary = {};
const fail = (msg) => {
  throw new Error(msg);
};
const check = (cond, msg) => cond || fail(msg);

const api = async (path) => {
  const r = await fetch(new URL(path, base));
  check(r.ok, `${path}: ${r.status}`);
  return r.json();
};

// Every request a page makes must go to this server (data: and blob: URLs stay in the page).
const foreign = [];
function watch(page, name) {
  const errors = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:') && u.host !== host) foreign.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  // The refused uploads' 409 and 422 and the unknown sub-sector's 404 are expected (and
  // checked); any other error is not.
  page.on('console', (m) => m.type() === 'error' && !/status of (409|422|404)/.test(m.text()) && errors.push(`${name} console: ${m.text()}`));
  return errors;
}

// A screenshot of the map is a map, not a blank canvas: many colours, most pixels not the
// background. Decoded by the browser itself (a 2D canvas), so no PNG library is needed.
async function drawn(page, file) {
  const png = await page.locator('#map').screenshot({ path: join(out, file) });
  const stats = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let notBackground = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      // The style's background is #FAFAF7.
      if (Math.abs(d[i] - 0xfa) + Math.abs(d[i + 1] - 0xfa) + Math.abs(d[i + 2] - 0xf7) > 12) notBackground++;
    }
    return { width: c.width, height: c.height, colours: colours.size, drawn: notBackground / (d.length / 4) };
  }, png.toString('base64'));
  check(stats.colours >= 8 && stats.drawn > 0.1, `${file}: the map looks blank (${JSON.stringify(stats)})`);
  return stats;
}

const rendered = (page, layers) =>
  page.evaluate((ls) => window.domania.map.queryRenderedFeatures({ layers: ls }).map((f) => ({ layer: f.layer.id, props: f.properties })), layers);

const idle = (page) => page.evaluate(() => new Promise((res) => {
  const m = window.domania.map;
  if (m.loaded() && m.areTilesLoaded()) res(); else m.once('idle', res);
}));

const browser = await chromium.launch({
  executablePath: process.env.DOMANIA_CHROMIUM || '/usr/bin/chromium',
  // WebGL without a GPU: SwiftShader, Chromium's software renderer.
  args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
});
try {
  // ---- A report posted over Open311 before the page opens, away from the parcel clicked below.
  const t0 = await api('/v1/territory');
  const [fx0, fy0, fx1, fy1] = t0.focus;
  const at = { lon: fx0 + (fx1 - fx0) * 0.25, lat: fy0 + (fy1 - fy0) * 0.25 };
  // With a phone's photo, as a multipart form.
  const form = new FormData();
  for (const [k, v] of Object.entries({ api_key: editorToken, service_code: 'litter', lat: String(at.lat), long: String(at.lon), description: 'Papiers devant le local vélos' })) form.append(k, v);
  const photo = readFileSync(new URL('../../crates/domania-app/tests/fixtures/photo-with-exif.jpg', import.meta.url));
  form.append('media', new Blob([photo], { type: 'image/jpeg' }), 'IMG_0001.jpg');
  const posted = await fetch(new URL('/open311/v2/requests.json', base), { method: 'POST', body: form });
  const postedText = await posted.text();
  check(posted.status === 201, `posting a report: ${posted.status} ${postedText}`);
  const reportId = JSON.parse(postedText)[0].service_request_id;

  // ---- Desktop, 1,440 px.
  const desk = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'fr-FR' });
  const page = await desk.newPage();
  const errors = watch(page, 'desktop');
  await page.goto(base);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  // From the start of the navigation to the first map fully drawn (`idle`), in the page's clock.
  summary.first_map_ms = await page.evaluate(() => Object.fromEntries([
    ['dom_content_loaded', performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd],
    ...performance.getEntriesByType('mark').filter((m) => m.name.startsWith('domania:')).map((m) => [m.name.slice(8), m.startTime]),
  ].map(([k, v]) => [k, Math.round(v)])));
  const features = await rendered(page, ['spaces', 'non-cadastre', 'parcels-outline']);
  const spaces = features.filter((f) => f.layer === 'spaces');
  const parcels = features.filter((f) => f.layer === 'parcels-outline');
  summary.rendered = { spaces: spaces.length, non_cadastre: features.filter((f) => f.layer === 'non-cadastre').length, parcels: parcels.length };
  check(spaces.length > 0 && parcels.length > 0, `no parcels or spaces rendered: ${JSON.stringify(summary.rendered)}`);
  summary.desktop = await drawn(page, 'viewer-1440.png');
  await page.screenshot({ path: join(out, 'viewer-1440-page.png') });
  const subsectorsBefore = new Set(spaces.map((f) => f.props.subsector)).size;

  // ---- Search an IDU: the map goes to it and outlines it.
  const parcel = (await api('/v1/parcels?actor=bailleur_social&limit=1')).parcels[0];
  check(parcel, 'the demo territory has no bailleur parcel');
  await page.fill('#q', parcel.idu);
  await page.press('#q', 'Enter');
  await page.waitForFunction((idu) => document.body.dataset.found === `parcel:${idu}`, parcel.idu, { timeout: 10_000 });
  const zoom = await page.evaluate(() => window.domania.map.getZoom());
  check(zoom >= 16, `searching ${parcel.idu} zoomed to ${zoom} only`);
  summary.search_idu = { idu: parcel.idu, zoom: Math.round(zoom * 10) / 10 };

  // ---- Search a SIREN: the owner is found and the map shows its land.
  const siren = parcel.owners[0].siren;
  await page.fill('#q', siren);
  await page.press('#q', 'Enter');
  await page.waitForFunction((s) => document.body.dataset.found === `owner:${s}`, siren, { timeout: 10_000 });
  const hits = await page.locator('#hits li').allTextContents();
  summary.search_siren = { siren, label: (await page.locator('#status').textContent()).trim(), listed: hits.length };
  check(summary.search_siren.label.includes(siren), `the SIREN search says ${summary.search_siren.label}`);

  // ---- Finding one's place: a commune by its name (any case, no hyphen), a section.
  for (const [q, found] of [['les mureaux', 'commune:78440'], ['78440 AA', 'section:78440000AA']]) {
    await page.fill('#q', q);
    await page.press('#q', 'Enter');
    await page.waitForFunction((f) => document.body.dataset.found === f, found, { timeout: 10_000 });
    const label = (await page.locator('#status').textContent()).trim();
    check(label.includes('78440 Les Mureaux'), `searching ${q}: ${label}`);
    summary[`search_${found.split(':')[0]}`] = { q, label, zoom: Math.round((await page.evaluate(() => window.domania.map.getZoom())) * 10) / 10 };
  }
  // The results are a listbox the arrows walk through.
  check(await page.locator('#hits').getAttribute('role') === 'listbox', 'the results are not a listbox');

  // ---- A parcel found opens its answer, as a click on it would.
  await page.fill('#q', parcel.idu);
  await page.press('#q', 'Enter');
  await page.waitForFunction((idu) => document.body.dataset.found === `parcel:${idu}`, parcel.idu);
  await page.waitForFunction((idu) => document.querySelector('.maplibregl-popup-content h3')?.textContent.includes(idu), parcel.idu, { timeout: 10_000 });
  summary.search_opens_answer = (await page.locator('.maplibregl-popup-content h3').textContent()).trim();

  // ---- With the keyboard only: Tab to the map, an arrow to move, Enter: who manages the centre.
  await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()));
  await page.locator('#q').focus();
  let tabs = 0;
  while (tabs < 40 && !(await page.evaluate(() => document.activeElement?.classList.contains('maplibregl-canvas')))) {
    await page.keyboard.press('Tab');
    tabs += 1;
  }
  check(tabs < 40, 'Tab never reaches the map');
  await page.keyboard.press('ArrowLeft');
  await idle(page);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.maplibregl-popup-content h3', { timeout: 10_000 });
  summary.keyboard = { tabs, answer: (await page.locator('.maplibregl-popup-content h3').textContent()).trim() };

  // ---- Click a space: the popup names its manager for the kind shown, as its tile says.
  await page.fill('#q', parcel.idu);
  await page.press('#q', 'Enter');
  await page.waitForFunction((idu) => document.body.dataset.found === `parcel:${idu}`, parcel.idu);
  await idle(page);
  await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()));
  const target = await page.evaluate((idu) => {
    const m = window.domania.map;
    const f = m.queryRenderedFeatures({ layers: ['spaces'] }).find((x) => x.properties.space === idu);
    if (!f) return null;
    // The mean of a convex ring's vertices is inside it.
    const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
    const pts = ring.slice(0, -1);
    const lng = pts.reduce((s, p) => s + p[0], 0) / pts.length;
    const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const px = m.project([lng, lat]);
    const box = m.getCanvas().getBoundingClientRect();
    return { x: box.left + px.x, y: box.top + px.y, manager: f.properties.cleaning };
  }, parcel.idu);
  check(target, `parcel ${parcel.idu} is not drawn as a space (is it in a sub-sector?)`);
  await page.mouse.click(target.x, target.y);
  await page.waitForSelector('.maplibregl-popup-content tr.current', { timeout: 10_000 });
  const popupTitle = await page.locator('.maplibregl-popup-content h3').textContent();
  const popupManager = await page.locator('.maplibregl-popup-content tr.current .service').textContent();
  summary.popup = { title: popupTitle, manager: popupManager, tile_says: target.manager };
  check(popupTitle.includes(parcel.idu), `the popup is about ${popupTitle}, not ${parcel.idu}`);
  check(popupManager === target.manager, `the popup names ${popupManager}, the tile ${target.manager}`);
  // Its reasons, as the server says them to a French browser: no English, no identifier.
  const reasonsShown = await page.locator('.maplibregl-popup-content details.why p').allTextContents();
  summary.popup.reasons = reasonsShown;
  check(reasonsShown.length > 0, 'the popup gives no reason');
  const english = reasonsShown.filter((t) => /sub-sector|delegated|held by|convention needed|always goes|default service|bailleur_social|communaute_urbaine|green_spaces/i.test(t));
  check(english.length === 0, `English in the popup's reasons: ${english[0]}`);

  // ---- MapLibre's controls speak French, and a service's phone is a link to call.
  const titles = await page.locator('.maplibregl-ctrl button').evaluateAll((bs) => bs.map((b) => b.title || b.getAttribute('aria-label') || ''));
  summary.controls = titles;
  check(titles.includes('Zoom avant') && titles.includes('Zoom arrière'), `the map's controls: ${titles.join(' | ')}`);
  check(!titles.some((t) => /zoom in|zoom out|find my location|drag to rotate/i.test(t)), `English in the controls: ${titles.join(' | ')}`);
  check(await page.locator('#upload-form .file-button').textContent() === 'Choisir un fichier…', 'the file chooser is not in French');

  // ---- The report on the map: a point in its status's colour; clicked, its timeline.
  await page.evaluate((p) => window.domania.map.jumpTo({ center: [p.lon, p.lat], zoom: 17 }), at);
  await idle(page);
  const reportPoint = await page.evaluate((id) => {
    const m = window.domania.map;
    const f = m.queryRenderedFeatures({ layers: ['reports'] }).find((x) => String(x.properties.id) === id);
    if (!f) return null;
    const px = m.project(f.geometry.coordinates);
    const box = m.getCanvas().getBoundingClientRect();
    return { x: box.left + px.x, y: box.top + px.y };
  }, reportId);
  if (!reportPoint) {
    const seen = await page.evaluate(() => ({
      source: Boolean(window.domania.map.getSource('reports')),
      layer: Boolean(window.domania.map.getLayer('reports')),
      drawn: window.domania.map.queryRenderedFeatures({ layers: ['reports'] }).length,
    }));
    fail(`report ${reportId} is not drawn on the map: ${JSON.stringify(seen)}`);
  }
  await page.mouse.click(reportPoint.x, reportPoint.y);
  await page.waitForSelector('.maplibregl-popup-content ol.timeline li', { timeout: 10_000 });
  const timeline = await page.locator('.maplibregl-popup-content').textContent();
  summary.report_popup = timeline.slice(0, 200);
  check(timeline.includes(`Signalement ${reportId}`) && timeline.includes('reçu') && timeline.includes('Papiers devant le local vélos'), `the report's popup: ${timeline}`);
  check(/reçu (il y a \d+ (secondes?|minutes?)|maintenant)/.test(timeline), `the report's age in its popup: ${timeline}`);
  // Its photo's thumbnail, drawn: upright (the 40×20 photo says it is turned a quarter).
  const thumb = await page.waitForFunction(() => {
    const img = document.querySelector('.maplibregl-popup-content a.photo img');
    return img && img.complete && img.naturalWidth > 0 && { w: img.naturalWidth, h: img.naturalHeight };
  }, null, { timeout: 10_000 }).then((h) => h.jsonValue()).catch(() => null);
  summary.report_photo = thumb;
  check(thumb && thumb.w === 20 && thumb.h === 40, `the report's photo in its popup: ${JSON.stringify(thumb)}`);
  // The reports' filter by category: another category hides it, its own shows it again.
  const drawnAs = async (code) => {
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('v1/reports.geojson') && r.url().includes(`service_code=${code}`)),
      page.selectOption('#reports-category', code),
    ]);
    await page.waitForTimeout(500);
    await idle(page);
    return page.evaluate((id) => window.domania.map.queryRenderedFeatures({ layers: ['reports'] }).some((x) => String(x.properties.id) === id), reportId);
  };
  const categories = await page.$$eval('#reports-category option', (os) => os.map((o) => o.value));
  const other = categories.find((c) => c && c !== 'litter');
  summary.report_filter = { categories: categories.length, other: await drawnAs(other), own: await drawnAs('litter') };
  check(!summary.report_filter.other && summary.report_filter.own, `the reports' filter by category: ${JSON.stringify(summary.report_filter)}`);
  await page.evaluate(() => document.querySelector('.maplibregl-popup-close-button')?.click());

  // ---- An error, in French: an unknown sub-sector.
  await page.evaluate(() => window.domania.showSubsector('NOPE'));
  await page.waitForFunction(() => document.getElementById('status').className === 'err');
  const frError = (await page.locator('#status').textContent()).trim();
  summary.error_fr = frError;
  check(frError.includes('Le sous-secteur « NOPE » n’existe pas') && !/no sub-sector|not in the store/i.test(frError), `the error: ${frError}`);

  // ---- Switch the intervention kind: the legend changes with it.
  const legendBefore = await page.locator('#legend-items li').allTextContents();
  // The colours the legend shows for data (not the patterns of the non-cadastré and the
  // outside), checked for their distances by the Rust side.
  const legendColours = async () => page.locator('#legend-items li[data-value] .swatch').evaluateAll((is) => is.map((i) => {
    const [r, g, b] = getComputedStyle(i).backgroundColor.match(/\d+/g).map(Number);
    return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('').toUpperCase()}`;
  }));
  summary.legend_colours = { cleaning: await legendColours() };
  await page.selectOption('#view', 'managers-waste');
  await page.waitForFunction(() => document.body.dataset.view === 'managers-waste');
  const legendAfter = await page.locator('#legend-items li').allTextContents();
  summary.legend_colours.waste = await legendColours();
  summary.legend = { cleaning: legendBefore.length, waste: legendAfter.length, title: await page.locator('#legend-title').textContent() };
  check(JSON.stringify(legendBefore) !== JSON.stringify(legendAfter), 'the legend did not change with the kind');
  check(legendAfter.some((l) => l.includes('déchets')), `the waste legend: ${legendAfter.join(' | ')}`);
  check(summary.legend.title.includes('Collecte'), `legend title ${summary.legend.title}`);
  await idle(page);

  // ---- Upload a new version of the sub-sectors from the page: the map changes with it.
  await page.selectOption('#view', 'managers-cleaning');
  await page.waitForFunction(() => document.body.dataset.view === 'managers-cleaning');
  const b = (await api('/v1/territory')).focus;
  await page.evaluate((bb) => window.domania.map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { duration: 0 }), b);
  await idle(page);
  const before = new Set((await rendered(page, ['spaces'])).map((f) => f.props.subsector)).size;
  const snapshotBefore = await page.evaluate(() => document.body.dataset.snapshot);
  // The form shows only once an editor token is given.
  check(await page.locator('#upload-fields').isHidden(), 'the upload form shows before any editor token');
  await page.fill('#upload-token', editorToken);
  check(await page.locator('#upload-fields').isVisible(), 'the upload form stays hidden after the token');
  await page.selectOption('#upload-layer', 'subsectors');
  await page.setInputFiles('#upload-file', uploadFile);
  // Half the sub-sectors gone: the store refuses it unless told to, and the page says why.
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => document.body.dataset.refused || document.body.dataset.uploaded, null, { timeout: 60_000 });
  const refusal = await page.locator('#upload-report').textContent();
  check(refusal.includes('Refusé') && refusal.includes('retirerait') && refusal.includes('cochez'), `the first upload was not refused: ${refusal}`);
  // Said to the person in the page: no command-line flag, no server path, no English.
  for (const word of ['--force', '--max-removed', '/tmp/', 'remove', 'rows', 'layer', 'pass ']) {
    check(!refusal.includes(word), `the refusal says "${word}": ${refusal}`);
  }
  summary.refusal = refusal;
  summary.refusal = refusal.slice(0, 160);
  await page.check('#upload-force');
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => document.body.dataset.uploaded, null, { timeout: 60_000 });
  await idle(page);
  const report = await page.locator('#upload-report').textContent();
  const after = new Set((await rendered(page, ['spaces'])).map((f) => f.props.subsector)).size;
  summary.upload = { subsectors_drawn_before: before, subsectors_drawn_after: after, report: report.slice(0, 80) };
  check(report.includes('Version enregistrée'), `the upload report: ${report}`);
  check(await page.evaluate(() => document.body.dataset.snapshot) !== snapshotBefore, 'the snapshot did not change');
  check(after > 0 && after < before, `the map still draws ${after} sub-sectors (before: ${before})`);
  check(subsectorsBefore > 0, 'no sub-sector drawn at first');
  summary.desktop_after_upload = await drawn(page, 'viewer-1440-after-upload.png');
  check(errors.length === 0, `errors in the page: ${errors.join('; ')}`);

  // ---- A phone, 375 px wide.
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'fr-FR' });
  const p2 = await phone.newPage();
  const errors2 = watch(p2, 'phone');
  await p2.goto(base);
  await p2.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  summary.phone = await drawn(p2, 'viewer-375.png');
  await p2.screenshot({ path: join(out, 'viewer-375-page.png') });
  // A tap on a phone: the answer goes in the panel under the map (a popup would not fit).
  const box = await p2.locator('#map').boundingBox();
  await p2.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await p2.waitForSelector('#here h3', { timeout: 10_000 });
  summary.phone_tap = (await p2.locator('#here h3').textContent()).trim();
  await p2.screenshot({ path: join(out, 'viewer-375-tap.png') });
  const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow} px wider than a 375 px phone`);
  check(errors2.length === 0, `errors in the phone page: ${errors2.join('; ')}`);

  // ---- The page in English for a browser that asks for it: its words, the map's controls,
  // the server's answers, an error and a refused file; no French word of Domania's own (the
  // rules file's names, the owners' and the services', are the territory's and stay as written).
  const en = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB' });
  const p4 = await en.newPage();
  const errors4 = watch(p4, 'english');
  await p4.goto(base);
  await p4.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60_000 });
  const enTitles = await p4.locator('.maplibregl-ctrl button').evaluateAll((bs) => bs.map((b) => b.title || b.getAttribute('aria-label') || ''));
  check(enTitles.includes('Zoom in') && !enTitles.includes('Zoom avant'), `the English controls: ${enTitles.join(' | ')}`);
  const words = await p4.evaluate(() => [
    document.querySelector('#toggles h2').textContent, document.querySelector('#search button').textContent,
    document.querySelector('#upload-form .file-button').textContent, document.querySelector('#upload h2').textContent,
    document.getElementById('status').textContent, document.querySelector('#view optgroup').label,
  ]);
  summary.english = { controls: enTitles.slice(0, 3), words };
  check(words.join('|') === `Layers|Search|Choose a file…|Update a layer|${words[4]}|Who manages…` && words[4].startsWith('Rules applied on'), `the English page: ${words.join(' | ')}`);
  await p4.fill('#q', parcel.idu);
  await p4.press('#q', 'Enter');
  await p4.waitForFunction((idu) => document.body.dataset.found === `parcel:${idu}`, parcel.idu);
  const enHit = (await p4.locator('#status').textContent()).trim();
  check(enHit.startsWith(`Parcel ${parcel.idu} (Social landlord)`), `the English search: ${enHit}`);
  await p4.evaluate(() => window.domania.showSubsector('NOPE'));
  await p4.waitForFunction(() => document.getElementById('status').className === 'err');
  const enError = (await p4.locator('#status').textContent()).trim();
  summary.english.error = enError;
  check(enError.includes('No sub-sector "NOPE"') && !/n’existe|données|sous-secteur/i.test(enError), `the English error: ${enError}`);
  await p4.fill('#upload-token', editorToken);
  await p4.selectOption('#upload-layer', 'subsectors');
  await p4.setInputFiles('#upload-file', badFile);
  await p4.click('#upload-form button[type=submit]');
  await p4.waitForFunction(() => document.body.dataset.refused, null, { timeout: 60_000 });
  const enRefusal = await p4.locator('#upload-report').textContent();
  summary.english.refusal = enRefusal.slice(0, 240);
  check(enRefusal.startsWith('Refused, nothing changed:') && enRefusal.includes('tick') && enRefusal.includes('rejected : feature 0'), `the English refusal: ${enRefusal}`);
  check(!/objet|refusé|rien|cochez|--skip|\/tmp/.test(enRefusal), `French or a flag in the English refusal: ${enRefusal}`);
  check(errors4.length === 0, `errors in the English page: ${errors4.join('; ')}`);
  // The same refused file in French: the issue said in French, with what to do in the page.
  await page.selectOption('#upload-layer', 'subsectors');
  await page.setInputFiles('#upload-file', badFile);
  await page.uncheck('#upload-force');
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('upload-report').textContent.includes('invalide') || document.getElementById('upload-report').textContent.includes('valide'), null, { timeout: 60_000 });
  const frRefusal = await page.locator('#upload-report').textContent();
  summary.refusal_invalid = frRefusal.slice(0, 240);
  check(frRefusal.includes('refusé : objet 0') && frRefusal.includes('la géométrie n’est pas valide') && frRefusal.includes('cochez « Importer les objets valides'), `the French refusal: ${frRefusal}`);
  check(!/rejected|feature|--skip|\/tmp/.test(frRefusal), `English or a flag in the French refusal: ${frRefusal}`);

  // ---- The cahier des charges of a sub-sector, printed to PDF.
  const t = await api('/v1/territory');
  const sub = t.subsectors[0].id;
  const p3 = await desk.newPage();
  watch(p3, 'cahier');
  await p3.goto(new URL(`/subsectors/${encodeURIComponent(sub)}/cahier`, base).href);
  const kinds = await p3.evaluate((labels) => {
    const rows = [...document.querySelectorAll('h2')].find((h) => h.textContent === 'Qui fait quoi').nextElementSibling.querySelectorAll('tr');
    const out = {};
    let kind = null;
    for (const r of rows) {
      const th = r.querySelector('th[rowspan]');
      if (th) kind = th.textContent;
      const s = r.querySelector('td strong');
      if (kind && s) (out[kind] ||= []).push(s.textContent);
    }
    return labels.map((l) => [l, out[l] || []]);
  }, t.interventions.map((i) => i.label));
  for (const [label, services] of kinds) check(services.length > 0, `the cahier of ${sub} names no manager for ${label}`);
  await p3.screenshot({ path: join(out, `cahier-${sub}.png`), fullPage: true });
  const pdf = join(out, `cahier-${sub}.pdf`);
  await p3.pdf({ path: pdf, format: 'A4', printBackground: true });
  summary.cahier = { subsector: sub, pdf, bytes: statSync(pdf).size, managers: Object.fromEntries(kinds) };
  // The cahier to sign, typeset by the server, as the sub-sector panel links it.
  const appSource = await (await fetch(new URL('/viewer/app.js', base))).text();
  check(appSource.includes('/cahier.pdf'), 'the sub-sector panel links the PDF cahier');
  const signed = await fetch(new URL(`/subsectors/${encodeURIComponent(sub)}/cahier.pdf`, base));
  check(signed.ok && signed.headers.get('content-type') === 'application/pdf', `cahier.pdf: ${signed.status}`);
  const signedPath = join(out, `cahier-${sub}-a-signer.pdf`);
  writeFileSync(signedPath, Buffer.from(await signed.arrayBuffer()));
  summary.cahier.typeset = signedPath;

  check(foreign.length === 0, `requests left for other hosts: ${foreign.join(', ')}`);
  summary.foreign_requests = foreign.length;
  console.log(JSON.stringify(summary));
} catch (e) {
  console.error(`viewer test: ${e.message}`);
  console.error(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  await browser.close();
}
