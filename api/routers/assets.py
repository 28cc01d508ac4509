"""``/assets/...``: the whitelisted front-end packages installed by ``npm ci``.

Only the folders in :data:`layers.assets.ASSET_DIRS` are served; nothing else under
``node_modules`` is reachable.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gis.settings import get_settings
from layers.assets import ASSET_DIRS, ASSET_PREFIX

__all__ = ["mount_assets"]


def mount_assets(app: FastAPI) -> None:
    """Mount each asset package; a missing package answers 404 (run ``npm ci``)."""
    root = get_settings().server.assets_dir
    for url_dir, package_dir in ASSET_DIRS.items():
        app.mount(
            f"{ASSET_PREFIX}/{url_dir}",
            StaticFiles(directory=root / package_dir, check_dir=False),
            name=f"assets-{url_dir}",
        )
