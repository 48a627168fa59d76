"""The traceability database: its tables, the connection and the one-transaction rule.

Where
    ``--db URL``, else the environment variable ``MAGCYCLE_DATABASE_URL``,
    else ``sqlite:///magcycle.db`` in the working folder. SQLite is embedded
    (WAL journal, foreign keys on, 60 s busy wait); PostgreSQL by URL
    (``postgresql+psycopg://user@host:port/db``).

Schema
    Alembic migrations in ``magcycle/trace/migrations`` (:func:`migrate`);
    every command but ``trace init`` refuses a database that is not at
    :data:`SCHEMA_HEAD`. The tables are a projection of the ledger: each
    row is written in the same transaction as the ledger entry of the event
    that made it, and ``trace audit`` replays the ledger against them.

One transaction per command
    :func:`transaction` opens one; a write transaction takes the site's write
    lock first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped
    advisory lock), so concurrent writers append to the ledger one after the
    other: no gap in the sequence, no fork in the hash chain. A failure rolls
    the whole command back.
"""

from __future__ import annotations

import os
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (BigInteger, Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, create_engine,
                        event, text)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from magcycle.documents import clip
from magcycle.errors import InputError

__all__ = ["DEFAULT_URL", "SCHEMA_HEAD", "metadata", "settings", "ledger", "lots", "campaigns", "consumptions",
           "account_moves", "signing_keys", "certificates", "ledger_frontier", "planned_campaigns", "users", "api_tokens", "web_sessions", "database_url", "sqlite_file", "open_engine", "migrate", "revision",
           "require_head", "transaction", "DatabaseError"]

DEFAULT_URL = "sqlite:///magcycle.db"
#: the Alembic revision the code expects (the newest in migrations/versions)
SCHEMA_HEAD = "0005"
#: the key of PostgreSQL's advisory write lock (any constant; 'MAGC' in ASCII)
_PG_LOCK = 0x4D414743

metadata = MetaData()

settings = Table("settings", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

ledger = Table(
    "ledger", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),  # RFC 8785 JSON of the entry without its hash: the bytes hashed
)

lots = Table(
    "lots", metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),  # feed | product
    Column("product", String(200)),
    Column("supplier", String(200)),
    Column("category", String(64)),
    Column("consumer", String(8)),  # pre | post (feed lots)
    Column("mass_kg", Float, nullable=False),  # dry mass (feed), net mass (product)
    Column("gross_mass_kg", Float),
    Column("dated", String(10), nullable=False),  # received (feed) or produced (product), ISO date
    Column("campaign_id", String(200)),
    Column("doc", Text, nullable=False),  # the lot's full record as JSON (assay, origin, evidence, content ...)
    Column("seq", BigInteger, nullable=False),
)

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(200), primary_key=True),
    Column("plant", String(200), nullable=False),
    Column("start", String(10), nullable=False),
    Column("end", String(10), nullable=False),
    Column("custody", String(16), nullable=False),
    Column("doc", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

consumptions = Table(
    "consumptions", metadata,
    Column("campaign_id", String(200), ForeignKey("campaigns.id"), primary_key=True),
    Column("lot_id", String(200), ForeignKey("lots.id"), primary_key=True),
    Column("mass_kg", Float, nullable=False),
)

account_moves = Table(
    "account_moves", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("site", String(200), nullable=False),
    Column("element", String(4), nullable=False),
    Column("attribute", String(32), nullable=False),
    Column("period", String(7), nullable=False),
    Column("kind", String(32), nullable=False),  # transformation | claim | reversal
    Column("lot_id", String(200), nullable=False),
    Column("delta_kg", Float, nullable=False),
    Column("balance_after_kg", Float, nullable=False),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(200), primary_key=True),  # the did:key verification method
    Column("created_at", String(40), nullable=False),
    Column("retired_at", String(40)),
    Column("seq", BigInteger, nullable=False),
)

certificates = Table(
    "certificates", metadata,
    Column("id", String(200), primary_key=True),
    Column("lot_id", String(200), ForeignKey("lots.id"), nullable=False),
    Column("status_index", Integer, nullable=False, unique=True),
    Column("issued_at", String(40), nullable=False),
    Column("credential", Text, nullable=False),
    Column("revoked_at", String(40)),
    Column("seq", BigInteger, nullable=False),
)


ledger_frontier = Table(
    "ledger_frontier", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the one row, id 1
    Column("size", BigInteger, nullable=False),
    Column("nodes", Text, nullable=False),  # JSON [[height, hash hex], ...] (magcycle.trace.ledger.frontier_push)
)

planned_campaigns = Table(
    "planned_campaigns", metadata,
    Column("id", String(200), primary_key=True),  # PLAN-ID/P-001
    Column("plan_id", String(64), nullable=False),
    Column("family", String(64), nullable=False),
    Column("custody", String(16), nullable=False),
    Column("start", String(10), nullable=False),
    Column("end", String(10), nullable=False),
    Column("doc", Text, nullable=False),  # the planned campaign as the plan's ledger entry holds it
    Column("seq", BigInteger, nullable=False),
)

# the web application's accounts (magcycle.app): a user's name and role are ledger events (``user``), replayed by
# the audit; the password hash, tokens and sessions are access control, kept here only
users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the bearer token (the token itself is not kept)
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the session cookie
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)


