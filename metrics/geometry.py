"""The stored municipal boundaries as the maps draw them (the build writes them: loaders/boundaries.py)."""

from __future__ import annotations

import json

import pandas as pd
import shapely

from metrics.query import run, sql_text


def national_geojson(con, codes=None, simplified: bool = True) -> dict:
    """A GeoJSON FeatureCollection (properties: ``code``) of the stored boundaries, in code order.

    ``codes`` limits it to those municipalities; ``simplified`` picks the browser shapes (rounded,
    small) or the full ones. Serialised with ``separators=(',', ':')`` the simplified national
    collection stays within ``loaders.boundaries.BROWSER_BUDGET_BYTES``.
    """
    name = "boundary_shapes" if simplified else "boundary_geometries"
    params = {"codes": None if codes is None else [str(code) for code in codes]}
    rows = con.execute(sql_text(name), params).fetchall()
    features = []
    for code, shape in rows:
        text = shape if simplified else shapely.to_geojson(shapely.from_wkb(bytes(shape)))
        features.append({"type": "Feature", "properties": {"code": code}, "geometry": json.loads(text)})
    return {"type": "FeatureCollection", "features": features}


def missing_boundaries(con) -> pd.DataFrame:
    """Municipalities without a stored polygon (code, pref_name, name, lat, lng): draw them as points."""
    return run(con, "missing_boundaries", {})
