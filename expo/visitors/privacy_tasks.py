"""Retention in the background: the beat entry (visitors MODULE.beat) runs this hourly; it shreds every
edition whose retention period is over, one transaction per edition, so a failure in one keeps the others."""
from celery import shared_task

from ..extensions import db
from . import privacy


@shared_task
def shred_due_personal_data() -> list[dict]:
    """Shred the due editions; returns what was done (edition id, registrations, persons), for the log."""
    done = []
    for edition_id in [edition.id for edition in privacy.due_editions()]:
        db.session.rollback()  # each edition in its own transaction
        edition = privacy.still_due(edition_id)  # locked; another run may have done it meanwhile
        if edition is None:
            continue
        shredded = privacy.shred_edition(edition)
        db.session.commit()
        done.append(vars(shredded))
    return done