class DatabaseError(InputError):
    """The database cannot be used (unreachable, not initialised, at another revision): bad input, exit 2."""

    def __init__(self, reason: str) -> None:
        super().__init__("--db", reason)


def database_url(given: str | None = None) -> str:
    """``given``, else ``MAGCYCLE_DATABASE_URL``, else :data:`DEFAULT_URL`."""
    return given or os.environ.get("MAGCYCLE_DATABASE_URL") or DEFAULT_URL


def _sqlite_file(url) -> Path | None:
    db = url.database
    return Path(db) if db and db != ":memory:" and not db.startswith("file:") else None


def sqlite_file(given: str | None = None) -> Path | None:
    """The file of the database (:func:`database_url` of ``given``) when it is SQLite; None for another database
    or a URL that cannot be read (refused where the database is opened)."""
    try:
        url = make_url(database_url(given))
    except ArgumentError:
        return None
    return _sqlite_file(url) if url.get_backend_name() == "sqlite" else None


def open_engine(given: str | None = None, *, create: bool = False, pool: int | None = None) -> Engine:
    """An engine on the database (module docstring), checked reachable. A SQLite file is only
    created when ``create`` (``trace init``); otherwise a missing one is refused. ``pool``: how many
    connections it may hold at once (default SQLAlchemy's 5 + 10 overflow; the web server asks more)."""
    raw = database_url(given)
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {clip(raw)}") from None
    path = _sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if path is not None and not create and not path.is_file():
        raise DatabaseError(f"no database at {clip(str(path))}; create it with 'magcycle trace init'")
    if path is not None and create and not path.parent.is_dir():
        raise DatabaseError(f"cannot create {clip(str(path))}: no folder {clip(str(path.parent))}")
    try:
        sizes = {} if pool is None else {"pool_size": max(1, pool // 4), "max_overflow": pool - max(1, pool // 4)}
        engine = create_engine(url, **_engine_options(url), **sizes)
    except (NoSuchModuleError, ImportError, ArgumentError) as exc:
        raise DatabaseError(f"cannot use {clip(url.render_as_string())}: {clip(exc, 120)}") from None
    if url.get_backend_name() == "sqlite":
        _sqlite_events(engine)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseError(f"cannot reach {clip(url.render_as_string(hide_password=True))}: "
                            f"{clip(str(reason).splitlines()[0] if str(reason) else type(reason).__name__, 160)}") from None
    return engine


def _engine_options(url) -> dict:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 60.0}}
    return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}


def _sqlite_events(engine: Engine) -> None:
    """SQLite: the driver's own transaction handling off; WAL, foreign keys, busy wait; a write
    transaction begins IMMEDIATE (takes the write lock at once), a read one DEFERRED."""
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        if cur.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        write = conn.get_execution_options().get("magcycle_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def revision(conn: Connection) -> str | None:
    """The database's Alembic revision, or None when it has no schema (one catalogue query, no reflection)."""
    probe = ("SELECT to_regclass('alembic_version') IS NOT NULL" if conn.dialect.name == "postgresql" else
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
    if conn.dialect.name not in ("postgresql", "sqlite"):
        from sqlalchemy import inspect

        present = inspect(conn).has_table("alembic_version")
    else:
        present = bool(conn.exec_driver_sql(probe).scalar())
    if not present:
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(engine_or_conn, to: str = "head") -> tuple[str | None, str]:
    """Create the schema or migrate it to ``to``; (revision before, after). On an engine, in a transaction of its
    own; on a connection, in the caller's (which commits it with whatever else it records)."""
    from alembic import command

    if isinstance(engine_or_conn, Engine):
        with transaction(engine_or_conn) as conn:
            return migrate(conn, to)
    conn = engine_or_conn
    before = revision(conn)
    command.upgrade(_alembic_config(conn), to)
    return before, revision(conn)


#: engines whose database was found at the schema head (a schema does not go back under a running command)
_AT_HEAD: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def require_head(conn: Connection) -> None:
    """Refuse a database without the schema, or at another revision than this code's (checked once per engine)."""
    if conn.engine in _AT_HEAD:
        return
    rev = revision(conn)
    if rev is None:
        raise DatabaseError("the database has no magcycle schema; create it with 'magcycle trace init'")
    if rev != SCHEMA_HEAD:
        raise DatabaseError(f"the database is at schema revision {rev}, this magcycle needs {SCHEMA_HEAD}; "
                            "migrate it with 'magcycle trace init'")
    _AT_HEAD.add(conn.engine)


@contextmanager
def transaction(engine: Engine, *, write: bool = True):
    """One transaction (module docstring): committed when the block ends, rolled back on any error."""
    try:
        conn = engine.connect().execution_options(magcycle_write=write)
        if not write and engine.dialect.name == "postgresql":  # one snapshot for the whole read (an audit)
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot reach the database: {clip(exc, 160)}") from None
    conn.info.pop("magcycle_ledger", None)  # the head and frontier cached by store.record hold for one transaction
    try:
        with conn.begin():
            if write and engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            yield conn
    except DBAPIError as exc:
        if isinstance(exc.orig, Exception) and "locked" in str(exc.orig):
            raise DatabaseError(f"the database stayed locked by another writer: {clip(exc.orig, 120)}") from None
        raise
    finally:
        conn.info.pop("magcycle_ledger", None)
        conn.close()
