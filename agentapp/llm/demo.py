"""`DemoModel`: an offline, deterministic stand-in for a real model.

It lets the product run end to end without an API key: it saves facts the
user states with the `add_memory` tool, acknowledges tool results, answers
questions from the memories in the system prompt and writes crude summaries.
No network, no randomness: the same messages always give the same reply.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence

from .types import Message, ModelResponse, TextDelta, ToolCall, ToolSpec, Usage

PREFIX = "(Offline demo model)"
MEMORY_TOOLS = ("add_memory", "update_memory")

_MEMORY_BLOCK = re.compile(r"<memories>(.*?)</memories>", re.DOTALL)
# "- [id] (2026-03-02) text (topics: a, b)": the date (when it was learned, or a past fact's interval,
# "(2025-01-10 to 2026-05-02, no longer true)") and topics are not the text.
_MEMORY_LINE = re.compile(
    r"^\s*-\s*\[([^\]]*)\]\s*(?:\((?:\d{4}-\d{2}-\d{2}|until)[^)]*\)\s*)?(.*?)(?:\s*\(topics:[^)]*\))?\s*$"
)
# An earlier summary quoted in a chat prompt, with the line that introduces it.
_SUMMARY_BLOCK = re.compile(r"[^\n]*\n?<session_summary>.*?</session_summary>", re.DOTALL)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_FACT_PATTERNS = [
    re.compile(r"\bmy\s+[\w' ]{1,40}?\s+(?:is|are|was)\b"),
    re.compile(r"\bcall me\b"),
    re.compile(
        r"\bi\s+(?:really\s+|also\s+|usually\s+|always\s+|mostly\s+)?"
        r"(?:prefer|like|love|hate|dislike|enjoy|work|live|am|have|own|speak|study|use|"
        r"don't|do not|was born)\b"
    ),
    re.compile(r"\bi'm\b"),
    re.compile(r"\bi've\s+(?:lived|worked|been|got|always)\b"),
]
# First-person sentences that are small talk or requests rather than facts about the user.
_NOT_FACTS = [
    re.compile(
        r"\bi(?:'m| am)\s+(?:not sure|wondering|curious|just|asking|fine|good|ok|okay|here|back|looking|"
        r"trying|going|thinking|sorry|glad|happy to|ready)\b"
    ),
    re.compile(r"\bi (?:don't|do not) (?:know|understand|think|get|see|remember|care)\b"),
    re.compile(r"\bi have (?:a|an|one|another|some) (?:question|problem|issue|request|idea|doubt)"),
]
_LEAD_IN = re.compile(
    r"^(?:hi|hello|hey|oh|ok|okay|well|also|and|so|btw|by the way)\b[,!.]?\s*", re.IGNORECASE
)
_QUESTION_START = re.compile(
    r"^(?:what|what's|who|who's|where|when|why|how|which|do|does|did|can|could|would|should|is|are|am|"
    r"tell me|remind me)\b"
)


# A question about the person as a whole ("What do you know about me?"): every memory answers it.
_ABOUT_ME = re.compile(
    r"\b(?:know|remember|recall|stored?|have|learned)\b.*\babout (?:me|myself)\b|\bwho am i\b|"
    r"\b(?:tell me|what)\b.*\babout (?:me|myself)\b"
)


def _set(text: str) -> set[str]:
    return set(text.split())


def _pairs(text: str) -> dict[str, str]:
    return dict(pair.split("=") for pair in text.split())


# How a verb after "I" changes when the subject becomes "User" (singular) or "they" (plural).
_THIRD_PERSON = _pairs("am=is 'm=is was=was have=has 've=has do=does don't=doesn't go=goes 'd=would 'll=will")
_PLURAL = _pairs("am=are 'm=are was=were 've=have 'd=would 'll=will")
_UNCHANGED = _set("can can't could will would should might must did didn't won't")
_ADVERBS = _set("really also usually always never often mostly just still actually")
_POSSESSIVES = _pairs("my=their mine=theirs me=them myself=themselves")
_TOPICS = [
    (topic, _set(words))
    for topic, words in (
        ("name", "name called nickname"),
        ("contact", "email phone call contact reach text texts sms mail number"),
        ("work", "work job company office engineer developer teacher nurse career"),
        ("location", "live city country town born from moved"),
        ("food", "food eat vegetarian vegan allergic coffee tea cook cooking diet"),
        ("family", "wife husband partner kids children son daughter family mother father"),
        ("pets", "dog cat pet pets"),
        ("language", "speak language english spanish french german"),
    )
]
# Question words that should find memories phrased differently ("reach me" -> "prefers email").
_RELATED = {
    word: _set(related)
    for word, related in (
        ("reach", "email phone contact call text"),
        ("contact", "email phone reach call text"),
        ("email", "contact"),
        ("phone", "contact call"),
        ("call", "name phone"),
        ("who", "name"),
        ("name", "called"),
        ("eat", "food vegetarian vegan allergic"),
        ("food", "eat vegetarian vegan"),
        ("where", "live from"),
        ("job", "work"),
        ("work", "job"),
    )
}
_STOPWORDS = _set(
    """a an the and or but is are was were be to of in on at for with over than what what's how do does did
    you your i i'm me my mine user user's they them their it its that this can could would should know
    about tell remind please best way am"""
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if w not in _STOPWORDS}


def parse_memory_lines(system_text: str) -> list[tuple[str, str]]:
    """(id, text) of each memory listed in `<memories>` blocks of the system prompt."""
    memories: list[tuple[str, str]] = []
    for block in _MEMORY_BLOCK.findall(system_text):
        for line in block.splitlines():
            match = _MEMORY_LINE.match(line)
            if match and match.group(2):
                memories.append((match.group(1), match.group(2)))
    return memories


def parse_memories(system_text: str) -> list[str]:
    """The memory texts listed in `<memories>` blocks of the system prompt."""
    return [text for _, text in parse_memory_lines(system_text)]


# "User lives in Porto" replaces "User lives in Lisbon": the same opening of at least this many words
# ("User lives in", "User works at") and a different rest.
_SAME_OPENING = 3


def replaced_memory(fact: str, memories: Sequence[tuple[str, str]]) -> str | None:
    """The id of the stored memory that `fact` changes, as the demo model tells it: the same subject,
    verb and preposition, something else after them."""
    new = _words(fact)
    for memory_id, text in memories:
        old = _words(text)
        same = next(
            (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new))
        )
        if same >= _SAME_OPENING and old[same:] and new[same:]:
            return memory_id
    return None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _is_fact(sentence: str) -> bool:
    lowered = sentence.lower().replace("\u2019", "'")
    if lowered.endswith("?") or any(pattern.search(lowered) for pattern in _NOT_FACTS):
        return False
    return any(pattern.search(lowered) for pattern in _FACT_PATTERNS)


def _is_question(text: str) -> bool:
    lowered = text.strip().lower().replace("\u2019", "'")
    return "?" in lowered or bool(_QUESTION_START.match(lowered))


def _conjugate(verb: str, singular: bool) -> str:
    lowered = verb.lower()
    if lowered in _UNCHANGED:
        return verb
    if not singular:
        return _PLURAL.get(lowered, verb)
    if lowered in _THIRD_PERSON:
        return _THIRD_PERSON[lowered]
    if re.search(r"(s|sh|ch|x|z|o)$", lowered):
        return verb + "es"
    if re.search(r"[^aeiou]y$", lowered):
        return verb[:-1] + "ies"
    return verb + "s"


def restate(sentence: str) -> str:
    """Rewrite a first-person statement about the user in the third person.

    "My name is Sarah and I prefer email over phone."
    -> "User's name is Sarah and they prefer email over phone."
    The first reference becomes "User", later ones "they", so the result reads naturally.
    """
    text = sentence.replace("\u2019", "'").strip().lstrip("-*\u2022 ")
    text = _LEAD_IN.sub("", text).rstrip(".!")
    text = re.sub(
        r"\b(?:(?:you can|please)\s+)?call me\s+", "User wants to be called ", text, flags=re.IGNORECASE
    )
    text = re.sub(r"\bi do not\b", "I don't", text, flags=re.IGNORECASE)
    tokens = re.findall(r"[A-Za-z]+(?:'[a-z]+)?|[^A-Za-z]+", text)
    named = text.startswith("User ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        lowered = token.lower()
        if lowered == "my":
            out.append("their" if named else "User's")
            named = True
        elif lowered in ("i", "i'm", "i've", "i'd", "i'll"):
            out.append("they" if named else "User")
            singular = not named
            named = True
            contraction = lowered[1:]
            if contraction:
                out.append(" " + _conjugate(contraction, singular))
            else:
                # Skip adverbs ("I really like") to find the verb that agrees with the subject.
                j = i + 1
                while j + 1 < len(tokens) and tokens[j].isspace() and tokens[j + 1].lower() in _ADVERBS:
                    out.extend(tokens[j : j + 2])
                    j += 2
                if j + 1 < len(tokens) and tokens[j].isspace():
                    out.extend([tokens[j], _conjugate(tokens[j + 1], singular)])
                    j += 2
                i = j
                continue
        elif lowered in _POSSESSIVES:
            out.append(_POSSESSIVES[lowered])
        else:
            out.append(token)
        i += 1
    result = "".join(out).strip()
    if "User" not in result:
        result = "User: " + result
    return result[0].upper() + result[1:] + "."


def _topics(fact: str) -> list[str]:
    words = set(_words(fact))
    found = [topic for topic, keys in _TOPICS if words & keys]
    if found:
        return found[:2]
    return (
        ["preferences"] if words & {"prefer", "prefers", "like", "likes", "love", "loves"} else ["personal"]
    )


def _already_known(fact: str, memories: Sequence[str]) -> bool:
    wanted = _content_words(fact)
    return any(wanted <= _content_words(memory) for memory in memories)


# The memory optimisation request (agent.memory_optimization): its memories, one line each.
_OPTIMIZE_BLOCK = re.compile(r"<memories_to_optimize>(.*?)</memories_to_optimize>", re.DOTALL)
_OPTIMIZE_LINE = re.compile(r"^\s*-\s*\[([^\]]+)\]\s*(.*?)(?:\s*\(topics:\s*([^)]*)\))?\s*$")


def optimization_answer(text: str) -> str:
    """The optimisation request's JSON answer: memories whose content words are the same as, or all
    among, another's are merged into that one (the fullest), so no detail is lost."""
    block = _OPTIMIZE_BLOCK.search(text)
    rows = []
    for line in (block.group(1) if block else "").splitlines():
        match = _OPTIMIZE_LINE.match(line)
        if match and _content_words(match.group(2)):
            topics = [t.strip() for t in (match.group(3) or "").split(",") if t.strip()]
            rows.append((match.group(1), match.group(2), topics, _content_words(match.group(2))))
    # The fullest first, so each group is led by the memory that says everything its others say.
    rows.sort(key=lambda row: -len(row[3]))
    groups: list[list[tuple[str, str, list[str], set[str]]]] = []
    for row in rows:
        group = next((g for g in groups if row[3] <= g[0][3]), None)
        if group is None:
            groups.append([row])
        else:
            group.append(row)
    merges = [
        {
            "ids": [row[0] for row in group],
            "memory": group[0][1],
            "topics": list(dict.fromkeys(topic for row in group for topic in row[2])),
        }
        for group in groups
        if len(group) > 1
    ]
    return json.dumps({"merges": merges})


