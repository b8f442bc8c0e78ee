#!/usr/bin/env python3
"""Builds crates/domania-app/data/{communes,epci}.tsv.gz from the npm package
@etalab/decoupage-administratif (run `npm pack @etalab/decoupage-administratif@6.0.0` and
unpack it first). Usage: build.py PACKAGE_DIR OUT_DIR"""
import gzip, json, os, sys

src, out = sys.argv[1], sys.argv[2]
communes = json.load(open(os.path.join(src, "data/communes.json"), encoding="utf-8"))
epcis = json.load(open(os.path.join(src, "data/epci.json"), encoding="utf-8"))
epci_of = {m["code"]: e["code"] for e in epcis for m in e["membres"]}
rows = []
for c in communes:
    if c["type"] not in ("commune-actuelle", "arrondissement-municipal"):
        continue
    epci = epci_of.get(c["code"]) or epci_of.get(c.get("commune", ""), "")
    rows.append("\t".join([c["code"], c["nom"], ",".join(c.get("codesPostaux", [])), epci]))
text = "code\tnom\tcodes_postaux\tepci\n" + "\n".join(sorted(rows)) + "\n"
open(os.path.join(out, "communes.tsv.gz"), "wb").write(gzip.compress(text.encode(), 9, mtime=0))
text = "code\tnom\n" + "\n".join(sorted(f"{e['code']}\t{e['nom']}" for e in epcis)) + "\n"
open(os.path.join(out, "epci.tsv.gz"), "wb").write(gzip.compress(text.encode(), 9, mtime=0))
