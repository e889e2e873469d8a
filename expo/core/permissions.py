"""Roles and the permissions they carry. Views check permissions, never role names.

Each module declares its permissions and the roles that hold them (``Module.permissions``); this is
the one place that answers "may this user do that?".
"""
from .registry import registry


def has_permission(user, permission: str) -> bool:
    if not (user and user.is_authenticated):
        return False
    return permission in registry.role_permissions().get(user.role, ())
