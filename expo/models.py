"""Every module's tables, imported in dependency order (for the app, Alembic and tests)."""
from .core.models import ApiToken, AuditEntry, Category, Edition, MailAttachment, MailMessage, Organizer, Show, User  # noqa: F401
from .exhibitors.models import Company, Exhibitor, exhibitor_categories  # noqa: F401
from .leads.models import Lead  # noqa: F401
from .onsite.models import Scan  # noqa: F401
from .visitors.models import Person, Registration, registration_interests  # noqa: F401
