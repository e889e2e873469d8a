"""Campaigns (floor 7): mailings to segments of the data at a bounded rate, unsubscribe, link tracking."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, Module, NavEntry, Permission

MANAGE_CAMPAIGNS = "manage_campaigns"  # write, preview (names and addresses) and send campaigns
VIEW_CAMPAIGNS = "view_campaigns"  # the list and the reports (counts only)

MODULE = Module(
    name="campaigns",
    demo="expo.campaigns.winback:demo",  # the campaigns demo (expo.campaigns.demo), then the win-back's
    blueprints=("expo.campaigns.views:bp", "expo.campaigns.winback_views:bp"),
    models="expo.campaigns.models",
    permissions=(
        Permission(MANAGE_CAMPAIGNS, _l("Write and send campaigns"), ("owner", "manager")),
        Permission(VIEW_CAMPAIGNS, _l("See campaigns and their reports"), ("owner", "manager", "analyst")),
    ),
    machines=("expo.campaigns.models:CAMPAIGN_STATUS", "expo.campaigns.models:RECIPIENT_STATUS"),
    nav=(NavEntry("campaigns.campaigns", _l("Campaigns"), "edition", VIEW_CAMPAIGNS, icon="megaphone", order=45),),
    tasks=("expo.campaigns.tasks", "expo.campaigns.survey_mail"),
    # A safety net for the batches each send schedules: every campaign that is sending gets its next batch
    # when its minute is over (a batch claims its minute, so the net never makes a campaign faster).
    beat={"campaigns-send-due-batches": {"task": "expo.campaigns.tasks.send_due_batches", "schedule": 60.0},
          # Repeating supply-and-demand digests: the next issue when the period is over (campaigns.digests).
          "campaigns-send-due-digests": {"task": "expo.campaigns.tasks.send_due_digests", "schedule": 3600.0},
          # The one reminder of a survey invitation, N days after it was sent (campaigns.survey_mail).
          "campaigns-survey-reminders": {"task": "expo.campaigns.survey_mail.send_due_reminders",
                                         "schedule": 3600.0}},
    hooks={"registration_link": "expo.campaigns.services:registration_link",
           "personal_data": "expo.campaigns.services:personal_data",
           # The churn watch list's "Start win-back campaign" form posts here (campaigns.winback_views).
           "watchlist_campaign": "expo.campaigns.winback_views:watchlist_campaign"},
    audit_actions={
        "campaign.created": _l("Campaign created"), "campaign.updated": _l("Campaign changed"),
        "campaign.status": _l("Campaign status changed"), "mail.unsubscribed": _l("Address unsubscribed"),
        "mail.resubscribed": _l("Address subscribed again"),
        "campaign.reminded": _l("Survey reminder sent"),
    },
    audit_fields={"campaign_id": _l("Campaign"), "recipients": _l("Recipients"), "name": _l("Name")},
    audit_objects={"campaigns": _l("Campaign"), "campaign_recipients": _l("Campaign recipient")},
    activity_kinds={
        "campaign.mail_sent": ActivityKind(_l("Campaign mail sent: %(campaign)s"), "envelope", "info"),
        "campaign.link_opened": ActivityKind(_l("Campaign link opened: %(campaign)s"), "link-45deg", "primary"),
    },
)
