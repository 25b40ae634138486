"""The Spanish catalogue: valid, compiled, and complete for everything a client reads."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.utils import translation

from tests.i18n.catalog import ALLIANCE, SPANISH_PO, client_files, is_client_facing, read


def test_every_client_facing_entry_is_translated_and_not_fuzzy():
    _header, entries = read(SPANISH_PO)
    files = client_files()
    missing = [path for path in files if not (ALLIANCE / path).exists()]
    assert not missing, f"client_files.txt names files that do not exist: {missing}"
    client_entries = [e for e in entries if is_client_facing(e, files)]
    assert len(client_entries) > 200  # the whole client side, not a handful
    untranslated = [e.msgid for e in client_entries if not e.translated]
    fuzzy = [e.msgid for e in client_entries if e.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_every_client_file_with_text_contributes_entries():
    """A client template that stops marking its text shows up here (no entry references it)."""
    _header, entries = read(SPANISH_PO)
    referenced = {ref.rsplit(":", 1)[0] for e in entries for ref in e.references}
    files = client_files() - {"templates/core/_form_fields.html"}  # only shows form data
    assert sorted(files - referenced) == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) not installed")
def test_msgfmt_checks_the_catalogue():
    result = subprocess.run(
        ["msgfmt", "--statistics", "-c", "-o", "/dev/null", str(SPANISH_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr


def test_the_compiled_catalogue_is_the_committed_one():
    """Django reads the .mo: it must hold the same translations as the .po."""
    _header, entries = read(SPANISH_PO)
    with translation.override("es"):
        for entry in entries:
            if entry.msgid_plural is None and entry.msgctxt is None and entry.translated:
                assert translation.gettext(entry.msgid) == entry.msgstr[0], entry.msgid
