// Domania's map viewer: who maintains each space. Served by `domania serve` at `/`; reads
// only this server (TileJSON, styles, /v1 answers): no request leaves for another host.
const V = new URL(import.meta.url).search;
// The page's language: `?lang=en|fr`, else the browser's first of the two, French by default
// (as the server decides by Accept-Language). Every answer is asked for in it.
const LANG = (() => {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'fr') return asked;
  const preferred = (navigator.languages || [navigator.language || 'fr']).map((l) => l.slice(0, 2)).find((l) => l === 'fr' || l === 'en');
  return preferred || 'fr';
})();
const EN = LANG === 'en';
const LOCALE = EN ? 'en-GB' : 'fr-FR';
// A word of the page in its language: French, or English.
const say = (fr, en) => (EN ? en : fr);
const langHeaders = { 'Accept-Language': LANG };
document.documentElement.lang = LANG;
// What the first map needs is asked for at once, while the map library loads.
const first = {
  territory: fetch('v1/territory', { headers: langHeaders }),
  owners: fetch('styles/owners.json', { headers: langHeaders }),
};
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmtM2 = (v) => `${Math.round(v).toLocaleString(LOCALE)}\u00a0m²`;
const fmtDate = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(LOCALE, { day: 'numeric', month: 'long', year: 'numeric' });
const phone = window.matchMedia('(max-width: 700px)');
const fmtPct = (v) => `${(v * 100).toLocaleString(LOCALE, { maximumFractionDigits: 1 })}${EN ? '' : '\u00a0'}%`;
// The page's own words in English: each element marked `data-en` (its text, or the attribute
// named by `data-en-attr`).
if (EN) {
  for (const el of document.querySelectorAll('[data-en]')) {
    const attr = el.dataset.enAttr;
    if (attr) el.setAttribute(attr, el.dataset.en);
    else el.textContent = el.dataset.en;
  }
  document.title = 'Domania — who maintains each space';
}

// Reads may need a token (`serve --private-reads`): asked once, kept for the tab.
let readToken = sessionStorage.getItem('domania.read') || '';
const authHeaders = () => (readToken ? { Authorization: `Bearer ${readToken}` } : {});

function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'err' : '';
}

let maplibregl = null;
try {
  maplibregl = await import(`./maplibre-gl.mjs${V}`);
  // The tile worker starts now, while the territory and the style are read.
  maplibregl.prewarm();
  performance.mark('domania:library');
} catch (err) {
  status(say(`La bibliothèque de la carte ne se charge pas : ${err.message}`, `The map library does not load: ${err.message}`), true);
  throw err;
}

async function api(url, options = {}) {
  const res = await fetch(url, { ...options, headers: { ...langHeaders, ...authHeaders(), ...(options.headers || {}) } });
  if (res.status === 401 && !options.headers?.Authorization) {
    const t = prompt(say('Cette carte demande un jeton de lecture :', 'This map needs a read token:'));
    if (t) {
      readToken = t.trim();
      sessionStorage.setItem('domania.read', readToken);
      return api(url, options);
    }
  }
  const body = (res.headers.get('content-type') || '').includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = new Error(body?.message || `${res.status} ${res.statusText}`);
    e.body = body;
    throw e;
  }
  return body;
}

// What the map shows: who manages (one style per intervention kind), who owns, decisions.
let territory = null;
let actorLabels = {};
let view = sessionStorage.getItem('domania.view') || '';
let currentStyle = null;
const qpvMarkers = [];

// The zoom from which the tiles hold parcels one by one (domania_tiles::layers::PARCELS_DISSOLVED_BELOW).
const PARCELS_FROM = 15;
// The non-cadastré space's swatch in the legend: its colour comes with every style
// (styles/colours.json, `metadata["domania:non_cadastre"]`).
const nonCadastre = () => currentStyle?.metadata?.['domania:non_cadastre'] || 'transparent';

const GROUPS = {
  fill: ['spaces', 'non-cadastre', 'non-cadastre-outline', 'parcels', 'subsectors', 'needs-convention'],
  parcels: ['parcels-outline', 'selected'],
  subsectors: ['subsectors-outline'],
  qpv: ['qpv-outline', 'qpv-labels'],
  reports: ['reports', 'reports-duplicates'],
};

// Reports on the map: a colour per status, duplicates smaller beside the one that covers them.
// A report's point by its status, in the colours every style carries (styles/colours.json).
const reportColours = (style) => {
  const cases = Object.entries(style.metadata?.['domania:report_status'] || {}).flat();
  return cases.length ? ['match', ['get', 'status'], ...cases, '#868E96'] : '#868E96';
};
const STATUS = EN
  ? { received: 'received', acknowledged: 'acknowledged', planned: 'planned', in_progress: 'in progress', done: 'done', rejected: 'rejected', transferred: 'transferred', duplicate: 'duplicate' }
  : { received: 'reçu', acknowledged: 'pris en compte', planned: 'planifié', in_progress: 'en cours', done: 'traité', rejected: 'refusé', transferred: 'transmis', duplicate: 'doublon' };
// The reports asked for: in progress or all, of one category or all.
function reportsUrl() {
  const q = new URLSearchParams();
  if ($('reports-status').value) q.set('status', $('reports-status').value);
  if ($('reports-category').value) q.set('service_code', $('reports-category').value);
  const base = `${location.origin}${location.pathname.replace(/[^/]*$/, '')}v1/reports.geojson`;
  return q.size ? `${base}?${q}` : base;
}

// The report categories of the rules, for the reports' filter.
async function fillReportCategories() {
  const sel = $('reports-category');
  const kept = sel.value;
  for (const o of [...sel.options].slice(1)) o.remove();
  for (const s of await api('open311/v2/services.json')) sel.append(new Option(s.service_name, s.service_code));
  sel.value = kept;
}

// A first answer fetched before the library: read as `api` would (a token asked for on 401).
async function firstAnswer(promise, url) {
  const res = await promise;
  return res.ok && !readToken ? res.json() : api(url);
}

let map = null;

function basemapOrigin(origin) {
  return Boolean(territory?.basemap) && territory.basemap.url.startsWith(origin);
}