def _asks_for_summary(system_text: str) -> bool:
    """A summarisation task, not a chat whose prompt merely includes an earlier summary."""
    text = _SUMMARY_BLOCK.sub("", system_text).lower()
    return "summar" in text and bool(re.search(r"conversation|transcript|messages|chat|session|dialog", text))


def _brief(text: str, words: int = 12) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


class DemoModel:
    id = "demo"
    provider = "demo"
    base_url: str | None = None
    is_offline_demo = True

    def __repr__(self) -> str:
        return "DemoModel()"

    # -- the deterministic "model" -------------------------------------------

    def _reply(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> tuple[str, tuple[ToolCall, ...]]:
        system_text = "\n\n".join(m.content for m in messages if m.role == "system")
        dialogue = [m for m in messages if m.role != "system"]
        # The optimisation request names its tag in the instructions and wraps the memories in it.
        optimizing = "<memories_to_optimize>" in system_text
        if not tools and optimizing and dialogue and _OPTIMIZE_BLOCK.search(dialogue[-1].content):
            return optimization_answer(dialogue[-1].content), ()
        if not tools and _asks_for_summary(system_text):
            return self._summary(dialogue), ()
        if not dialogue:
            return f"{PREFIX} There is nothing to reply to yet.", ()
        last = dialogue[-1]
        if last.role == "tool":
            return self._acknowledge(last, dialogue), ()
        if last.role != "user":
            return f"{PREFIX} Nothing new to add.", ()
        lines = parse_memory_lines(system_text)
        memories = [text for _, text in lines]
        facts = [s for s in _sentences(last.content) if _is_fact(s)]
        add = next((tool for tool in tools if tool.name == "add_memory"), None)
        if facts and add is not None:
            memory = " ".join(restate(fact) for fact in facts)
            if not _already_known(memory, memories):
                call: dict[str, object] = {"memory": memory, "topics": _topics(memory)}
                replaces = replaced_memory(memory, lines) if len(facts) == 1 else None
                if replaces and "replaces" in add.parameters.get("properties", {}):
                    call["replaces"] = replaces
                arguments = json.dumps(call)
                return "", (
                    ToolCall(id=f"call_demo_{len(messages)}", name="add_memory", arguments=arguments),
                )
            return f"{PREFIX} I already have that noted: {memory}", ()
        if _is_question(last.content):
            return self._answer(last.content, memories), ()
        return (
            f"{PREFIX} You said: \u201c{_brief(last.content)}\u201d. Connect a real model for real answers.",
            (),
        )

    def _acknowledge(self, result: Message, dialogue: Sequence[Message]) -> str:
        name = next(
            (
                call.name
                for message in reversed(dialogue)
                for call in message.tool_calls
                if call.id == result.tool_call_id
            ),
            None,
        )
        if name in MEMORY_TOOLS:
            return "Got it, I'll remember that."
        return f"Done. {PREFIX} The {name or 'tool'} call has finished."

    def _answer(self, question: str, memories: Sequence[str]) -> str:
        if _ABOUT_ME.search(question.lower().replace("\u2019", "'")):
            if not memories:
                return f"{PREFIX} I know nothing about you yet. Tell me about yourself and I will remember."
            return f"{PREFIX} Here is what I remember about you: " + " ".join(memories)
        wanted = _content_words(question)
        for word in list(wanted):
            wanted |= _RELATED.get(word, set())
        relevant = [memory for memory in memories if wanted & _content_words(memory)]
        if relevant:
            return f"{PREFIX} Here is what I remember that may help: " + " ".join(relevant)
        return f"{PREFIX} I have no stored memory about that. You asked: \u201c{_brief(question)}\u201d"

    def _summary(self, dialogue: Sequence[Message]) -> str:
        lines: list[str] = []
        for message in dialogue:
            if message.role not in ("user", "assistant"):
                continue
            for line in message.content.splitlines():
                if line.strip():
                    # A transcript pasted into one message keeps its own "user:" labels.
                    label = "" if re.match(r"^\s*\w+:", line) else f"{message.role}: "
                    lines.append(label + _brief(line.strip(), 8))
        if not lines:
            return "Summary (offline demo): no conversation yet."
        shown = lines[:8]
        more = f" (+{len(lines) - len(shown)} more)" if len(lines) > len(shown) else ""
        return "Summary (offline demo): " + "; ".join(shown) + more

    # -- the Model protocol --------------------------------------------------

    def _response(
        self,
        messages: Sequence[Message],
        text: str,
        calls: tuple[ToolCall, ...],
        started_at: float,
        first_token_at: float | None,
    ) -> ModelResponse:
        input_chars = sum(len(m.content) + sum(len(c.arguments) for c in m.tool_calls) for m in messages)
        output_chars = len(text) + sum(len(c.arguments) for c in calls)
        input_tokens, output_tokens = math.ceil(input_chars / 4), math.ceil(output_chars / 4)
        usage = Usage(input_tokens, output_tokens, input_tokens + output_tokens)
        ended_at = time.time()
        return ModelResponse(
            text=text,
            tool_calls=calls,
            usage=usage,
            model_id=self.id,
            started_at=started_at,
            first_token_at=first_token_at if first_token_at is not None else ended_at,
            ended_at=ended_at,
        )

    def request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        started_at = time.time()
        text, calls = self._reply(messages, tools)
        return self._response(messages, text, calls, started_at, None)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> Iterator[TextDelta | ModelResponse]:
        started_at = time.time()
        text, calls = self._reply(messages, tools)
        first_token_at = time.time() if text or calls else None
        for word in re.findall(r"\S+\s*", text):
            yield TextDelta(word)
        yield self._response(messages, text, calls, started_at, first_token_at)

    async def arequest(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> ModelResponse:
        return self.request(messages, tools)

    async def astream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[TextDelta | ModelResponse]:
        for item in self.stream(messages, tools):
            yield item
            await asyncio.sleep(0)  # let other tasks run between words, like a real stream
