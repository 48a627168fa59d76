"""The fixture the ``magcycle trace`` command-line tests share: an initialised site."""

from __future__ import annotations

import pytest

from .helpers import receipt, run


@pytest.fixture
def site(trace_db_url, tmp_path, monkeypatch, capsys):
    """An initialised site with a key and two lots: KR swarf (pre, covered upstream) and GB EV (post, clean)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAGCYCLE_DATABASE_URL", trace_db_url)
    monkeypatch.setenv("MAGCYCLE_KEYS_DIR", str(tmp_path / "keys"))
    assert run(capsys, "trace", "init", "--site", "Plant-DE", "--country", "DE")[0] == 0
    assert run(capsys, "trace", "keys", "create")[0] == 0
    assert run(capsys, "trace", "receive", receipt(tmp_path, id="KR-SW-0001", mined="CN", refined="CN",
                                                    separated="CN"))[0] == 0
    assert run(capsys, "trace", "receive", receipt(tmp_path, id="GB-EV-0002", category="ev", consumer="post",
                                                    mass="1.5 t", received="2026-03-05", generated="GB"))[0] == 0
    return {"url": trace_db_url, "tmp": tmp_path}