// MapLibre's own words (its controls' titles), in French: every word the page shows is.
const MAPLIBRE_FR = {
  'AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources',
  'AttributionControl.MapFeedback': 'Signaler une erreur de la carte',
  'FullscreenControl.Enter': 'Plein écran',
  'FullscreenControl.Exit': 'Quitter le plein écran',
  'GeolocateControl.FindMyLocation': 'Me localiser',
  'GeolocateControl.LocationNotAvailable': 'Position indisponible',
  'LogoControl.Title': 'Logo MapLibre',
  'Map.Title': 'Carte',
  'Marker.Title': 'Repère',
  'NavigationControl.ResetBearing': 'Faire glisser pour tourner la carte, cliquer pour remettre le nord en haut',
  'NavigationControl.ZoomIn': 'Zoom avant',
  'NavigationControl.ZoomOut': 'Zoom arrière',
  'Popup.Close': 'Fermer',
  'ScaleControl.Feet': 'pi',
  'ScaleControl.Meters': 'm',
  'ScaleControl.Kilometers': 'km',
  'ScaleControl.Miles': 'mi',
  'ScaleControl.NauticalMiles': 'M',
  'GlobeControl.Enable': 'Vue en globe',
  'GlobeControl.Disable': 'Vue à plat',
  'TerrainControl.Enable': 'Afficher le relief',
  'TerrainControl.Disable': 'Masquer le relief',
  'CooperativeGesturesHandler.WindowsHelpText': 'Ctrl + molette pour zoomer',
  'CooperativeGesturesHandler.MacHelpText': '⌘ + molette pour zoomer',
  'CooperativeGesturesHandler.MobileHelpText': 'Deux doigts pour déplacer la carte',
};

function makeMap(style) {
  const b = territory.focus;
  map = new maplibregl.Map({
    container: 'map',
    style,
    // MapLibre's own words are English: French given when the page is.
    locale: EN ? {} : MAPLIBRE_FR,
    bounds: [[b[0], b[1]], [b[2], b[3]]],
    fitBoundsOptions: { padding: 20 },
    attributionControl: { compact: true },
    transformRequest: (url) => {
      // The server names itself by the Host it was asked with; behind a proxy that is not the
      // page's origin: its tiles and TileJSON are asked for on the page's origin.
      const u = new URL(url, location.href);
      const ours = u.origin === location.origin || (u.pathname.includes('/tiles/') && !basemapOrigin(u.origin));
      if (!ours) return { url };
      const same = `${location.origin}${u.pathname}${u.search}`;
      return readToken ? { url: same, headers: authHeaders() } : { url: same };
    },
  });
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.addControl(new maplibregl.GeolocateControl({ trackUserLocation: true }), 'top-right');
  map.on('click', whoIsHere);
  // The keyboard: Tab to the map, the arrow keys move it (MapLibre's), Enter asks who manages
  // the ground at its centre (marked by a cross while the map has the focus).
  map.getCanvas().setAttribute('aria-label', say('Carte : flèches pour se déplacer, Entrée pour savoir qui gère le centre', 'Map: arrow keys to move, Enter for who manages the centre'));
  map.getCanvas().addEventListener('keydown', (k) => {
    if (k.key !== 'Enter') return;
    k.preventDefault();
    const c = map.getCenter();
    whoIsHere({ lngLat: c, point: map.project(c) });
  });
  map.on('error', (e) => status(`${say('Carte', 'Map')} : ${e.error?.message || e.error || say('erreur', 'error')}`, true));
  map.once('style.load', applyToggles);
}

function kindOf(v) {
  return v.startsWith('managers-') ? v.slice('managers-'.length) : null;
}

function kindLabel(id) {
  return territory.interventions.find((i) => i.id === id)?.label || id;
}

function fillViewSelect() {
  const sel = $('view');
  sel.innerHTML = '';
  const g1 = document.createElement('optgroup');
  g1.label = say('Qui gère…', 'Who manages…');
  for (const i of territory.interventions) g1.append(new Option(i.label, `managers-${i.id}`));
  const g2 = document.createElement('optgroup');
  g2.label = say('Foncier', 'Land');
  g2.append(new Option(say('Qui possède', 'Who owns'), 'owners'), new Option(say('Mode de gestion des sous-secteurs', 'How each sub-sector is managed'), 'decisions'));
  sel.append(g1, g2);
  // Who manages is drawn over the sub-sectors; a store without any (a first import of the
  // cadastre and its owners) opens on who owns, which draws every parcel.
  if (![...sel.options].some((o) => o.value === view)) {
    view = territory.subsectors.length ? `managers-${territory.interventions[0].id}` : 'owners';
  }
  sel.value = view;
}

function applyToggles() {
  if (!currentStyle || !map) return;
  for (const box of document.querySelectorAll('#toggles input')) {
    for (const id of GROUPS[box.dataset.group]) {
      if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', box.checked ? 'visible' : 'none');
    }
  }
  qpvLabelsFollowToggle();
}

function qpvLabelsFollowToggle() {
  const on = document.querySelector('#toggles input[data-group=qpv]').checked;
  for (const m of qpvMarkers) m.getElement().hidden = !on;
}

function renderLegend(style) {
  const meta = style.metadata || {};
  $('legend-title').textContent = style.name || say('Légende', 'Legend');
  // What is on the map: who owns, the actors that hold land here; who manages, the services
  // that manage some space for the kind shown; not every one the rules name.
  const kind = kindOf(view);
  const present = view === 'owners' && territory.actors ? new Set(territory.actors)
    : kind && territory.services ? new Set(territory.services[kind] || []) : null;
  const items = (meta['domania:legend'] || []).filter((e) => !present || present.has(e.value)).map(
    (e) => `<li data-value="${esc(e.value)}"><i class="swatch" style="background:${esc(e.color)}"></i>${esc(e.label)}</li>`,
  );
  if (kind) {
    items.push(`<li><i class="swatch dashed" style="background:${nonCadastre()}"></i>${say('Espace non cadastré (voirie, domaine public) : la couleur de son gestionnaire, plus claire, contour en tirets', 'Non-cadastré space (roads, public domain): its manager’s colour, lighter, dashed outline')}</li>`);
    items.push(`<li><i class="swatch" style="background:#FFFFFF"></i>${say('Hors sous-secteur : aucune règle de gestion', 'Outside the sub-sectors: no management rule')}</li>`);
  }
  $('legend-items').innerHTML = items.join('');
  $('legend-note').textContent = meta['domania:convention_needed'] || '';
}

