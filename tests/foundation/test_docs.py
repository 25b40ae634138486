"""Every environment variable the settings read is documented (datasette's habit)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_documented():
    settings_src = (ROOT / "src/alliance/settings.py").read_text()
    names = set(re.findall(r'(?:env_(?:str|bool|int|list)|_required)\("([A-Z_]+)"', settings_src))
    assert len(names) > 20
    doc = (ROOT / "docs/configuration.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert missing == [], f"undocumented settings: {missing}"
