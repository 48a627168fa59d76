"""magcycle.app: the plant's web application and REST API (FastAPI), with roles (``magcycle serve``)."""

from magcycle.app.policy import POLICY, ROLES, allowed
from magcycle.app.server import create_app

__all__ = ["create_app", "POLICY", "ROLES", "allowed"]