// The style of the current view, its tiles at the current snapshot.
async function viewStyle() {
  const style = await api(`styles/${encodeURIComponent(view)}.json`);
  // The TileJSON names tiles by snapshot; asking it by snapshot too means an update is seen at once.
  for (const s of Object.values(style.sources)) if (s.url) s.url += `?v=${territory.snapshot}`;
  style.layers.push({
    id: 'selected', type: 'line', source: 'domania', 'source-layer': 'parcels',
    filter: ['==', ['get', 'idu'], ''], paint: { 'line-color': '#E4007C', 'line-width': 4 },
  });
  style.sources.reports = { type: 'geojson', data: reportsUrl() };
  style.layers.push(
    {
      id: 'reports', type: 'circle', source: 'reports', filter: ['!=', ['get', 'status'], 'duplicate'],
      paint: { 'circle-radius': 7, 'circle-color': reportColours(style), 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 2 },
    },
    {
      id: 'reports-duplicates', type: 'circle', source: 'reports', filter: ['==', ['get', 'status'], 'duplicate'],
      paint: { 'circle-radius': 4, 'circle-color': reportColours(style), 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 1 },
    },
  );
  const ownGlyphs = style.glyphs;
  // A basemap only when the server was told of one (`serve --basemap`): raster tiles, or a
  // MapLibre style whose sources and layers go under Domania's.
  const b = territory.basemap;
  if (b?.kind === 'pmtiles') {
    try {
      await usePmtiles();
      style.sources.basemap = { type: 'raster', url: `pmtiles://${b.url}`, tileSize: 256, attribution: b.attribution || say('Fond de plan', 'Basemap') };
      style.layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.6 } });
    } catch (err) {
      status(`${say('Fond de plan', 'Basemap')} : ${err.message}`, true);
    }
  } else if (b?.kind === 'raster') {
    style.sources.basemap = { type: 'raster', tiles: [b.url], tileSize: 256, attribution: b.attribution || say('Fond de plan', 'Basemap') };
    style.layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.6 } });
  } else if (b?.kind === 'style') {
    try {
      basemapStyle ||= await (await fetch(b.url)).json();
      // A style reading archives (`pmtiles://…`) needs their protocol.
      if (JSON.stringify(basemapStyle.sources || {}).includes('pmtiles://')) await usePmtiles();
      underStyle(style, basemapStyle, b.attribution);
    } catch (err) {
      status(`${say('Fond de plan', 'Basemap')} : ${err.message}`, true);
    }
  }
  if (ownGlyphs && style.glyphs === ownGlyphs) withQpvLabels(style);
  return style;
}

// The QPV's names at their label points as a symbol layer, in the server's glyphs: MapLibre
// draws those that fit and leaves out those that would overlap (a département's six hundred QPV
// seen at once would hide the map). Under a basemap style, whose glyphs are its own, they are
// HTML markers instead (placeQpvLabels).
function withQpvLabels(style) {
  const features = territory.qpv.filter((q) => q.label_at).map((q) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: q.label_at },
    properties: { label: q.name ? `${q.name} (${q.code})` : q.code },
  }));
  style.sources['qpv-labels'] = { type: 'geojson', data: { type: 'FeatureCollection', features } };
  style.layers.push({
    id: 'qpv-labels', type: 'symbol', source: 'qpv-labels',
    layout: { 'text-field': ['get', 'label'], 'text-font': ['Open Sans Semibold'], 'text-size': 12, 'text-padding': 6 },
    paint: { 'text-color': '#000000', 'text-halo-color': '#FFFFFF', 'text-halo-width': 2 },
  });
}

// The basemap's style, fetched once.
let basemapStyle = null;

// The PMTiles protocol (`pmtiles://` sources: a basemap in one archive on static storage),
// loaded when a basemap needs it.
let pmtilesReady = null;
function usePmtiles() {
  pmtilesReady ||= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `./viewer/pmtiles.js${V}`;
    s.onload = () => {
      maplibregl.addProtocol('pmtiles', new window.pmtiles.Protocol().tile);
      resolve();
    };
    s.onerror = () => reject(new Error(say('le protocole PMTiles ne se charge pas', 'the PMTiles protocol does not load')));
    document.head.append(s);
  });
  return pmtilesReady;
}

// `base`'s sources and layers put under `style`'s (ids prefixed, the background replaced): its
// own glyphs and sprite are the style's then, and it names the streets itself, so Domania's
// labels give way to its.
function underStyle(style, base, attribution) {
  const id = (x) => `basemap-${x}`;
  for (const [k, src] of Object.entries(base.sources || {})) {
    style.sources[id(k)] = attribution ? { ...src, attribution } : src;
  }
  const layers = (base.layers || []).map((l) => ({ ...l, id: id(l.id), ...(l.source ? { source: id(l.source) } : {}) }));
  style.layers = [...layers, ...style.layers.filter((l) => l.type !== 'background' && l.type !== 'symbol')];
  if (base.glyphs) style.glyphs = base.glyphs;
  else delete style.glyphs;
  if (base.sprite) style.sprite = base.sprite;
}

// Makes `style` the one shown in the legend and the toggles.
function showing(style) {
  currentStyle = style;
  renderLegend(style);
  document.body.dataset.view = style.metadata?.['domania:style'] || view;
}

// Shows the current view.
async function loadStyle() {
  const style = await viewStyle();
  if (!map) return;
  showing(style);
  map.setStyle(style, { diff: false });
  map.once('style.load', applyToggles);
}

