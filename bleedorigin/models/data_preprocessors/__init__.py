from .bleed_data_preprocessor import BleedDataPreprocessor

__all__ = ['BleedDataPreprocessor']
