#!/usr/bin/env python3
"""Writes the 6 x 4 grid of sub-sectors over Paris 18e (Lambert-93 GeoJSON) used to compare
Domania's shares with PostGIS. Same cells as tests/e2e.rs. With --partial, each cell shrinks to
a square of 40 % of its width around its centre: 24 scattered sub-sectors covering about a tenth
of the arrondissement, as housing estates do. Usage: paris-grid.py OUT [--partial]"""
import json, sys
partial = "--partial" in sys.argv[2:]
x0, y0, x1, y1 = 650557.0, 6864893.0, 653937.0, 6867056.0
w, h = (x1 - x0) / 6, (y1 - y0) / 4
feats = []
for r in range(4):
    for c in range(6):
        ax, ay = x0 + c * w, y0 + r * h
        if partial:
            side = 0.4 * w
            ax, ay = ax + (w - side) / 2, ay + (h - side) / 2
            fw = fh = side
        else:
            fw, fh = w, h
        feats.append({"type": "Feature", "properties": {"id": f"S{r}{c}", "name": f"Grid {r}-{c}"},
                      "geometry": {"type": "Polygon", "coordinates": [[[ax, ay], [ax + fw, ay], [ax + fw, ay + fh], [ax, ay + fh], [ax, ay]]]}})
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
           "features": feats}, open(sys.argv[1], "w"))
