"""QGIS 3.22 (Debian's python3-qgis) as a client of tessera's vector tiles: an XYZ vector tile
layer on the server's tiles, the server's MapLibre style through QGIS's own converter, and a
map rendered offscreen. Prints a JSON report for tests/qgis.rs.

usage: python3 qgis_vector_tiles.py BASE_URL TILES_PATH STYLE_PATH PNG W,S,E,N
"""
import json
import os
import sys
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (  # noqa: E402
    Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
    QgsDataSourceUri, QgsMapBoxGlStyleConversionContext, QgsMapBoxGlStyleConverter,
    QgsMapRendererSequentialJob, QgsMapSettings,
    QgsProject, QgsRectangle, QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402

base, tiles, style_path, png, bbox = sys.argv[1:6]
app = QgsApplication([], False)
app.initQgis()

uri = QgsDataSourceUri()
uri.setParam("type", "xyz")
uri.setParam("url", base + tiles)
uri.setParam("zmin", "0")
uri.setParam("zmax", "16")
layer = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), "tessera")

converter = QgsMapBoxGlStyleConverter()
style = urllib.request.urlopen(base + style_path).read().decode()
# The sprite, as QGIS's own vector tile layer fetches it for a style URL: the converter reads
# the hatches of fill-pattern layers from it.
context = QgsMapBoxGlStyleConversionContext()
sprite = json.loads(style).get("sprite")
if sprite:
    sheet = QImage()
    sheet.loadFromData(urllib.request.urlopen(sprite + ".png").read())
    context.setSprites(sheet, urllib.request.urlopen(sprite + ".json").read().decode())
status = converter.convert(style, context)
renderer = converter.renderer()
if renderer is not None:
    layer.setRenderer(renderer)

# The way a QGIS user does it (Vector Tile layer, "Style URL"): QGIS fetches the style and its
# sprite itself. Count the hatches (raster fills from the sprite) it made.
by_url = QgsDataSourceUri()
by_url.setParam("type", "xyz")
by_url.setParam("url", base + tiles)
by_url.setParam("styleUrl", base + style_path)
url_layer = QgsVectorTileLayer(bytes(by_url.encodedUri()).decode(), "tessera (style URL)")
url_layer.loadDefaultStyle()
url_patterns = 0
if url_layer.renderer() is not None:
    for st in url_layer.renderer().styles():
        symbol = st.symbol()
        if symbol is not None:
            url_patterns += sum(1 for sl in symbol.symbolLayers() if sl.layerType() == "RasterFill")

settings = QgsMapSettings()
settings.setLayers([layer])
mercator = QgsCoordinateReferenceSystem("EPSG:3857")
settings.setDestinationCrs(mercator)
w, s, e, n = map(float, bbox.split(","))
to_mercator = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), mercator, QgsProject.instance())
settings.setExtent(to_mercator.transformBoundingBox(QgsRectangle(w, s, e, n)))
settings.setOutputSize(QSize(800, 500))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png)

# How many pixels of each colour, sampled on a grid.
colours = {}
for y in range(0, image.height(), 2):
    for x in range(0, image.width(), 2):
        c = QColor(image.pixel(x, y)).name()
        colours[c] = colours.get(c, 0) + 1

print(json.dumps({
    "qgis": Qgis.QGIS_VERSION,
    "valid": layer.isValid(),
    "crs": layer.crs().authid(),
    "convert_status": int(status),
    "convert_error": converter.errorMessage(),
    "warnings": list(converter.warnings()),
    "sprite_images": len(context.spriteDefinitions()),
    "url_style_patterns": url_patterns,
    "styles": [s.styleName() for s in renderer.styles()] if renderer else [],
    "render_errors": [err.message for err in job.errors()],
    "colours": colours,
}))
