from .mdcfm import MDCFM, CleanViewMemory, mdcfm_targets
from .mdg import MDGNeck

__all__ = ['MDCFM', 'MDGNeck', 'CleanViewMemory', 'mdcfm_targets']
