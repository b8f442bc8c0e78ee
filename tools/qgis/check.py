"""QGIS as a client of a PostGIS store: opens a layer with QGIS's own PostgreSQL provider,
reads it (count, key, a box, features fetched again by id) and tries to edit it, then prints
what it saw as JSON. Used by the end-to-end tests (tests/postgis.rs); needs Debian's
python3-qgis and qgis-providers, run by Debian's /usr/bin/python3.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis/check.py HOST PORT DB USER PASSWORD TABLE
"""
import json
import sys

from qgis.core import QgsApplication, QgsDataSourceUri, QgsFeatureRequest, QgsRectangle, QgsVectorLayer

host, port, db, user, password, table = sys.argv[1:7]
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
uri = QgsDataSourceUri()
uri.setConnection(host, port, db, user, password)
uri.setDataSource("public", table, "geom", "", "")


def open_layer():
    return QgsVectorLayer(uri.uri(False), table, "postgres")


layer = open_layer()
out = {"valid": layer.isValid()}
if layer.isValid():
    ext = layer.extent()
    # The south-west quarter of the layer's extent: QGIS's own box query.
    box = QgsRectangle(ext.xMinimum(), ext.yMinimum(), ext.center().x(), ext.center().y())
    first = next(layer.getFeatures(QgsFeatureRequest().setLimit(1)))
    again = list(layer.getFeatures(QgsFeatureRequest(first.id())))
    out.update(
        count=layer.featureCount(),
        key=layer.dataProvider().uri().keyColumn(),
        crs=layer.crs().authid(),
        box=[box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()],
        in_box=sum(1 for _ in layer.getFeatures(QgsFeatureRequest().setFilterRect(box))),
        refetched=len(again) == 1 and again[0].attributes() == first.attributes(),
        key_value=first["key"],
    )
    # An edit of one attribute, committed as a QGIS user would.
    column = layer.fields().indexOf("key")
    layer.startEditing()
    layer.changeAttributeValue(first.id(), column, "edited in QGIS")
    out["committed"] = layer.commitChanges()
    out["errors"] = "\n".join(layer.commitErrors())
    layer.rollBack()
    # Read again by its key (QGIS numbers the features of a two-column key per layer it opens).
    reread = open_layer().getFeatures(QgsFeatureRequest().setFilterExpression(f"\"fid\" = {first['fid']} AND \"dep\" = '{first['dep']}'"))
    out["key_after"] = [f["key"] for f in reread]
app.exitQgis()
print(json.dumps(out))