// Seen whole, a département has too many parcels for the tiles to draw: the map says from
// which zoom they appear.
function zoomHint() {
  if (!map) return;
  const from = territory.parcels_from_zoom;
  const hint = $('zoom-hint');
  hint.hidden = !(from && map.getZoom() < from);
  hint.textContent = say(
    `Trop de parcelles à cette échelle : rapprochez-vous pour les voir (zoom ${from}).`,
    `Too many parcels at this scale: zoom in to see them (zoom ${from}).`,
  );
}

function placeQpvLabels() {
  if (!map) return;
  for (const m of qpvMarkers) m.remove();
  qpvMarkers.length = 0;
  if (currentStyle?.sources?.['qpv-labels']) return;
  for (const q of territory.qpv) {
    if (!q.label_at) continue;
    const el = document.createElement('div');
    el.className = 'qpv-label';
    el.textContent = q.name ? `${q.name} (${q.code})` : q.code;
    qpvMarkers.push(new maplibregl.Marker({ element: el }).setLngLat(q.label_at).addTo(map));
  }
  qpvLabelsFollowToggle();
}

async function loadTerritory(answer) {
  territory = answer || (await api('v1/territory'));
  document.body.dataset.snapshot = territory.snapshot;
  const parcels = territory.parcels.toLocaleString(LOCALE);
  status(say(
    `Règles appliquées au ${fmtDate(territory.judged_on)} · ${parcels} parcelles · instantané ${territory.snapshot.slice(0, 8)}`,
    `Rules applied on ${fmtDate(territory.judged_on)} · ${parcels} parcels · snapshot ${territory.snapshot.slice(0, 8)}`,
  ));
  const layerSel = $('upload-layer');
  const names = EN
    ? { parcels: 'Parcels (cadastre)', owners: 'Owners (PPM file)', qpv: 'QPV', subsectors: 'Sub-sectors', conventions: 'Convention perimeters' }
    : { parcels: 'Parcelles (cadastre)', owners: 'Propriétaires (fichier PPM)', qpv: 'QPV', subsectors: 'Sous-secteurs', conventions: 'Périmètres des conventions' };
  const kept = layerSel.value;
  layerSel.innerHTML = '';
  for (const l of territory.uploadable) layerSel.append(new Option(names[l] || l, l));
  if (kept) layerSel.value = kept;
  placeQpvLabels();
  zoomHint();
}

// ---- Click: who maintains this space, and why.
const RULES = EN
  ? { convention: 'by a convention', fixed: 'a fixed rule for this kind', default: 'the managing actor’s service', unassigned: 'no rule names a service' }
  : {
    convention: 'par convention',
    fixed: 'règle fixe pour ce type d’intervention',
    default: 'service de l’acteur gestionnaire',
    unassigned: 'aucune règle ne désigne de service',
  };
const NOTES = EN
  ? {
    outside: 'Outside every sub-sector: no management rule applies here.',
    sliver: 'No space here: a sliver under the tolerance, or a sub-sector wholly covered by parcels.',
  }
  : {
    outside: 'Hors de tout sous-secteur : aucune règle de gestion ne s’applique ici.',
    sliver: 'Aucun espace ici : un reliquat sous la tolérance, ou un sous-secteur entièrement couvert de parcelles.',
  };
const NONE = say('aucun service désigné', 'no service named');
const NON_CADASTRE_LABEL = say('Non cadastré', 'Non-cadastré');
// Each kind's manager with its contact and the rule that chose it; the engine's full reasons
// (as the rules word them) folded below, each said once.
function managersTable(managers) {
  const kind = kindOf(view);
  const rows = [...managers].sort((a, b) => (b.intervention === kind) - (a.intervention === kind));
  const table = `<table class="managers"><tr><th>Intervention</th><th>${say('Gestionnaire', 'Manager')}</th></tr>${rows
    .map((m) => {
      const s = m.service;
      const contact = s ? [s.phone && `<a href="tel:${esc(s.phone.replace(/[^+\d]/g, ''))}">☎\u00a0${esc(s.phone)}</a>`, s.email && `<a href="mailto:${esc(s.email)}">${esc(s.email)}</a>`].filter(Boolean).join(' · ') : '';
      return `<tr class="${m.intervention === kind ? 'current' : ''}" data-kind="${esc(m.intervention)}"><td>${esc(kindLabel(m.intervention))}</td>
        <td><strong class="service">${esc(s ? s.name : NONE)}</strong>${contact ? `<br>${contact}` : ''}
        <div class="why">${esc(RULES[m.rule] || m.rule)}</div></td></tr>`;
    })
    .join('')}</table>`;
  const reasons = [...new Set(managers.map((m) => m.explanation))];
  return `${table}<details class="why"><summary>${say('Le détail des règles', 'The rules in detail')}</summary>${reasons.map((r) => `<p>${esc(r)}</p>`).join('')}</details>`;
}

const SUBSECTOR = say('Sous-secteur', 'Sub-sector');
const CONVENTION_NEEDED = say('convention à établir', 'a convention is needed');
function whoHtml(who) {
  const parts = [];
  const sp = who.space;
  const parcel = say('Parcelle', 'Parcel');
  if (sp?.kind === 'parcel') parts.push(`<h3>${parcel} ${esc(sp.idu)}</h3>`);
  else if (sp?.kind === 'non_cadastre') parts.push(say('<h3>Espace non cadastré</h3><p class="meta">Domaine public sans parcelle (voirie, le plus souvent).</p>', '<h3>Non-cadastré space</h3><p class="meta">Public domain with no parcel (roads, most often).</p>'));
  else if (who.parcels.length) parts.push(`<h3>${parcel} ${esc(who.parcels[0].idu)}</h3>`);
  else parts.push(say('<h3>Hors des espaces gérés</h3>', '<h3>Outside the managed spaces</h3>'));
  for (const p of who.parcels) {
    const owners = p.owners.length
      ? p.owners.map((o) => `${esc(o.name)} <span class="meta">(${/^\d{9}$/.test(o.siren) ? 'SIREN' : say('identifiant DGFiP', 'DGFiP identifier')} ${esc(o.siren)})</span>`).join(', ')
      : p.owner_file ? say('personne(s) physique(s)', 'natural person(s)') : `<span class="err">${say('propriétaire inconnu : pas de fichier des propriétaires pour cette commune', 'owner unknown: no owner file for this commune')}</span>`;
    parts.push(`<p>${esc(actorLabels[p.actor] || p.actor)} — ${owners}<br><span class="meta">${fmtM2(p.area_m2)}${p.contenance_m2 ? ` · contenance ${fmtM2(p.contenance_m2)}` : ''}</span></p>`);
  }
  if (who.subsector) {
    const z = who.subsector;
    const dec = territory.subsectors.find((s) => s.id === z.id);
    parts.push(`<p>${SUBSECTOR} <button class="link" data-subsector="${esc(z.id)}">${esc(z.id)}${z.name ? ` — ${esc(z.name)}` : ''}</button><br>
      <strong>${esc(dec ? dec.decision_label : z.decision)}</strong>${z.needs_convention ? ` · <span class="err">${CONVENTION_NEEDED}</span>` : ''}</p>`);
  }
  if (who.qpv.length) parts.push(`<p class="meta">QPV : ${who.qpv.map((q) => esc(q.name ? `${q.name} (${q.code})` : q.code)).join(', ')}</p>`);
  if (who.managers.length) parts.push(managersTable(who.managers));
  if (who.note) parts.push(`<p class="meta">${esc(who.note.startsWith('outside') ? NOTES.outside : who.note.startsWith('no space') ? NOTES.sliver : who.note)}</p>`);
  return parts.join('');
}

