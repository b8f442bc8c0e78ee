#!/usr/bin/env python3
"""Every tile of zooms MIN..MAX over a WGS84 box, one path per line, from a URL pattern with
{z}/{x}/{y}. Default box: Paris 18e as ../shared/TARGETS.md gives it (1,104 tiles z15-z18).
Usage: tile-paths.py PATTERN [MINZ MAXZ [W S E N]]"""
import math
import sys

pattern = sys.argv[1]
z0, z1 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (15, 18)
w, s, e, n = map(float, sys.argv[4:8]) if len(sys.argv) > 7 else (2.32575, 48.88224, 2.37173, 48.90184)


def tile(lon, lat, z):
    k = 2 ** z
    x = int((lon + 180.0) / 360.0 * k)
    r = math.radians(lat)
    y = int((1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0 * k)
    return x, y


for z in range(z0, z1 + 1):
    xa, ya = tile(w, n, z)
    xb, yb = tile(e, s, z)
    for x in range(xa, xb + 1):
        for y in range(ya, yb + 1):
            print(pattern.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))
