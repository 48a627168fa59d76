"""Helpers of the ``magcycle trace`` command-line tests: receipt and campaign files, one command's outcome, and
the database as it stands (every row of every table)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from magcycle.cli import main

__all__ = ["RECEIPT", "CLEAN", "CAMPAIGN", "run", "receipt", "campaign", "snapshot"]

RECEIPT = """id = "{id}"
supplier = "{supplier}"
category = "{category}"
consumer = "{consumer}"
mass = "{mass}"
received = {received}
feed = "{category}"
[origin]
generated = "{generated}"
mined = "{mined}"
refined = "{refined}"
separated = "{separated}"
melted = "{melted}"
produced = "{produced}"
"""
CLEAN = dict(mined="AU", refined="MY", separated="MY", melted="JP", produced="JP")
CAMPAIGN = """id = "{id}"
plant = "reference"
start = {start}
end = {end}
custody = "{custody}"
[lots]
{lots}
"""


def run(capsys, *argv):
    """(exit status, stdout, stderr) of one command."""
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def receipt(tmp: Path, **kw) -> str:
    fields = dict(supplier="Example Magnet Co.", category="swarf", consumer="pre", mass="2.0 t",
                  received="2026-03-02", generated="KR", **CLEAN) | kw
    path = tmp / f"{kw['id']}.toml"
    path.write_text(RECEIPT.format(**fields), encoding="utf-8")
    return str(path)


def campaign(tmp: Path, cid: str, lots: dict, custody="mass_balance", start="2026-03-10", end="2026-03-20") -> str:
    path = tmp / f"{cid}.toml"
    body = "\n".join(f'"{k}" = "{v}"' for k, v in lots.items())
    path.write_text(CAMPAIGN.format(id=cid, start=start, end=end, custody=custody, lots=body), encoding="utf-8")
    return str(path)


def snapshot(url: str) -> dict:
    """Every row of every table, sorted: the database as it stands."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type='table'" if url.startswith("sqlite")
                else "SELECT tablename FROM pg_tables WHERE schemaname='public'"))]
            return {n: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{n}"')).all())) for n in sorted(names)}
    finally:
        engine.dispose()