let popup = null;
// How long ago `iso` was, in words (« il y a 3 jours »).
function ago(iso) {
  const s = (Date.parse(iso) - Date.now()) / 1000;
  const units = [['second', 1], ['minute', 60], ['hour', 3600], ['day', 86400], ['month', 86400 * 30], ['year', 86400 * 365]];
  const [unit, per] = units.findLast(([, n]) => Math.abs(s) >= n) || units[0];
  return new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' }).format(Math.round(s / per), unit);
}
// A report and its timeline, as the services moved it.
async function reportHtml(id) {
  const [r] = await api(`open311/v2/requests/${encodeURIComponent(id)}.json`);
  const when = (iso) => new Date(iso).toLocaleString(LOCALE, { dateStyle: 'long', timeStyle: 'short' });
  const step = (ev) => (ev.kind === 'alert' ? say('Droit d’alerte : à traiter en urgence', 'Right of alert: urgent') : STATUS[ev.status] || ev.status);
  const steps = (r.events || []).map((ev) => `<li>${esc(when(ev.at))} — <strong>${esc(step(ev))}</strong>${ev.note ? ` : ${esc(ev.note)}` : ''}</li>`);
  // The photo sent with it: its thumbnail (asked with the page's token, see showThumbnails),
  // opening the photo; a photo given as an address: a link to it.
  const ours = r.media_url?.endsWith(`/v1/reports/${r.service_request_id}/photo`);
  const photo = !r.media_url ? '' : ours
    ? `<a class="photo" href="${esc(r.media_url)}" target="_blank" rel="noopener"><img alt="${say('Photo du signalement', 'Photo of the report')}" data-thumbnail="${esc(r.media_url)}/thumbnail"></a>`
    : `<p><a href="${esc(r.media_url)}" target="_blank" rel="noopener noreferrer">${say('Photo', 'Photo')}</a></p>`;
  // Its age and its urgency, as a service sorts its queue.
  const urgency = { urgent: say('urgent', 'urgent'), review: say('urgence à vérifier', 'urgency to check') }[r.urgency];
  const age = `${say('reçu', 'received')} ${ago(r.requested_datetime)}${urgency ? ` · <strong>${esc(urgency)}</strong>` : ''}`;
  return `<h3>${say('Signalement', 'Report')} ${esc(r.service_request_id)} — ${esc(r.service_name)}</h3>
    <p class="meta age">${age}</p>
    <p>${esc(r.description)}</p>${photo}
    <p class="meta">${say('Adressé à', 'Sent to')} <strong>${esc(r.agency_responsible)}</strong>${r.duplicate_of ? ` · ${say('doublon du', 'duplicate of')} ${esc(r.duplicate_of)}` : ''}</p>
    <ol class="timeline">${steps.join('')}</ol>`;
}

// Thumbnails asked with the page's token (an <img> cannot send it when reads are private).
function showThumbnails(el) {
  for (const img of el.querySelectorAll('img[data-thumbnail]')) {
    fetch(img.dataset.thumbnail, { headers: authHeaders() })
      .then((res) => (res.ok ? res.blob() : null))
      // A photo without a thumbnail (a HEIC): the link alone.
      .then((b) => { if (b) img.src = URL.createObjectURL(b); else img.replaceWith(say('Ouvrir la photo', 'Open the photo')); });
  }
}

async function whoIsHere(e) {
  // A report under the click: its timeline rather than who manages the ground.
  const hit = map.getLayer('reports') && e.point ? map.queryRenderedFeatures(e.point, { layers: ['reports', 'reports-duplicates'] })[0] : null;
  if (hit) {
    try {
      popup?.remove();
      popup = new maplibregl.Popup({ maxWidth: 'min(380px, calc(100vw - 24px))' }).setLngLat(e.lngLat).setHTML(await reportHtml(hit.properties.id)).addTo(map);
      showThumbnails(popup.getElement());
    } catch (err) {
      status(`${say('Signalement', 'Report')} : ${err.message}`, true);
    }
    return;
  }
  try {
    const who = await api(`v1/who?lon=${e.lngLat.lng}&lat=${e.lngLat.lat}`);
    popup?.remove();
    if (phone.matches) {
      // A phone: the answer goes in the panel under the map, the map stays whole.
      const here = $('here');
      here.innerHTML = whoHtml(who);
      here.hidden = false;
      openPanel(true);
      here.scrollIntoView({ block: 'start' });
    } else {
      popup = new maplibregl.Popup({ maxWidth: 'min(380px, calc(100vw - 24px))' }).setLngLat(e.lngLat).setHTML(whoHtml(who)).addTo(map);
    }
    const idu = who.space?.kind === 'parcel' ? who.space.idu : '';
    if (map.getLayer('selected')) map.setFilter('selected', ['==', ['get', 'idu'], idu]);
    // Which space the answer is about (read by the browser tests).
    document.body.dataset.answer = idu || (who.parcels || []).map((p) => p.idu).join(',') || who.space?.kind || 'none';
  } catch (err) {
    status(`${say('Qui gère ici ?', 'Who manages here?')} ${err.message}`, true);
  }
}
document.addEventListener('click', (e) => {
  const b = e.target.closest('[data-subsector]');
  if (b) showSubsector(b.dataset.subsector);
  // Under `--private-reads`, a link to a page or a download is fetched with the token.
  const a = e.target.closest('a[data-auth]');
  if (a && readToken) {
    e.preventDefault();
    fetch(a.href, { headers: { ...langHeaders, ...authHeaders() } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`${r.status} ${r.statusText}`))))
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        if (a.hasAttribute('download')) {
          const t = document.createElement('a');
          t.href = url;
          t.download = a.getAttribute('download');
          t.click();
        } else {
          window.open(url, '_blank');
        }
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      })
      .catch((err) => status(`${a.textContent} : ${err.message}`, true));
  }
});

