"""A person's own name said the same way in everything embedded for them: "the person".

Memories about a person mostly name them ("Alice's manager is Elena", "Alice is allergic to
shellfish") while their messages say "I" and "my", or name them. In a small embedding model the
shared name pulls every one of their memories towards every message that names them and away from
every message that does not, drowning what the sentence is about. Said as "the person" on both
sides, meaning alone (all-MiniLM-L6-v2) finds all the facts a question needs in the top 10 for 72%
of bench/fixtures/conversations.json's questions instead of 64%, better on every kind (multi-hop
45% from 23%); left out altogether, 71%, but a fact then no longer reads as a person's ("thinks
cilantro tastes like soap"), and questions that say "she" lose most. The name is the person's
account name, split into words ("alice.moreau@example.com": alice, moreau), the one thing every
storage knows of them. docs/memory.md has the figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .query_embedding import QueryEmbedding, QueryVector

SAID_AS = "the person"
_NAME_WORD = re.compile(r"[^\W\d_]{2,}")


@lru_cache(maxsize=4096)
def own_names(user_id: str) -> tuple[str, ...]:
    """The words of a person's account name that may be their name: letters only, two or more."""
    local = (user_id or "").split("@", 1)[0]
    return tuple(dict.fromkeys(word.lower() for word in _NAME_WORD.findall(local)))


@lru_cache(maxsize=64)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    if not names:
        return None
    name = "(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"
    # "Alice Moreau's" is said once: a run of the name's words, with its possessive.
    return re.compile(rf"\b{name}(?:\s+{name})*\b(?P<possessive>['\u2019]s\b)?", re.IGNORECASE)


def said_as_the_person(text: str, names: Sequence[str]) -> str:
    """`text` with the person's name (and its possessive) said as "the person" ("the person's")."""
    pattern = _pattern(tuple(names))
    if pattern is None:
        return text
    return pattern.sub(lambda m: SAID_AS + ("'s" if m.group("possessive") else ""), text)


def for_person(embed: QueryEmbedding | None, user_id: str) -> QueryEmbedding | None:
    """`embed` for texts of this person: their name said as "the person" before the embedder sees it."""
    if embed is None:
        return None
    names = own_names(user_id)
    if not names:
        return embed

    def embed_for_person(text: str) -> QueryVector:
        return embed(said_as_the_person(text, names))

    return embed_for_person
