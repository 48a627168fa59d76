"""Who may do what: the one policy table of the web application and REST API.

Every route names one action (:data:`ROUTE_ACTIONS` is filled as routes are
declared); a request is let through when the action is ``public``, or when
the caller is signed in and the caller's role is in :data:`POLICY` for that
action. The access-matrix test walks every route of the application against
this table, so a route without an action fails it.

Roles (issue 18): viewer reads; engineer also simulates and designs; planner
also plans campaigns; compliance also receives lots, runs campaigns, issues,
revokes and audits certificates; admin does everything and manages users.
"""

from __future__ import annotations

__all__ = ["ROLES", "POLICY", "PUBLIC", "allowed", "roles_for"]

ROLES = ("viewer", "engineer", "planner", "compliance", "admin")

#: actions anyone may take, signed in or not
PUBLIC = frozenset({"public"})

_ALL = frozenset(ROLES)
POLICY: dict[str, frozenset[str]] = {
    "public": _ALL,  # login, the verify page, static assets
    "read": _ALL,  # dashboard, lots, campaigns, plans, genealogy, certificates, runs, jobs
    "simulate": frozenset({"engineer", "admin"}),  # plant runs, cascade solves and designs, uncertainty, TEA
    "plan": frozenset({"planner", "admin"}),  # campaign plans (and recording them as planned)
    "receive": frozenset({"compliance", "admin"}),  # feed-lot intake
    "campaign": frozenset({"compliance", "admin"}),  # recording a campaign that ran
    "certify": frozenset({"compliance", "admin"}),  # issuing and revoking certificates
    "audit": frozenset({"compliance", "admin"}),  # the ledger audit
    "session": _ALL,  # signing out, revoking one's own tokens
}


def roles_for(action: str) -> frozenset[str]:
    """The roles allowed ``action``; KeyError for an action the table does not know."""
    return POLICY[action]


def allowed(role: str | None, action: str) -> bool:
    """May a caller of ``role`` (None: not signed in) take ``action``?"""
    if action in PUBLIC:
        return True
    return role is not None and role in POLICY[action]