// ---- Sub-sector panel: shares as a chart, decision, spaces, downloads, the cahier.
// Each actor's land and the non-cadastré space as parts of the sub-sector's whole area (they
// add up to 100 %; the 60 % rule's shares, in the explanation, may count the cadastré land only).
function sharesChart(z) {
  const total = z.area_m2 || 1;
  const rows = Object.entries(z.areas_m2).map(([a, m2]) => [a, m2 / total]).sort((a, b) => b[1] - a[1]);
  const colours = Object.fromEntries((window.domaniaOwnerLegend || []).map((e) => [e.value, e.color]));
  rows.push(['non_cadastre', z.non_cadastre_m2 / total]);
  const h = 22;
  const bars = rows
    .map(([actor, share], i) => {
      const w = Math.max(0.5, share * 200);
      const label = actor === 'non_cadastre' ? NON_CADASTRE_LABEL : actorLabels[actor] || actor;
      const fill = actor === 'non_cadastre' ? nonCadastre() : colours[actor] || '#BBBBBB';
      const short = label.length > 34 ? `${label.slice(0, 33)}…` : label;
      return `<g transform="translate(0 ${i * h})"><text x="0" y="15" font-size="11"><title>${esc(label)}</title>${esc(short)}</text>
        <rect x="190" y="4" width="${(w * 0.8).toFixed(1)}" height="14" fill="${esc(fill)}" stroke="#555"/>
        <text x="${(195 + w * 0.8).toFixed(1)}" y="15" font-size="11">${esc(fmtPct(share))}</text></g>`;
    })
    .join('');
  return `<p class="meta">${say('Part de la surface totale du sous-secteur (la règle des 60 % compte, elle, le sol cadastré : voir la décision).', 'Share of the sub-sector’s whole area (the 60 % rule counts the cadastré land only: see the decision).')}</p>
    <svg class="chart" viewBox="0 0 400 ${rows.length * h}" role="img" aria-label="${say('Parts de chaque acteur', 'Each actor’s share')}">${bars}</svg>`;
}

async function showSubsector(id) {
  try {
    const z = await api(`v1/subsectors/${encodeURIComponent(id)}`);
    const dec = territory.subsectors.find((s) => s.id === id);
    const kind = kindOf(view);
    const spaces = z.spaces
      .map((s) => {
        const m = kind ? s.managers.find((x) => x.intervention === kind) : null;
        const label = s.space.kind === 'parcel' ? s.space.idu : NON_CADASTRE_LABEL;
        const who = kind
          ? (m?.service?.name || NONE)
          : s.space.kind === 'parcel' ? actorLabels[s.space.actor] || s.space.actor : NON_CADASTRE_LABEL;
        return `<tr><td>${esc(label)}</td><td>${fmtM2(s.area_m2)}</td><td>${esc(who)}</td></tr>`;
      })
      .join('');
    const qpv = territory.qpv.filter((q) => dec?.qpv.includes(q.code));
    const el = $('subsector');
    el.innerHTML = `<h2>${SUBSECTOR} ${esc(z.id)}${z.name ? ` — ${esc(z.name)}` : ''}</h2>
      <p><strong>${esc(dec ? dec.decision_label : z.decision)}</strong>${z.needs_convention ? ` · <span class="err">${CONVENTION_NEEDED}</span>` : ''}</p>
      <p class="meta">${esc(z.explanation)}</p>
      ${sharesChart(z)}
      <p class="meta">${say(`Surface ${fmtM2(z.area_m2)} dont non cadastré ${fmtM2(z.non_cadastre_m2)}`, `Area ${fmtM2(z.area_m2)}, of which non-cadastré ${fmtM2(z.non_cadastre_m2)}`)}</p>
      <p class="downloads">
        <a data-auth href="subsectors/${encodeURIComponent(z.id)}/cahier.pdf" target="_blank">${say('Cahier des charges à signer (PDF)', 'Cahier des charges to sign (PDF, in French)')}</a>
        · <a data-auth href="subsectors/${encodeURIComponent(z.id)}/cahier" target="_blank">${say('à l’écran', 'on screen')}</a><br>
        ${SUBSECTOR} : <a data-auth href="v1/subsectors/${encodeURIComponent(z.id)}?f=csv" download="${esc(z.id)}.csv">CSV</a>
        <a data-auth href="collections/spaces/items?subsector=${encodeURIComponent(z.id)}&limit=10000&f=json" download="${esc(z.id)}.geojson">GeoJSON</a>
        ${qpv.map((q) => `<br>QPV ${esc(q.code)} : <a data-auth href="v1/qpv/${encodeURIComponent(q.code)}/report?f=csv" download="${esc(q.code)}.csv">CSV</a>
          <a data-auth href="v1/qpv/${encodeURIComponent(q.code)}/report?f=geojson" download="${esc(q.code)}.geojson">GeoJSON</a>`).join('')}
      </p>
      <table class="managers"><tr><th>${say('Espace', 'Space')}</th><th>${say('Surface', 'Area')}</th><th>${esc(kind ? kindLabel(kind) : say('Propriétaire', 'Owner'))}</th></tr>${spaces}</table>`;
    el.hidden = false;
    el.scrollIntoView({ block: 'nearest' });
  } catch (err) {
    status(`${SUBSECTOR} ${id} : ${err.message}`, true);
  }
}

