#!/usr/bin/env python3
"""Writes the 6 x 4 grid of sub-sectors over Paris 18e (Lambert-93 GeoJSON) used to compare
Domania's shares with PostGIS. Same cells as tests/e2e.rs."""
import json, sys
x0, y0, x1, y1 = 650557.0, 6864893.0, 653937.0, 6867056.0
w, h = (x1 - x0) / 6, (y1 - y0) / 4
feats = []
for r in range(4):
    for c in range(6):
        ax, ay = x0 + c * w, y0 + r * h
        feats.append({"type": "Feature", "properties": {"id": f"S{r}{c}", "name": f"Grid {r}-{c}"},
                      "geometry": {"type": "Polygon", "coordinates": [[[ax, ay], [ax + w, ay], [ax + w, ay + h], [ax, ay + h], [ax, ay]]]}})
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
           "features": feats}, open(sys.argv[1], "w"))
