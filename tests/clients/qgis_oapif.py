"""QGIS (offscreen) reads one collection of a tessera server with its OGC API - Features
provider, as a user adding the layer from the Data Source Manager does; prints a JSON report:
the layer's validity, CRS, extent and fields, every feature's attribute and its geometry's
centroid (all pages, each feature as often as QGIS read it), and the attribute of those found
inside a box (QGIS sends it as `bbox`).

usage: qgis_oapif.py BASE_URL COLLECTION ATTRIBUTE MINX,MINY,MAXX,MAXY
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsFeatureRequest,
    QgsRectangle,
    QgsVectorLayer,
)

base, collection, attribute, box = sys.argv[1:5]
# The providers are found from the prefix; the OAPIF provider's downloads need the GUI
# application's event loop (offscreen: no display is used).
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], True)
app.initQgis()
layer = QgsVectorLayer(f"url='{base}' typename='{collection}'", collection, "OAPIF")
report = {
    "qgis": Qgis.QGIS_VERSION,
    "valid": layer.isValid(),
}
if layer.isValid():
    extent = layer.extent()
    report.update(
        {
            "crs": layer.crs().authid(),
            "geometry_type": layer.geometryType(),
            "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
            "fields": [f.name() for f in layer.fields()],
        }
    )
    features = []
    for f in layer.getFeatures():
        c = f.geometry().centroid().asPoint()
        features.append([str(f[attribute]), c.x(), c.y()])
    report["features"] = features
    x0, y0, x1, y1 = map(float, box.split(","))
    request = QgsFeatureRequest().setFilterRect(QgsRectangle(x0, y0, x1, y1))
    report["in_box"] = sorted(str(f[attribute]) for f in layer.getFeatures(request))
print(json.dumps(report), flush=True)
del layer
app.exitQgis()