// ---- Search: commune, section, IDU, SIREN or owner, QPV, sub-sector.
const SEARCH_LIMIT = 20;
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') $('hits').hidden = true;
});
// From the search box, the down arrow goes into the results.
$('q').addEventListener('keydown', (k) => {
  const first = $('hits').querySelector('[role=option]');
  if (k.key === 'ArrowDown' && first && !$('hits').hidden) {
    k.preventDefault();
    first.focus();
  }
});
document.addEventListener('click', (e) => {
  if (!e.target.closest('#search')) $('hits').hidden = true;
});
async function goTo(hit) {
  $('hits').hidden = true;
  if (!map) return;
  map.fitBounds([[hit.bbox[0], hit.bbox[1]], [hit.bbox[2], hit.bbox[3]]], { padding: 40, maxZoom: 19, duration: 0 });
  // The parcel (an address of the owner file is its parcel's), or every parcel of the owner
  // (of each owner of that name), outlined.
  let idus = hit.kind === 'parcel' || (hit.kind === 'address' && hit.source === 'ppm') ? [hit.id] : [];
  if (hit.kind === 'owner') {
    try {
      const lands = await Promise.all((hit.sirens || [hit.id]).map((s) => api(`v1/owners/${encodeURIComponent(s)}`)));
      idus = lands.flatMap((l) => l.parcels);
    } catch (err) {
      status(`${say('Parcelles de', 'Parcels of')} ${hit.id} : ${err.message}`, true);
    }
  }
  if (map.getLayer('selected')) map.setFilter('selected', ['in', ['get', 'idu'], ['literal', idus]]);
  $('subsector').hidden = hit.kind !== 'subsector';
  if (hit.kind === 'subsector') showSubsector(hit.id);
  status(`${hit.label}`);
  document.body.dataset.found = `${hit.kind}:${hit.id}`;
  // A parcel or an address found: its answer opens, as a click on it would.
  if (hit.point) {
    const lngLat = { lng: hit.point[0], lat: hit.point[1] };
    await whoIsHere({ lngLat, point: map.project(lngLat) });
  }
}

$('search').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('q').value.trim();
  if (!q) return;
  try {
    const r = await api(`v1/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`);
    const list = $('hits');
    list.innerHTML = '';
    if (!r.hits.length) {
      list.innerHTML = `<li class="none">${say(`Aucun résultat pour « ${esc(q)} »`, `No result for “${esc(q)}”`)}</li>`;
      list.hidden = false;
      return;
    }
    for (const [i, h] of r.hits.entries()) {
      const li = document.createElement('li');
      li.tabIndex = i === 0 ? 0 : -1;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === 0));
      li.dataset.kind = h.kind;
      li.textContent = h.label;
      li.addEventListener('click', () => goTo(h));
      li.addEventListener('keydown', (k) => {
        // A listbox: the arrows move from hit to hit, Enter opens one.
        const options = [...list.querySelectorAll('[role=option]')];
        const at = options.indexOf(li);
        const next = k.key === 'ArrowDown' ? options[at + 1] : k.key === 'ArrowUp' ? options[at - 1] : null;
        if (k.key === 'Enter') goTo(h);
        if (next) {
          k.preventDefault();
          for (const o of options) o.setAttribute('aria-selected', String(o === next));
          next.focus();
        }
      });
      list.append(li);
    }
    if (r.hits.length >= SEARCH_LIMIT) {
      const more = document.createElement('li');
      more.className = 'none';
      more.textContent = say(`Les ${SEARCH_LIMIT} premiers résultats : précisez la recherche pour les autres.`, `The first ${SEARCH_LIMIT} results: narrow the search for the others.`);
      list.append(more);
    }
    list.hidden = r.hits.length === 1;
    await goTo(r.hits[0]);
    list.hidden = r.hits.length === 1;
  } catch (err) {
    status(`${say('Recherche', 'Search')} : ${err.message}`, true);
  }
});

// The validation report of an upload, in words.
function uploadReport(r) {
  const v = r.version || {};
  const rep = r.report || {};
  const n = (x) => Number(x);
  const lines = EN
    ? [
      v.unchanged
        ? `<span class="ok">Nothing new</span>: the file is identical to version ${n(v.version)} of “${esc(v.layer)}”.`
        : `<span class="ok">Version saved</span>: “${esc(v.layer)}” version ${n(v.version)}, by ${esc(v.author)}.`,
      `${n(v.features)} features: ${n(v.added)} added, ${n(v.removed)} removed, ${n(v.changed)} changed, ${n(v.reshaped)} reshaped.`,
      `Read (${esc(rep.format)}, ${esc(rep.crs)}): ${n(rep.read)} read, ${n(rep.accepted)} accepted, ${n(rep.repaired)} repaired, ${n(rep.rejected)} rejected, ${n(rep.warnings)} warnings.`,
    ]
    : [
      v.unchanged
        ? `<span class="ok">Rien de nouveau</span> : le fichier est identique à la version ${n(v.version)} de « ${esc(v.layer)} ».`
        : `<span class="ok">Version enregistrée</span> : « ${esc(v.layer)} » version ${n(v.version)}, par ${esc(v.author)}.`,
      `${n(v.features)} objets : ${n(v.added)} ajoutés, ${n(v.removed)} retirés, ${n(v.changed)} modifiés, ${n(v.reshaped)} redessinés.`,
      `Lecture (${esc(rep.format)}, ${esc(rep.crs)}) : ${n(rep.read)} lus, ${n(rep.accepted)} acceptés, ${n(rep.repaired)} réparés, ${n(rep.rejected)} rejetés, ${n(rep.warnings)} avertissements.`,
    ];
  lines.push(...issueLines(rep));
  return lines.join('\n');
}

