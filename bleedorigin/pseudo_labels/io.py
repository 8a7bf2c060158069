"""Moved to :mod:`bleedorigin.datasets.pseudo_label_io` (the file format is read by the
datasets); this name is kept for old imports."""
from bleedorigin.datasets.pseudo_label_io import *  # noqa: F401,F403
