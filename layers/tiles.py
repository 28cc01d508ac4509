"""Mapbox Vector Tiles of the catalogue layers, built inside PostGIS, with an LRU cache.

A tile is one statement: the layer's live rows intersecting the tile's envelope (with
the buffer) are transformed to EPSG:3857, simplified to the tile's resolution
(``ST_SimplifyPreserveTopology``, one tile unit), clipped and quantised by
``ST_AsMVTGeom`` and encoded by ``ST_AsMVT`` as one MVT layer named after the catalogue
layer; below the zooms of its source's ``by_zoom``, only the rows meeting their
conditions (the main roads of a prefecture in view). At most ``max_features`` features
go into a tile. A tile with no feature (or
below the layer's ``min_zoom``) is empty: ``b""``, which the API answers with 204.

Tiles are cached in-process (LRU, ``GRIDGOV_TILE_CACHE_SIZE`` tiles) with their ETag;
call :func:`invalidate_tiles` when the data changes (grid edits, plan publication).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gis.errors import InvalidParameter
from layers.features import get_collection

__all__ = [
    "MAX_ZOOM",
    "Tile",
    "TileCache",
    "TileSettings",
    "cached_tile",
    "check_tile",
    "get_tile_cache",
    "get_tile_settings",
    "invalidate_tiles",
    "render_tile",
]

MAX_ZOOM = 24
#: Half the equator's length in EPSG:3857 metres.
_HALF_WORLD = 20037508.342789244


class TileSettings(BaseSettings):
    """Vector tile settings (environment ``GRIDGOV_TILE_…``)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_TILE_", extra="ignore")

    cache_size: int = Field(default=2048, ge=0, description="Tiles kept in memory (0: none).")
    max_features: int = Field(default=10_000, ge=1, description="Features per tile at most.")
    extent: int = Field(default=4096, ge=256, description="Tile units across a tile.")
    buffer: int = Field(default=64, ge=0, description="Tile units drawn beyond each edge.")
    max_age: int = Field(default=60, ge=0, description="Cache-Control max-age (seconds).")


@lru_cache(maxsize=1)
def get_tile_settings() -> TileSettings:
    """The process's tile settings, read from the environment on first use."""
    return TileSettings()


@dataclass(frozen=True)
class Tile:
    """An encoded tile (``b""`` when empty) and its strong ETag."""

    data: bytes
    etag: str

    @classmethod
    def of(cls, data: bytes) -> Tile:
        return cls(data, '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"')


def check_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Tile coordinates as integers; :class:`InvalidParameter` when out of range."""
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        raise InvalidParameter(f"tile {z}/{x}/{y}: z, x and y are whole numbers") from None
    if not 0 <= zi <= MAX_ZOOM:
        raise InvalidParameter(f"tile {z}/{x}/{y}: zoom must be 0..{MAX_ZOOM}")
    side = 1 << zi
    if not (0 <= xi < side and 0 <= yi < side):
        raise InvalidParameter(f"tile {z}/{x}/{y}: at zoom {zi}, x and y must be 0..{side - 1}")
    return zi, xi, yi


def render_tile(db: Session | Connection, layer_id: str, z: int, x: int, y: int) -> bytes:
    """The layer's tile ``z/x/y`` encoded as MVT by PostGIS (``b""`` when empty)."""
    spec, source = get_collection(layer_id)
    settings = get_tile_settings()
    if z < spec.min_zoom:
        return b""
    resolution = 2 * _HALF_WORLD / (1 << z) / settings.extent  # metres per tile unit
    props = ", ".join(f'q."{name}"' for name, _ in source.columns)
    sql = f"""
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS search
), rows AS (
    SELECT {source.select_list()}
    FROM {source.table}, bounds
    WHERE {source.live()} AND {source.at_zoom(z)} AND ST_Intersects({source.geom}, bounds.search)
    ORDER BY {source.order}
    LIMIT :cap
), mvt AS (
    SELECT {props}, ST_AsMVTGeom(
        ST_SimplifyPreserveTopology(ST_Transform(q.geom, 3857), :tolerance),
        bounds.tile, :extent, :buffer, true
    ) AS geom
    FROM rows AS q, bounds
)
SELECT ST_AsMVT(mvt, :name, :extent, 'geom') FROM mvt WHERE geom IS NOT NULL"""
    data = db.execute(
        text(sql),
        {
            "z": z,
            "x": x,
            "y": y,
            "margin": settings.buffer / settings.extent,
            "cap": settings.max_features,
            "tolerance": resolution,
            "extent": settings.extent,
            "buffer": settings.buffer,
            "name": spec.id,
        },
    ).scalar_one()
    return bytes(data or b"")


class TileCache:
    """A thread-safe LRU of tiles keyed by ``(layer, z, x, y)``, counting hits and misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self.generation = 0  # bumped by clear(): a tile rendered before it is not kept
        self._tiles: OrderedDict[tuple[str, int, int, int], Tile] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tiles)

    def get(self, key: tuple[str, int, int, int]) -> Tile | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is None:
                self.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.hits += 1
            return tile

    def put(self, key: tuple[str, int, int, int], tile: Tile, generation: int) -> None:
        """Keep ``tile`` unless the cache was cleared since ``generation`` was read."""
        if self.size == 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            self._tiles[key] = tile
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.size:
                self._tiles.popitem(last=False)

    def clear(self, layer_id: str | None = None) -> int:
        """Drop every tile (of one layer, if named); how many were dropped."""
        with self._lock:
            keys = [k for k in self._tiles if layer_id is None or k[0] == layer_id]
            for key in keys:
                del self._tiles[key]
            self.generation += 1
            return len(keys)


@lru_cache(maxsize=1)
def get_tile_cache() -> TileCache:
    """The process's tile cache (sized by :class:`TileSettings`)."""
    return TileCache(get_tile_settings().cache_size)


def invalidate_tiles(layer_id: str | None = None) -> int:
    """Forget cached tiles — all, or one layer's; call it when the data changes.

    Grids appear in several layers (``grids``, ``grids_<kind>``, ``police_posts`` names
    their grid), so after a grid edit call it without a layer. Returns the tiles dropped.
    """
    return get_tile_cache().clear(layer_id)


def cached_tile(
    render: Callable[[], bytes], layer_id: str, z: int, x: int, y: int
) -> tuple[Tile, bool]:
    """The tile from the cache, or rendered by ``render()`` and cached; and whether it hit."""
    cache = get_tile_cache()
    key = (layer_id, z, x, y)
    generation = cache.generation
    tile = cache.get(key)
    if tile is not None:
        return tile, True
    tile = Tile.of(render())
    cache.put(key, tile, generation)
    return tile, False
