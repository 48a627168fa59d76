"""``magcycle serve`` and ``magcycle users add|list``: the web application (:mod:`magcycle.app`) and its users.

The password of ``users add`` comes from ``--password-file`` (its first
line) or from a prompt (twice, without echo); never from an argument, where
other users of the machine could read it.
"""

from __future__ import annotations

import sys

from magcycle.cli.common import EXIT_INPUT, Failure, dumps, guard, table

__all__ = ["cmd_serve", "cmd_users_add", "cmd_users_list", "read_password"]


def read_password(path: str | None) -> str:
    """The new user's password (module docstring); one-line failures for a missing file or a prompt refused."""
    if path is not None:
        from magcycle.documents import read_text

        text = guard(lambda: read_text(path, field="--password-file"))
        return text.splitlines()[0] if text.splitlines() else ""
    if not sys.stdin or not sys.stdin.isatty():
        raise Failure("error: --password-file: needed when there is no terminal to prompt for the password",
                      EXIT_INPUT)
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Failure("error: password: the two entries differ", EXIT_INPUT)
    return first


def cmd_users_add(args) -> str:
    from magcycle.app.accounts import add_user
    from magcycle.cli.trace import actor, session

    password = read_password(args.password_file)
    with session(args) as conn:
        user = add_user(conn, args.name, args.role, password, actor())
    return f"user {user['name']} added with role {user['role']}\n"


def cmd_users_list(args) -> str:
    from sqlalchemy import select

    from magcycle.cli.trace import session
    from magcycle.trace import db

    with session(args, write=False) as conn:
        rows = [{"name": r.name, "role": r.role, "created_at": r.created_at}
                for r in conn.execute(select(db.users.c.name, db.users.c.role, db.users.c.created_at)
                                      .order_by(db.users.c.name))]
    if args.json:
        return dumps(rows)
    return table(["user", "role", "created"], [[r["name"], r["role"], r["created_at"]] for r in rows]) + "\n"


def cmd_serve(args) -> str:
    if not 0 < args.port < 65536:
        raise Failure(f"error: --port: a port number 1 to 65535, got {args.port}", EXIT_INPUT)
    try:
        import uvicorn

        from magcycle.app import create_app
    except ImportError as exc:
        raise Failure(f"error: the web application needs the 'web' extra (pip install 'magcycle[web]'): {exc}",
                      EXIT_INPUT) from None
    app = guard(lambda: create_app(args.db, scheduler=args.scheduler, keys=args.keys,
                                   secure_cookies=args.secure_cookies))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return ""
