from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request activates its reader's language for the thread; later tests start in English."""
    yield
    translation.activate("en")
