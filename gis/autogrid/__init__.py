"""Automatic grids: atoms from roads and buildings, a balanced contiguous partition, a plan.

``atoms`` turns a community into numbers (geometry at the edge), ``partition`` splits the
atom graph (``graph``: its pieces as lists; ``seed``: first partitions; ``parts``: the
tallies; ``refine``: local search, balance pass, polish), ``run`` writes the result into
a new draft plan (never live).
"""

from gis.autogrid.atoms import AtomGraph, Atoms, build_atoms
from gis.autogrid.partition import Metrics, measure, partition
from gis.autogrid.run import AutogridResult, autogrid

__all__ = [
    "AtomGraph",
    "Atoms",
    "AutogridResult",
    "Metrics",
    "autogrid",
    "build_atoms",
    "measure",
    "partition",
]
