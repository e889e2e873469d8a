"""The module registry: each module's ``__init__.py`` declares what it plugs in; core iterates.

A module declares its blueprints, the permissions it defines (with the roles that hold them and their
translated names), the status types whose labels templates and scripts read, navigation entries,
the modules holding its Celery tasks, beat entries, its part of the demo data, and hooks: named
extension points where a lower module asks "anyone with something to add here?" without importing
the higher ones (a visitor's registration page shows the check-ins the on-site module knows of).

Everything is named by import path ("expo.visitors.views:bp") and resolved when the app is built, so
that declaring a module imports nothing heavy and nothing upward.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Permission:
    name: str
    label: Any  # a lazy translated string
    roles: tuple[str, ...]


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation. ``area``: "organizer" (top bar of organizer staff), "exhibitor" (top bar
    of exhibitor staff) or "edition" (the sub-navigation of an edition's pages: the endpoint takes the
    edition from ``g.edition``)."""

    endpoint: str
    label: Any
    area: str
    permission: str | None = None
    icon: str = "circle"
    order: int = 50
    # Entries of one group show as one menu in the bar, where the group's first entry would be: a NavGroup
    # (core.registry) with its label and icon. Keeps a bar of many set-up pages readable on a laptop.
    group: Any = None


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: Any
    icon: str = "three-dots"


@dataclass(frozen=True)
class ActivityKind:
    """How the timeline shows one kind of activity: ``label`` is a lazy translated string whose
    ``%(field)s`` placeholders are filled from the activity's details (a missing field shows as "…")."""

    label: Any
    icon: str = "dot"
    colour: str = "secondary"


# The groups of the edition's bar that several modules put entries in.
from flask_babel import lazy_gettext as _l  # noqa: E402

SETUP = NavGroup("setup", _l("Set-up"), "sliders")
# The exhibitor's bar: the company's own pages (profile, products, staff, staff badges) are one menu.
COMPANY = NavGroup("company", _l("Company"), "building")
REPORTS = NavGroup("reports", _l("Reports"), "bar-chart")


@dataclass(frozen=True)
class Module:
    name: str
    blueprints: tuple[str, ...] = ()
    models: str | None = None
    permissions: tuple[Permission, ...] = ()
    machines: tuple[str, ...] = ()  # "expo.x.models:MACHINE" — status types (codes, labels, moves)
    nav: tuple[NavEntry, ...] = ()
    tasks: tuple[str, ...] = ()  # modules whose import registers Celery tasks
    beat: dict = field(default_factory=dict)  # Celery beat entries, merged into beat_schedule
    demo: str | None = None  # "expo.x.demo:contribute", called in floor order by expo.demo
    # hook name -> "module:function", or a tuple of them (called in that order)
    hooks: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    # The audit log in words: the module's actions ("lead.captured" -> "Lead captured"), the detail fields it
    # writes, and its tables as objects ("leads" -> "Lead").
    audit_actions: dict = field(default_factory=dict)
    audit_fields: dict = field(default_factory=dict)
    audit_objects: dict = field(default_factory=dict)
    # The timeline in words: activity kind -> ActivityKind (label with %(name)s fields from the details, icon).
    activity_kinds: dict = field(default_factory=dict)


def resolve(path: str):
    module_name, _sep, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


class Registry:
    def __init__(self):
        self.modules: dict[str, Module] = {}
        self._role_permissions: dict[str, frozenset[str]] | None = None
        self._machines: dict[str, Any] | None = None
        self._labels: dict[str, Any] | None = None

    def register(self, module: Module) -> None:
        self.modules[module.name] = module
        self._role_permissions = self._machines = self._labels = None

    def load(self, names) -> list[Module]:
        """Import each named package and register the ``MODULE`` it declares, in the given order."""
        loaded = []
        for name in names:
            module = importlib.import_module(name).MODULE
            self.register(module)
            loaded.append(module)
        return loaded

    # --- permissions --------------------------------------------------------------------------------
    @property
    def permissions(self) -> dict[str, Permission]:
        return {p.name: p for m in self.modules.values() for p in m.permissions}

    def role_permissions(self) -> dict[str, frozenset[str]]:
        if self._role_permissions is None:
            grants: dict[str, set[str]] = {}
            for permission in self.permissions.values():
                for role in permission.roles:
                    grants.setdefault(role, set()).add(permission.name)
            self._role_permissions = {role: frozenset(names) for role, names in grants.items()}
        return self._role_permissions

    # --- status types -------------------------------------------------------------------------------
    def machines(self) -> dict[str, Any]:
        """Every registered status type by name (``edition_status``, ``scan_reason``, …)."""
        if self._machines is None:
            self._machines = {}
            for module in self.modules.values():
                for path in module.machines:
                    machine = resolve(path)
                    self._machines[machine.name] = machine
        return self._machines

    def labels(self) -> dict[str, Any]:
        """code -> lazy label over every status type; the first machine naming a code wins."""
        if self._labels is None:
            self._labels = {}
            for machine in self.machines().values():
                for code, state in machine.states.items():
                    self._labels.setdefault(code, state.label)
        return self._labels

    # --- navigation, hooks, demo --------------------------------------------------------------------
    def nav(self, area: str) -> list[NavEntry]:
        entries = [e for m in self.modules.values() for e in m.nav if e.area == area]
        return sorted(entries, key=lambda e: e.order)

    def hook(self, name: str) -> list[Callable]:
        """Every function plugged into the hook, in floor order (a module may name one path or a tuple)."""
        found = []
        for module in self.modules.values():
            paths = module.hooks.get(name, ())
            found.extend(resolve(path) for path in ((paths,) if isinstance(paths, str) else paths))
        return found

    def demo_steps(self) -> list[Callable]:
        return [resolve(m.demo) for m in self.modules.values() if m.demo]

    def audit_words(self, kind: str) -> dict:
        """``actions``, ``fields`` or ``objects`` of every module's audit vocabulary, merged."""
        words = {}
        for module in self.modules.values():
            words.update(getattr(module, f"audit_{kind}"))
        return words

    def activity_kinds(self) -> dict:
        kinds = {}
        for module in self.modules.values():
            kinds.update(module.activity_kinds)
        return kinds

    def beat_schedule(self) -> dict:
        schedule = {}
        for module in self.modules.values():
            schedule.update(module.beat)
        return schedule


registry = Registry()
