"""What a person thought of a reply: thumbs up or down, with an optional comment.

Feedback is the person's own: only the owner of the run's session gives it, on a run that completed.
Who may ask for it on their behalf is the caller's rule (agentapp/ownership.py): the chat gives the
signed-in person's own; the API records what a service key relays as its person's.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from agentapp.errors import Conflict, InvalidInput, RunNotFound
from agentapp.platform.storable import unstorable

from ..models import Run, RunFeedback

FEEDBACK_COMMENT_CHARS = 2000
RATINGS = tuple(RunFeedback.Rating.values)


def _check(rating: str, comment: str | None) -> str | None:
    if rating not in RATINGS:
        raise InvalidInput(f"rating must be one of {', '.join(RATINGS)}", detail={"rating": rating})
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise InvalidInput("comment must be text")
    if len(comment) > FEEDBACK_COMMENT_CHARS:
        raise InvalidInput(f"comment is longer than {FEEDBACK_COMMENT_CHARS} characters")
    if unstorable(comment):
        raise InvalidInput("comment must not contain NUL characters or lone surrogates")
    return comment.strip()


def run_feedback_give(
    *, run: Run, user: User, rating: str, comment: str | None = None
) -> tuple[RunFeedback, bool]:
    """The person's feedback on `run`, made or replaced; and whether the rating is news (first
    given, or changed), which is what the metrics count.

    `comment` None keeps the comment given before (a thumb pressed after writing one must not wipe
    it); a string replaces it ("" clears it). Someone else's run is not found, exactly like a
    missing one; a run that has not completed has no reply to rate (Conflict).
    """
    comment = _check(rating, comment)
    with transaction.atomic():
        # The run's row, locked: two gives at once take turns (the one-per-person row is made
        # once), and a run erased meanwhile is not found rather than rated.
        locked = Run.objects.select_for_update(of=("self",)).filter(pk=run.pk).first()
        if locked is None or locked.user_id != user.pk:
            raise RunNotFound(f"run {run.run_id!r} not found")
        if locked.status != Run.Status.COMPLETED:
            raise Conflict(
                f"only a completed reply can be rated; this run is {locked.status}",
                detail={"status": locked.status},
            )
        feedback = RunFeedback.objects.filter(run_id=run.pk, user_id=user.pk).first()
        if feedback is None:
            feedback = RunFeedback.objects.create(run=locked, user=user, rating=rating, comment=comment or "")
            return feedback, True
        news = feedback.rating != rating
        feedback.rating = rating
        if comment is not None:
            feedback.comment = comment
        feedback.save(update_fields=["rating", "comment", "updated_at"])
        return feedback, news
