"""Paged lists: every list says "n of N" and pages (the pager component in templates/_ui.html reads a Page)."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func, select

from ..extensions import db

PAGE_SIZES = (25, 50, 100)


@dataclass
class Page:
    """One page of a list: what the pager component reads (page, pages, per_page, total, items, iter_pages)."""
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def iter_pages(self, *, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Page numbers to link, with None where a gap ("…") goes."""
        pages_end = self.pages + 1
        if pages_end == 1:
            return
        left_end = min(1 + left_edge, pages_end)
        yield from range(1, left_end)
        if left_end == pages_end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, pages_end)
        if mid_start - left_end > 0:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == pages_end:
            return
        right_start = max(mid_end, pages_end - right_edge)
        if right_start - mid_end > 0:
            yield None
        yield from range(right_start, pages_end)


def page_size(value, sizes=PAGE_SIZES) -> int:
    """A page size the lists offer (25/50/100); anything else is the first."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return sizes[0]
    return value if value in sizes else sizes[0]


def page_number(value) -> int:
    try:
        return min(max(int(value), 1), 1_000_000)
    except (TypeError, ValueError):
        return 1


def paginate(stmt, *, page: int = 1, per_page: int = PAGE_SIZES[0], scalars: bool = True) -> Page:
    """One page of an ordered select: a count query and a page query. A page past the end shows the last."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(page, 1), max(1, ceil(total / per_page)))
    query = stmt.limit(per_page).offset((page - 1) * per_page)
    items = list(db.session.scalars(query) if scalars else db.session.execute(query).all())
    return Page(items, total, page, per_page)
