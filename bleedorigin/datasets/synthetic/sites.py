"""Appearance of the eight anatomical sites of BleedOrigin-Bench.

Each site has its own mucosa palette and texture statistics (fold pattern,
vessel density, granularity, gloss), loosely following endoscopic atlases:
pale pink-white oesophagus with longitudinal palisade vessels, orange-pink
gastric mucosa with rugae in the body and cardia, yellowish villous duodenum,
and paler colon with a dense vascular net and semilunar folds. Colours are RGB.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

RGB = Tuple[int, int, int]


@dataclass(frozen=True)
class SiteStyle:
    """Texture statistics of one site.

    Args:
        base (RGB): Mean mucosa colour.
        secondary (RGB): Colour that low-frequency variation blends towards.
        vessel (RGB): Colour of submucosal vessels.
        vessel_density (float): Vessel curves per 100k texture pixels.
        vessel_orientation (float | None): Preferred vessel direction in radians
            (``None``: isotropic net).
        fold (str): ``'rugae'`` (long wavy ridges), ``'rings'`` (concentric
            semilunar folds), ``'longitudinal'`` (straight parallel folds) or
            ``'smooth'``.
        fold_period (float): Fold spacing in reference pixels.
        fold_strength (float): Brightness modulation of the folds.
        grain (float): Amplitude of fine granular texture (villi, areae gastricae).
        gloss (float): Density of specular glints on the wet surface.
    """

    base: RGB
    secondary: RGB
    vessel: RGB
    vessel_density: float
    vessel_orientation: object
    fold: str
    fold_period: float
    fold_strength: float
    grain: float
    gloss: float


SITES: Dict[str, SiteStyle] = {
    'gastric_antrum': SiteStyle((214, 120, 112), (232, 156, 146), (150, 55, 60), 2.0, None,
                                'smooth', 260, 0.10, 0.05, 1.0),
    'gastric_body': SiteStyle((205, 100, 98), (226, 134, 126), (140, 45, 55), 1.5, None,
                              'rugae', 120, 0.22, 0.05, 1.2),
    'duodenum': SiteStyle((218, 146, 118), (230, 170, 140), (160, 70, 60), 1.5, None,
                          'rings', 90, 0.16, 0.07, 0.8),
    'ascending_colon': SiteStyle((226, 150, 138), (238, 178, 166), (150, 50, 62), 6.0, None,
                                 'rings', 160, 0.18, 0.03, 1.0),
    'esophagus': SiteStyle((222, 160, 155), (236, 192, 186), (160, 60, 80), 5.0, 1.5708,
                           'longitudinal', 150, 0.10, 0.03, 1.3),
    'sigmoid_colon': SiteStyle((214, 125, 118), (232, 160, 150), (135, 40, 56), 7.0, None,
                               'rings', 110, 0.20, 0.03, 1.0),
    'cardia': SiteStyle((206, 108, 104), (226, 142, 134), (140, 45, 58), 2.5, None,
                        'rugae', 140, 0.18, 0.05, 1.1),
    'lesser_curvature': SiteStyle((212, 122, 114), (230, 154, 142), (145, 50, 58), 2.0, 0.3,
                                  'longitudinal', 200, 0.12, 0.05, 1.0),
}

SITE_NAMES = tuple(SITES)
