"""Access checks for views: one decorator, permissions not role names, foreign rows are 404s."""
from functools import wraps

from flask import abort, request
from flask_login import current_user

from ..extensions import db, login_manager
from .models import User
from .permissions import has_permission
from .scoping import Scope


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def require(*permissions, organizer: bool = False, exhibitor: bool = False):
    """Signed-in users holding every named permission (and, if asked, of the organizer or an exhibitor)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if organizer and current_user.is_exhibitor_staff:
                abort(403)
            if exhibitor and not current_user.is_exhibitor_staff:
                abort(403)
            if not all(has_permission(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_scope() -> Scope:
    return Scope.of(current_user)


def client_ip() -> str | None:
    return request.remote_addr
