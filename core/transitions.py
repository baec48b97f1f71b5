"""State machines written as tables: for each stateful thing (a mentorship, a request, a meeting,
a group membership...), one table of steps says from which state an action may be taken, by
whom, and to which state it leads. Services ``check`` a step before they act; views and
templates ask ``allowed_actions(thing, member)`` what to offer, so no rule is written twice.

A table is declared once, at import time, for its model class::

    MEMBERSHIP = Transitions(
        Membership,
        state=lambda membership: membership.status,
        sides=lambda membership, member: membership.group.sides_of(member),
        steps=[Step("pending", "approve", "manager", "active", _l("Approve"))],
        not_now=_l("This request was already answered."),
        not_yours=_l("Only the group's managers can do that."),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, g, has_app_context
from jinja2 import Template

from core.errors import InvalidInput, NotAllowed, NotFound

Thing = TypeVar("Thing")

_TABLES: dict[type, Transitions[Any]] = {}


@dataclass(frozen=True)
class Step:
    """From ``state``, a member on side ``by`` may take ``action``; the thing moves to ``to``.
    ``label`` is the button's words, ``done`` what the member reads after it. ``when`` is an
    extra condition on the thing (e.g. "the meeting is still to come"); ``None`` means always.
    ``not_yours`` and ``not_now`` override the table's refusals for this step (e.g. "only the
    proposer...", "ending early is already proposed")."""

    state: str
    action: str
    by: str
    to: str
    label: Any = ""  # str or a lazy string
    done: Any = ""
    when: Callable[[Any], bool] | None = None
    not_yours: Any = ""  # the refusal for a member on another side, if not the table's
    not_now: Any = ""  # the refusal in another state (or when ``when`` fails), if not the table's


class Transitions(Generic[Thing]):
    """The table of one kind of thing. ``state(thing)`` reads its state; ``sides(thing,
    member)`` names the sides the member is on (e.g. {"mentor"}, {"proposer"}; empty for a
    stranger). ``not_now``, ``not_yours`` and ``unknown`` are the words of the refusals; a
    ``not_now`` may also be a function of the thing, for words that name its state."""

    def __init__(
        self,
        kind: type[Thing],
        *,
        state: Callable[[Thing], str],
        sides: Callable[[Thing, Any], Collection[str]],
        steps: Iterable[Step],
        not_now: Any,
        not_yours: Any,
        unknown: Any = "",
    ) -> None:
        self.kind = kind
        self.steps = tuple(steps)
        self._state, self._sides = state, sides
        self._not_now, self._not_yours, self._unknown = not_now, not_yours, unknown
        _TABLES[kind] = self

    def actions(self) -> set[str]:
        return {step.action for step in self.steps}

    def allowed(self, thing: Thing, member: Any) -> dict[str, Step]:
        """The actions ``member`` may take on ``thing`` now, in the table's order."""
        state, sides = self._state(thing), self._sides(thing, member)
        allowed: dict[str, Step] = {}
        for step in self.steps:
            if step.state == state and step.by in sides and _holds(step, thing):
                allowed.setdefault(step.action, step)
        return allowed

    def check(self, thing: Thing, member: Any, action: str) -> Step:
        """The step ``member`` takes with ``action``; refused in words when the action is
        unknown (NotFound), the state does not allow it (InvalidInput) or the member is on
        no side that may take it (NotAllowed)."""
        if action not in self.actions():
            raise NotFound(_words(self._unknown or self._not_now, thing))
        step = self.allowed(thing, member).get(action)
        if step is not None:
            return step
        state = self._state(thing)
        possible = [s for s in self.steps if s.state == state and s.action == action]
        if possible and not any(s.by in self._sides(thing, member) for s in possible):
            raise NotAllowed(str(possible[0].not_yours or self._not_yours))
        not_now = next((s.not_now for s in self.steps if s.action == action and s.not_now), None)
        raise InvalidInput(_words(not_now or self._not_now, thing))


def _words(words: Any, thing: Any) -> str:
    """A refusal's words: a (lazy) string, or a function of the thing that returns them."""
    return str(words(thing) if callable(words) else words)


def _holds(step: Step, thing: Any) -> bool:
    if step.when is None:
        return True
    answers = g.get(_GUARD_ANSWERS) if has_app_context() else None
    if answers is None:
        return step.when(thing)
    key = (step.when, id(thing))
    if key not in answers:  # the thing is kept with its answer, so its id is not reused
        answers[key] = (thing, step.when(thing))
    held: bool = answers[key][1]
    return held


_GUARD_ANSWERS = "alma_guard_answers"


def guards_asked_once_per_render(app: Flask) -> None:
    """While a page renders, a step's ``when`` is asked once per thing: a page offering a
    mentorship's actions in three places asked "is an early end proposed?" three times,
    a query each. Nothing writes while a template renders, and a page's render is one
    moment, so the answers cannot go stale; they are dropped when the render ends, failed
    or not, and outside rendering every call asks again."""
    app.jinja_env.template_class = _KeepingGuardAnswers


class _KeepingGuardAnswers(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        outermost = has_app_context() and _GUARD_ANSWERS not in g  # not a render within one
        if outermost:
            setattr(g, _GUARD_ANSWERS, {})
        try:
            return super().render(*args, **kwargs)
        finally:
            if outermost:
                g.pop(_GUARD_ANSWERS, None)


def allowed_actions(thing: Any, member: Any) -> dict[str, Step]:
    """What ``member`` may do with ``thing`` now (action name → step), from its table; for
    templates: ``{% for action, step in allowed_actions(meeting, current_user).items() %}``."""
    for kind in type(thing).__mro__:
        if kind in _TABLES:
            return _TABLES[kind].allowed(thing, member)
    raise TypeError(f"no transition table for {type(thing).__name__}")
