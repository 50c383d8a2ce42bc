"""The signed-in pages, one module per part of the interface. Each module has
`router(site) -> APIRouter`; every module here is included, so a new part needs no wiring."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from fastapi import APIRouter

from web.site import Site


def site_routers(site: Site) -> Iterator[APIRouter]:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda found: found.name):
        if not module.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{module.name}").router(site)
