#!/usr/bin/env python3
"""Build the bundled `china-real` world (scenarios/china-real/units.csv and edges.csv) from the
administrative-division table of the PyPI package cpca 0.5.5 (data/cpca/adcodes.csv, MIT).

    python3 scripts/china-real.py            # rewrites scenarios/china-real/*.csv

Rules (docs/worlds.md says why):
- the mainland only: codes 71 (Taiwan), 81 (Hong Kong) and 82 (Macao) are left out;
- provinces (XX0000) are level 0, prefecture-level units (XXYY00) level 1, county-level units
  (XXYYZZ) level 2, each under the unit its code names;
- placeholders are not units: "市辖区" (a city's districts as a group), the municipality of
  Chongqing's "县" and "省/自治区直辖县级行政区划" (counties directly under a province); the
  county-level units below them hang from the province (so do the municipalities' districts);
- a row without a longitude and latitude is left out (the script lists them);
- edges: each unit's 6 nearest units of the same level (great-circle distance), plus every pair
  of units with the same parent and level.
Standard library only; the output is sorted by code, so running it twice gives the same bytes.
"""
import csv
import math
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = os.path.join(ROOT, "data", "cpca", "adcodes.csv")
OUT = os.path.join(ROOT, "scenarios", "china-real")
LEFT_OUT_PROVINCES = {"71", "81", "82"}
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
K = 6


def level_of(code):
    if code[2:] == "0000":
        return 0
    if code[4:] == "00":
        return 1
    return 2


def km(a, b):
    """Great-circle distance (haversine, Earth radius 6371 km) between (lon, lat) pairs."""
    (lon1, lat1), (lon2, lat2) = [(math.radians(p[0]), math.radians(p[1])) for p in (a, b)]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def main():
    rows = {}
    with open(SOURCE, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            adcode = r["adcode"].strip()
            if len(adcode) != 12 or adcode[6:] != "000000":
                sys.exit(f"{SOURCE}: unexpected adcode {adcode}")
            rows[adcode[:6]] = r
    units = {}
    skipped = []
    for code in sorted(rows):
        r = rows[code]
        name = r["name"].strip()
        if code[:2] in LEFT_OUT_PROVINCES or name in PLACEHOLDERS:
            continue
        if not r["longitude"].strip() or not r["latitude"].strip():
            skipped.append(f"{code} {name}")
            continue
        units[code] = (name, level_of(code), float(r["longitude"]), float(r["latitude"]))
    parent = {}
    for code, (name, level, _, _) in units.items():
        if level == 0:
            parent[code] = ""
        elif level == 1:
            parent[code] = code[:2] + "0000"
        else:
            pref = code[:4] + "00"
            parent[code] = pref if pref in units else code[:2] + "0000"
        if parent[code] and parent[code] not in units:
            sys.exit(f"{code} {name}: no parent unit {parent[code]}")

    edges = set()
    by_level = {}
    for code, u in units.items():
        by_level.setdefault(u[1], []).append(code)
    for codes in by_level.values():
        for a in codes:
            pa = units[a][2:]
            near = sorted((km(pa, units[b][2:]), b) for b in codes if b != a)[:K]
            for _, b in near:
                edges.add((min(a, b), max(a, b)))
    groups = {}
    for code, u in units.items():
        groups.setdefault((parent[code], u[1]), []).append(code)
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                edges.add((min(a, b), max(a, b)))

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "units.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name", "level", "parent", "x", "y"])
        for code, (name, level, lon, lat) in units.items():
            w.writerow([code, name, level, parent[code], f"{lon:.6f}", f"{lat:.6f}"])
    with open(os.path.join(OUT, "edges.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["a", "b"])
        for a, b in sorted(edges):
            w.writerow([a, b])
    counts = [sum(1 for u in units.values() if u[1] == lv) for lv in range(3)]
    print(
        f"china-real: {len(units)} units ({counts[0]} provinces, {counts[1]} prefecture-level, "
        f"{counts[2]} county-level), {len(edges)} edges; left out without a position: "
        + (", ".join(skipped) or "none")
    )


if __name__ == "__main__":
    main()
