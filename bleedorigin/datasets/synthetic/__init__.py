"""Built-in synthetic ESD benchmark (the default dataset of the configs).

``generate_benchmark`` renders a BleedOrigin-Bench tree; ``ensure_synthetic``
generates it on first use and recognises a complete tree. See
``docs/synthetic.md`` for the clip design.
"""
from .generator import ensure_synthetic, generate_benchmark
from .presets import PRESETS, SyntheticPreset, get_preset

__all__ = ['ensure_synthetic', 'generate_benchmark', 'PRESETS', 'SyntheticPreset', 'get_preset']
