"""Checks that every polygon Domania wrote is valid by the OGC simple-features rules, with
tools that share no code with Domania: Mapbox's vector-tile decoder and Shapely (GEOS).

    python3 check.py pmtiles ARCHIVE.pmtiles      every tile of the archive, every layer
    python3 check.py geojson FILE.json [...]      every feature of GeoJSON FeatureCollections

Prints a JSON summary (what was read, how many polygons, the invalid ones with GEOS's reason)
and exits 1 when a polygon is invalid (or nothing was read).
"""

import gzip
import json
import sys

import mapbox_vector_tile
from pmtiles.reader import MmapSource, Reader, all_tiles
from shapely.geometry import shape
from shapely.validation import explain_validity


def polygons_of(geometry):
    """The shape of a GeoJSON-like geometry when it is a polygon or a multipolygon."""
    if not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    return shape(geometry)


def check_tiles(path):
    summary = {"tiles": 0, "polygons": 0, "invalid": [], "invalid_count": 0, "by_zoom": {}}
    with open(path, "rb") as f:
        source = MmapSource(f)
        for (z, x, y), data in all_tiles(source):
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            summary["tiles"] += 1
            layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
            for name, layer in layers.items():
                for feature in layer["features"]:
                    g = polygons_of(feature["geometry"])
                    if g is None:
                        continue
                    summary["polygons"] += 1
                    zoom = summary["by_zoom"].setdefault(str(z), {"polygons": 0, "invalid": 0})
                    zoom["polygons"] += 1
                    if not g.is_valid:
                        zoom["invalid"] += 1
                        summary["invalid_count"] += 1
                        if len(summary["invalid"]) < 20:
                            props = feature.get("properties", {})
                            summary["invalid"].append(
                                {
                                    "tile": f"{z}/{x}/{y}",
                                    "layer": name,
                                    "id": props.get("idu") or props.get("space") or props.get("id") or feature.get("id"),
                                    "reason": explain_validity(g),
                                }
                            )
    return summary, summary["tiles"] > 0


def check_geojson(paths):
    summary = {"files": 0, "features": 0, "polygons": 0, "empty": 0, "invalid": [], "invalid_count": 0}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        summary["files"] += 1
        for feature in doc.get("features", []):
            summary["features"] += 1
            g = polygons_of(feature.get("geometry"))
            if g is None:
                continue
            if g.is_empty:
                summary["empty"] += 1
                continue
            summary["polygons"] += 1
            if not g.is_valid:
                summary["invalid_count"] += 1
                if len(summary["invalid"]) < 20:
                    summary["invalid"].append(
                        {"file": path, "id": feature.get("id"), "reason": explain_validity(g)}
                    )
    return summary, summary["features"] > 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("pmtiles", "geojson"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "pmtiles":
        summary, read = check_tiles(sys.argv[2])
    else:
        summary, read = check_geojson(sys.argv[2:])
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if read and summary["invalid_count"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