// A validation report's issues, one line each (the server says their messages in French).
const SEVERITY = EN ? { warning: 'warning', repaired: 'repaired', rejected: 'rejected' } : { warning: 'avertissement', repaired: 'réparé', rejected: 'refusé' };
const WHERE = EN ? { feature: 'feature', line: 'line' } : { feature: 'objet', line: 'ligne' };
function issueLines(rep) {
  const lines = [];
  for (const i of (rep?.issues || []).slice(0, 20)) {
    const where = i.location ? Object.entries(i.location).map(([k, x]) => `${WHERE[k] || k} ${x}`).join(' ') : '';
    lines.push(`· ${esc(SEVERITY[i.severity] || i.severity)} : ${esc(where)}${i.id ? ` (${esc(i.id)})` : ''} : ${esc(i.message)}`);
  }
  if ((rep?.issues || []).length > 20) lines.push(say(`… et ${rep.issues.length - 20} autres`, `… and ${rep.issues.length - 20} more`));
  return lines;
}

// ---- Editing hand-off: upload a new version of a layer, read the report, see the new map.
// The form shows once an editor token is given: a visitor sees only where to give one.
$('upload-token').value = sessionStorage.getItem('domania.edit') || '';
const showUpload = () => { $('upload-fields').hidden = !$('upload-token').value.trim(); };
$('upload-token').addEventListener('input', showUpload);
showUpload();
$('upload-file').addEventListener('change', () => {
  const f = $('upload-file').files[0];
  $('upload-file-name').textContent = f ? f.name : say('aucun fichier choisi', 'no file chosen');
});

$('upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('upload-file').files[0];
  const layer = $('upload-layer').value;
  const token = $('upload-token').value.trim();
  const out = $('upload-report');
  if (!file || !token) {
    out.innerHTML = `<span class="err">${say('Choisissez un fichier et donnez un jeton éditeur.', 'Choose a file and give an editor token.')}</span>`;
    return;
  }
  sessionStorage.setItem('domania.edit', token);
  out.textContent = say(`Envoi de ${file.name}…`, `Sending ${file.name}…`);
  const type = file.name.endsWith('.zip') ? 'application/zip' : file.name.endsWith('.csv') ? 'text/csv' : 'application/geo+json';
  try {
    const options = new URLSearchParams();
    if ($('upload-force').checked) options.set('force', 'true');
    if ($('upload-skip').checked) options.set('skip_invalid', 'true');
    const query = options.size ? `?${options}` : '';
    const r = await api(`v1/layers/${encodeURIComponent(layer)}${query}`, {
      method: 'POST', body: file, headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
    });
    out.innerHTML = uploadReport(r);
  } catch (err) {
    out.innerHTML = [`<span class="err">${say('Refusé, rien n’a changé :', 'Refused, nothing changed:')} ${esc(err.message)}</span>`, ...issueLines(err.body?.details)].join('\n');
    document.body.dataset.refused = String(Number(document.body.dataset.refused || 0) + 1);
    return;
  }
  // Stored: the map moves to the new snapshot.
  try {
    await loadTerritory();
    fillViewSelect();
    await loadStyle();
    document.body.dataset.uploaded = territory.snapshot;
  } catch (err) {
    status(say(`La version est enregistrée, mais la carte ne s’est pas rechargée : ${err.message} (rechargez la page)`, `The version is saved, but the map did not reload: ${err.message} (reload the page)`), true);
  }
});

// ---- The rest of the page.
let viewAsked = 0;
$('view').addEventListener('change', async (e) => {
  const asked = ++viewAsked;
  view = e.target.value;
  sessionStorage.setItem('domania.view', view);
  try {
    const style = await viewStyle();
    // A later choice won while this style was on its way.
    if (asked !== viewAsked || !map) return;
    showing(style);
    map.setStyle(style, { diff: false });
    map.once('style.load', applyToggles);
  } catch (err) {
    status(`${say('Vue', 'View')} ${view} : ${err.message}`, true);
  }
});
for (const box of document.querySelectorAll('#toggles input')) box.addEventListener('change', applyToggles);
for (const id of ['reports-status', 'reports-category']) $(id).addEventListener('change', () => map?.getSource('reports')?.setData(reportsUrl()));
function openPanel(open) {
  $('panel').classList.toggle('closed', !open);
  document.querySelector('main').classList.toggle('closed', !open);
  $('panel-toggle').setAttribute('aria-expanded', String(open));
  map?.resize();
}
$('panel-toggle').addEventListener('click', () => openPanel($('panel').classList.contains('closed')));

try {
  await loadTerritory(await firstAnswer(first.territory, 'v1/territory'));
  performance.mark('domania:territory');
  const owners = await firstAnswer(first.owners, 'styles/owners.json');
  window.domaniaOwnerLegend = owners.metadata['domania:legend'];
  actorLabels = Object.fromEntries(window.domaniaOwnerLegend.map((e) => [e.value, e.label]));
  fillViewSelect();
  const style = await viewStyle();
  showing(style);
  makeMap(style);
  // The first view is never blank: without sub-sectors it opens where parcels are drawn one by
  // one, and says what is missing.
  if (!territory.subsectors.length) {
    if (map.getZoom() < PARCELS_FROM) map.jumpTo({ zoom: PARCELS_FROM });
    const missing = [say('aucun sous-secteur n’est chargé : la carte montre qui possède chaque parcelle', 'no sub-sector is loaded: the map shows who owns each parcel')];
    if (!territory.owners_known) missing.push(say('aucun fichier des propriétaires non plus : tous les propriétaires sont inconnus', 'no owner file either: every owner is unknown'));
    status(`${missing.join(' ; ')}.`.replace(/^./, (c) => c.toUpperCase()));
    document.body.dataset.missing = territory.owners_known ? 'subsectors' : 'subsectors,owners';
  }
  placeQpvLabels();
  zoomHint();
  map.on('zoomend', zoomHint);
  fillReportCategories().catch((err) => status(`${say('Signalements', 'Reports')} : ${err.message}`, true));
  performance.mark('domania:style');
  map.once('idle', () => {
    performance.mark('domania:drawn');
    document.body.dataset.ready = territory.snapshot;
  });
} catch (err) {
  status(`${say('Démarrage', 'Start')} : ${err.message}`, true);
}
window.domania = { get map() { return map; }, showSubsector };
