"""What each role may do: one declared table (role × action), enforced by ``authorize`` and
nowhere else, and shown as it is on the administration page.

Each cell is a scope: ``any`` force, the forces an inspector is ``assigned`` to, the ``own``
force of a force liaison, or nothing (default deny). A few cells also name the states in
which they apply (a force liaison sees their force's draft only during the factual accuracy
check). A force outside the actor's scope is *not found*, never *forbidden*, so nobody learns
that another force's draft exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from peelkit.errors import Forbidden, NotFound

Role = Literal["admin", "lead inspector", "inspector", "analyst", "force liaison"]
ROLES: tuple[Role, ...] = Role.__args__  # type: ignore[attr-defined]
ROLE_WORDING: dict[Role, str] = {
    "admin": "Manages users and roles; sees no unpublished content",
    "lead inspector": "Moderates every force, returns with comments, approves and publishes",
    "inspector": "Writes and submits the drafts of the forces assigned to them",
    "analyst": "Reads everything unpublished and publishes the indicators; edits no judgment",
    "force liaison": "Sees their own force's draft during the factual accuracy check, and "
    "comments on it",
}
Scope = Literal["any", "assigned", "own"]


@dataclass(frozen=True)
class Rule:
    scope: Scope
    #: the workflow states in which the rule applies (None: in every state)
    states: frozenset[str] | None = None


FAC = frozenset({"factual accuracy check"})

#: The one table of permissions: action → role → rule. Absent means denied.
PERMISSIONS: dict[str, dict[Role, Rule]] = {
    # reading a force's unpublished judgments, its comments and its history
    "read judgments": {
        "lead inspector": Rule("any"),
        "inspector": Rule("assigned"),
        "analyst": Rule("any"),
        "force liaison": Rule("own", FAC),
    },
    "edit judgments": {
        "lead inspector": Rule("any"),
        "inspector": Rule("assigned"),
    },
    "import judgments": {"lead inspector": Rule("any"), "inspector": Rule("assigned")},
    "submit": {"lead inspector": Rule("any"), "inspector": Rule("assigned")},
    "resubmit": {"lead inspector": Rule("any"), "inspector": Rule("assigned")},
    "return": {"lead inspector": Rule("any")},
    "moderate": {"lead inspector": Rule("any")},
    "open factual accuracy check": {"lead inspector": Rule("any")},
    "comment on factual accuracy": {
        "lead inspector": Rule("any", FAC),
        "force liaison": Rule("own", FAC),
    },
    "approve": {"lead inspector": Rule("any")},
    "schedule": {"lead inspector": Rule("any")},
    "unschedule": {"lead inspector": Rule("any")},
    "correct": {"lead inspector": Rule("any")},
    "view releases": {
        "lead inspector": Rule("any"),
        "analyst": Rule("any"),
        "inspector": Rule("any"),
    },
    "view moderation": {"lead inspector": Rule("any"), "analyst": Rule("any")},
    # a force's history holds its unpublished text: not for admins, who see no content
    "read audit": {
        "lead inspector": Rule("any"),
        "analyst": Rule("any"),
        "inspector": Rule("assigned"),
    },
    "verify audit": {"admin": Rule("any"), "lead inspector": Rule("any")},
    "manage users": {"admin": Rule("any")},
    # publishing new data (the indicators) through a release, keeping the published judgments
    "publish data": {"analyst": Rule("any"), "lead inspector": Rule("any")},
}
ACTIONS = tuple(PERMISSIONS)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (or one named on the command line)."""

    id: int
    username: str
    role: Role
    #: a force liaison's force; None for the other roles
    force: str | None = None
    #: the forces an inspector is assigned to
    assigned: frozenset[str] = frozenset()


def in_scope(actor: Actor, rule: Rule, force: str | None) -> bool:
    if rule.scope == "any" or force is None:
        return True
    if rule.scope == "assigned":
        return force in actor.assigned
    return force == actor.force


def allows(actor: Actor, action: str, force: str | None = None, state: str | None = None) -> bool:
    """Whether ``actor`` may take ``action`` on ``force`` in ``state`` (a force-wide action
    with ``force`` None asks whether the role may take it anywhere)."""
    rule = PERMISSIONS[action].get(actor.role)
    if rule is None or not in_scope(actor, rule, force):
        return False
    return rule.states is None or state is None or state in rule.states


def authorize(
    actor: Actor, action: str, force: str | None = None, state: str | None = None
) -> None:
    """Raise unless ``actor`` may take ``action`` on ``force`` in ``state``: ``NotFound`` when
    the force is outside everything the actor may read (or the role reads nothing), so its
    existence is not disclosed; ``Forbidden`` when the actor may read it but not do this."""
    if action not in PERMISSIONS:
        raise KeyError(f"undeclared action {action!r}: declare it in roles.PERMISSIONS")
    if allows(actor, action, force, state):
        return
    if force is not None and not allows(actor, "read judgments", force, state):
        raise NotFound("no such force's judgments here")
    raise Forbidden(f"a {actor.role} may not {action} here")


def table() -> list[tuple[str, dict[Role, str]]]:
    """The permission table as words, for the administration page and the docs."""
    out: list[tuple[str, dict[Role, str]]] = []
    for action, rules in PERMISSIONS.items():
        cells: dict[Role, str] = {}
        for role in ROLES:
            rule = rules.get(role)
            if rule is None:
                cells[role] = "—"
                continue
            words = {"any": "any force", "assigned": "assigned forces", "own": "own force"}
            cell = words[rule.scope]
            if rule.states:
                cell += " (" + ", ".join(sorted(rule.states)) + ")"
            cells[role] = cell
        out.append((action, cells))
    return out
