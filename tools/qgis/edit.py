"""QGIS as a SIG officer's editor of a store: opens the sub-sectors as a user does — a
GeoPackage store's file with QGIS's OGR provider, a PostGIS store's view
`domania_edit.subsectors` with its PostgreSQL provider — and saves into them (edit, then
save), then prints what QGIS said as JSON. Used by the end-to-end tests (tests/qgis.rs); needs
Debian's python3-qgis and qgis-providers, run by Debian's /usr/bin/python3.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis/edit.py STORE MOVE SPLIT NEW RACE SERVER

STORE is the GeoPackage's path, or `postgresql://USER:PASSWORD@HOST:PORT/DB`; SERVER the URL
of the `domania serve` that follows it.

1. moves a vertex of sub-sector MOVE towards its centre and splits SPLIT in two down its
   middle, the new part given the key NEW; one save;
2. waits until the server has made the save a version (the store's journal of edits is empty
   again, `absorbed_s`) and serves the moved sub-sector's new shape (`served_after_save_s`);
3. saves a bow-tie over MOVE, then a sub-sector without a key: both refused, with what QGIS
   shows;
4. two officers load the layer; the first moves a vertex of RACE and saves; once that is a
   version, the second saves his own move of the same sub-sector: refused;
5. changes a parcel's section: refused (the cadastre is imported, not edited).
"""
import json
import sqlite3
import sys
import time
import urllib.request
from urllib.parse import urlparse

from qgis.core import QgsApplication, QgsDataSourceUri, QgsGeometry, QgsPointXY, QgsVectorLayer

store, move_key, split_key, new_key, race_key, server = sys.argv[1:7]
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()


DATABASE = store.startswith("postgresql:")


def database():
    url = urlparse(store)
    uri = QgsDataSourceUri()
    uri.setConnection(url.hostname, str(url.port), url.path.lstrip("/"), url.username, url.password)
    return uri


def open_layer(name="subsectors"):
    if DATABASE and name == "subsectors":
        uri = database()
        # The view Domania makes for editors, its key the feature's fid.
        uri.setDataSource("domania_edit", "subsectors", "geom", "", "fid")
        layer = QgsVectorLayer(uri.uri(False), name, "postgres")
    elif DATABASE:
        uri = database()
        # Domania's own table, partitioned by département: its key is two columns.
        uri.setDataSource("public", name, "geom", "", "fid,dep")
        layer = QgsVectorLayer(uri.uri(False), name, "postgres")
    else:
        layer = QgsVectorLayer(f"{store}|layername={name}", name, "ogr")
    assert layer.isValid(), f"QGIS cannot open the {name} of the store"
    return layer


def by_key(layer):
    return {f["key"]: f for f in layer.getFeatures()}


def pending():
    if DATABASE:
        from qgis.core import QgsProviderRegistry

        conn = QgsProviderRegistry.instance().providerMetadata("postgres").createConnection(database().uri(False), {})
        return int(conn.executeSql("SELECT count(*) FROM domania_edit.journal")[0][0])
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM domania_edits").fetchone()[0]
    finally:
        db.close()


def wait_absorbed(limit=30.0):
    """Seconds until the journal is empty (a server made the saves a version), or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if pending() == 0:
            return round(time.monotonic() - start, 3)
        time.sleep(0.05)
    return None


def served(key):
    with urllib.request.urlopen(f"{server}/collections/subsectors/items/{key}", timeout=30) as answer:
        return json.load(answer)["geometry"]


def wait_served(key, before, limit=30.0):
    """Seconds until the server serves a shape of `key` other than `before`, or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if served(key) != before:
            return round(time.monotonic() - start, 3)
        time.sleep(0.05)
    return None


def towards_centre(feature, vertex=1, share=0.3):
    geom = QgsGeometry(feature.geometry())
    centre = geom.centroid().asPoint()
    v = geom.vertexAt(vertex)
    geom.moveVertex(v.x() + (centre.x() - v.x()) * share, v.y() + (centre.y() - v.y()) * share, vertex)
    return geom


def save(layer):
    ok = layer.commitChanges()
    errors = "\n".join(layer.commitErrors())
    if not ok:
        layer.rollBack()
    return {"saved": ok, "errors": errors}


out = {}

# 1. A boundary moved along a new fence and a sub-sector split after a résidentialisation.
layer = open_layer()
features = by_key(layer)
layer.startEditing()
layer.changeGeometry(features[move_key].id(), towards_centre(features[move_key]))
box = features[split_key].geometry().boundingBox()
middle = box.center().x()
out["split"] = int(layer.splitFeatures([QgsPointXY(middle, box.yMinimum() - 10), QgsPointXY(middle, box.yMaximum() + 10)]))
key_field = layer.fields().indexOf("key")
new_parts = [f for f in layer.getFeatures() if f.id() < 0]
out["new_parts"] = len(new_parts)
for f in new_parts:
    layer.changeAttributeValue(f.id(), key_field, new_key)
shape_before = served(move_key)
out["edit"] = save(layer)
# 2. Made a version by the server that follows the store, and served.
out["served_after_save_s"] = wait_served(move_key, shape_before)
out["absorbed_s"] = wait_absorbed()

# 3. What Domania refuses, refused at save.
layer = open_layer()
features = by_key(layer)
layer.startEditing()
b = features[move_key].geometry().boundingBox()
bow_tie = QgsGeometry.fromWkt(
    f"MULTIPOLYGON((({b.xMinimum()} {b.yMinimum()},{b.xMaximum()} {b.yMaximum()},"
    f"{b.xMaximum()} {b.yMinimum()},{b.xMinimum()} {b.yMaximum()},{b.xMinimum()} {b.yMinimum()})))"
)
layer.changeGeometry(features[move_key].id(), bow_tie)
out["bow_tie"] = save(layer)
layer.startEditing()
layer.changeAttributeValue(features[split_key].id(), key_field, "")
out["no_key"] = save(layer)
out["pending_after_refusals"] = pending()

# 4. Two officers, one sub-sector.
first, second = open_layer(), open_layer()
mine, theirs = by_key(first)[race_key], by_key(second)[race_key]
first.startEditing()
first.changeGeometry(mine.id(), towards_centre(mine, vertex=2))
out["race_first"] = save(first)
out["race_absorbed_s"] = wait_absorbed()
second.startEditing()
second.changeGeometry(theirs.id(), towards_centre(theirs, vertex=3))
out["race_second"] = save(second)

# 5. The cadastre is not edited: it comes whole from its source.
parcels = open_layer("parcels")
parcel = next(parcels.getFeatures())
parcels.startEditing()
parcels.changeAttributeValue(parcel.id(), parcels.fields().indexOf("section"), "ZZ")
out["parcel_edit"] = save(parcels)

print(json.dumps(out), flush=True)
# The layers go before QGIS does (else its exit crashes, after the work is done).
del layer, first, second, parcels
app.exitQgis()
