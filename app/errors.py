"""What a user asked for that cannot be done, as named errors whose words can be shown to them."""

from __future__ import annotations

from app.models import TeamDecision


class GameError(Exception):
    """Something a user asked for that cannot be done, in words to show them."""


class GameNotFound(GameError):
    """No game has that number (or it is not the caller's)."""


class SetupRejected(GameError):
    """Every problem with a game's setup, by the GameSetup field it belongs to (`seats.2`, `scoring.brand`)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(" ".join(message for _, message in problems))
        self.problems: dict[str, str] = {}
        for where, message in problems:
            known = self.problems.get(where)
            self.problems[where] = f"{known} {message}" if known else message


class RoundAlreadyResolved(GameError):
    """The round was resolved by someone else first (two clicks, two instructors, two servers)."""


class RoundMoved(GameError):
    """A decision was made for a round that is no longer the open one (resolved or rewound meanwhile)."""


class StaleDraft(GameError):
    """A teammate saved a newer version of the draft since this one was loaded."""

    def __init__(self, message: str, current: TeamDecision):
        super().__init__(message)
        self.current = current


class DecisionRejected(GameError):
    """A decision that cannot be submitted as it stands: every problem, by the form field it belongs to."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("Fix these before submitting: " + " ".join(problems.values()))
        self.problems = problems
