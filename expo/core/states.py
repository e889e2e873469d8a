"""Status types: a stateful column's codes, their translated labels, colours and icons, and the moves
allowed between them — in one place, on the model, read by services, templates and scripts alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class State:
    code: str
    label: Any  # lazy translated string
    color: str = "secondary"  # a Bootstrap contextual colour: success, warning, danger, info, primary, dark…
    icon: str = "circle"  # a bootstrap-icons name

    def __str__(self) -> str:
        return str(self.label)


class Machine:
    """The states of one column and, if it is a status, the moves between them.

    ``moves`` maps a state to the states it may move to; ``None`` means a plain set of codes
    (a category, a rating) where any value may replace any other.
    """

    def __init__(self, name: str, states: list[State], moves: dict[str, tuple[str, ...]] | None = None):
        self.name = name
        self.states = {s.code: s for s in states}
        self.moves = moves
        if moves is not None:
            unknown = {c for c in moves} | {t for targets in moves.values() for t in targets}
            assert unknown <= set(self.states), (name, unknown - set(self.states))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.states)

    def __contains__(self, code) -> bool:
        return code in self.states

    def __getitem__(self, code: str) -> State:
        return self.states[code]

    def state(self, code: str | None) -> State | None:
        if code is None:
            return None
        return self.states.get(code) or State(code, code)

    def label(self, code: str | None) -> str:
        state = self.state(code)
        return str(state.label) if state else ""

    def can_move(self, source: str, target: str) -> bool:
        if target not in self.states:
            return False
        if self.moves is None:
            return True
        return target in self.moves.get(source, ())

    def next_states(self, source: str) -> list[State]:
        if self.moves is None:
            return [s for c, s in self.states.items() if c != source]
        return [self.states[c] for c in self.moves.get(source, ())]

    def check(self, column: str) -> str:
        """The CHECK constraint expression that keeps the column inside the codes."""
        return f"{column} IN ({', '.join(repr(c) for c in self.states)})"

    def labels(self) -> dict[str, str]:
        """code -> translated label in the current language (for JSON handed to scripts)."""
        return {code: str(state.label) for code, state in self.states.items()}

