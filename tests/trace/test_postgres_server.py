"""The database fixtures themselves, through SQLAlchemy on both back ends of ``trace_db_url``: a fresh empty
database per test, commit and rollback, committed data seen by a second connection (and uncommitted data
not), and on PostgreSQL a real server of version 15 or later listening on the URL's address."""

import re
import sqlite3

import sqlalchemy as sa

METADATA = sa.MetaData()
LOTS = sa.Table(
    "lots", METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot", sa.String(32), nullable=False),
    sa.Column("mass_kg", sa.Float, nullable=False),
)


def _engine(url):
    return sa.create_engine(url)


def _rows(conn):
    return sorted(tuple(r) for r in conn.execute(sa.select(LOTS.c.id, LOTS.c.lot, LOTS.c.mass_kg)))


def test_each_test_gets_a_fresh_empty_database(trace_db_url):
    engine = _engine(trace_db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        METADATA.create_all(engine)
        assert sa.inspect(engine).get_table_names() == [LOTS.name]
    finally:
        engine.dispose()


def test_commit_keeps_rows_and_rollback_drops_them(trace_db_url):
    kept = [{"id": i, "lot": f"L{i}", "mass_kg": 100.0 + 2.5 * i} for i in range(1, 4)]
    dropped = {"id": len(kept) + 1, "lot": "L-rolled-back", "mass_kg": 1.0}
    engine = _engine(trace_db_url)
    try:
        METADATA.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(LOTS), kept)
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(sa.insert(LOTS), [dropped])
            assert len(_rows(conn)) == len(kept) + 1  # visible inside its own transaction
            trans.rollback()
        with engine.connect() as conn:
            rows = _rows(conn)
        assert rows == sorted((r["id"], r["lot"], r["mass_kg"]) for r in kept)
        assert dropped["lot"] not in {lot for _, lot, _ in rows}
    finally:
        engine.dispose()


def test_a_second_connection_sees_committed_data_only(trace_db_url):
    first = {"id": 1, "lot": "A", "mass_kg": 12.5}
    second = {"id": 2, "lot": "B", "mass_kg": 7.25}
    engine = _engine(trace_db_url)
    try:
        METADATA.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(LOTS), [first])
        with engine.connect() as writer, engine.connect() as reader:
            trans = writer.begin()
            writer.execute(sa.insert(LOTS), [second])
            before = _rows(reader)
            reader.rollback()  # end the reader's transaction so that it sees the writer's commit
            trans.commit()
            after = _rows(reader)
            reader.rollback()
        assert before == [tuple(first.values())]
        assert after == [tuple(first.values()), tuple(second.values())]
    finally:
        engine.dispose()


def test_the_server_is_the_real_one(trace_db_url):
    engine = _engine(trace_db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(sa.text("SELECT sqlite_version()")).scalar_one() == sqlite3.sqlite_version
                return
            assert engine.dialect.name == "postgresql"
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            major = int(re.match(r"PostgreSQL (\d+)", version).group(1))
            assert major >= 15
            assert major == int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
            database, address, port = conn.execute(
                sa.text("SELECT current_database(), host(inet_server_addr()), inet_server_port()")).one()
        url = sa.make_url(trace_db_url)
        assert (database, address, port) == (url.database, url.host, url.port)
        assert re.fullmatch(r"t_[0-9a-f]{32}", database)
    finally:
        engine.dispose()
