"""Fixtures of the pipeline tests (real registered models, random weights)."""
import pytest
from pipeline_fixtures import build_models


@pytest.fixture(scope='package')
def models():
    return build_models()
