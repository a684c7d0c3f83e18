"""Refusals in responses: the model declined ("I can't help with that"), deflected with a policy or a
safety message, or answered something else than what was asked.

- Explicit refusal phrasings are cues; where they stand matters. In the first sentences of the response
  (or anywhere in a short one) they are a refusal; deeper in a long answer they are a partial refusal
  (a caveat inside an answer), which scores below the default threshold.
- Deflections without an explicit "no": crisis support instead of an answer ("there is help available"),
  moral lectures, redirects to "safer alternatives".
- ``off_topic``: when the prompt is a short request and none of its content words appear in a long
  response (500 characters or more: a short reply in other words is mostly a direct answer), the
  response is a non-sequitur; a shorter response is checked when it announces a topic of its own ("Sure,
  here are some names for a fantasy kingdom:"). Labelled refusal data (PyRIT's) counts these as refusals, and
  they matter for the same reason: the user did not get what was asked. This is a cheap lexical check
  (prefix stems, at most 16 of them, each a substring search; a short word only counts with an inflection,
  so "games" does not match "gametes"), skipped for long prompts.
- ``finish_reason``: a provider that reports ``refusal`` as its stop reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar, Final

import re2

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.risk.base import RESPONSE, Cue, CueClassifier, Hits, combine
from llm_soc2.semconv import RISK_REFUSAL

_APOS: Final = "['’]"
# "I still cannot", "I'm simply not able to": an adverb may stand before the refusal.
_ADVERB: Final = (
    r"(?:(?:still|really|simply|just|truly|honestly|unfortunately|therefore|also|definitely|absolutely|"
    r"certainly)\s+)?"
)
_I_CANNOT: Final = (
    rf"\bI\W*(?:{_APOS}m|\s+am)?\s*{_ADVERB}(?:can(?:no|{_APOS})?t|cannot|can\s+not|won{_APOS}?t|will\s+not|"
    r"refuse\s+to|unable\s+to|not\s+(?:able|going|comfortable|permitted|allowed|programmed|designed|willing|"
    r"authori[sz]ed)\s+to|must\s+(?:respectfully\s+)?decline\s+to|"
    rf"(?:do\s+not|don{_APOS}?t)\s+(?:feel\s+comfortable|think\s+I\s+(?:can|should)))"
)
_HELP_VERBS: Final = (
    r"(?:help|assist|provide|comply|fulfil+|create|generate|write|produce|do\s+(?:that|this|so)|engage|support|"
    r"share|give|answer|continue|complete|participate|offer|facilitate|condone|encourage|promote|endorse|make|"
    r"draft|compose|plan|design|develop|describe|explain|detail|discuss|respond|role-?play|pretend|act|partake|"
    r"contribute|aid|recommend|suggest|outline|put\s+together|go\s+along|accommodate|tell|show|teach|reveal|"
    r"fabricate|invent|falsify|fake|forge|impersonate|glorify|"
    r"disclose|list|name|advise|say|supply|walk\s+you\s+through|guide|instruct|go\s+into|elaborate|spell\s+out|"
    r"comment|speculate|identify|locate|find|look\s+up|access|retrieve|obtain|translate|summari[sz]e|reproduce)"
)

CUES: Final = (
    Cue("explicit", rf"(?i){_I_CANNOT}\W+(?:\w+\W+){{0,3}}?{_HELP_VERBS}\b", 0.9, (RESPONSE,), "explicit"),
    # The same in French, Spanish, German, Portuguese and Italian: "I cannot" with a verb of helping.
    Cue(
        "explicit",
        r"(?i)\b(?:je\s+ne\s+(?:peux|pourrai|suis\s+pas\s+en\s+mesure\s+de)\s+(?:pas\s+)?(?:vous\s+|t['’]\s*)?"
        r"(?:aider|r[ée]pondre|fournir|faire\s+cela|accéder|acc[ée]der)|no\s+(?:puedo|podr[ée])\s+(?:ayudar|"
        r"proporcionar|responder|hacer\s+eso|facilitar|ofrecer)|ich\s+kann\s+(?:\w+\s+){0,3}?nicht\s+(?:helfen|"
        r"beantworten|bereitstellen|geben|liefern)|n[ãa]o\s+(?:posso|poderei)\s+(?:ajudar|fornecer|responder|"
        r"fazer\s+isso)|non\s+(?:posso|potr[òo])\s+(?:aiutar|fornire|rispondere|fare\s+questo))",
        0.9,
        (RESPONSE,),
        "explicit",
    ),
    Cue(
        "explicit",
        r"(?i)\b(?:unable|not\s+able)\s+to\s+(?:help|assist|provide|comply|fulfil+|create|generate|"
        r"write|do\s+that|answer|support|engage|share|give)\b",
        0.8,
        (RESPONSE,),
        "explicit",
    ),
    Cue(
        "decline",
        rf"(?i)\bI\s+(?:must|have\s+to|need\s+to|will|{_APOS}ll|would\s+(?:have\s+to|need\s+to))\s+"
        r"(?:respectfully\s+|politely\s+|kindly\s+)?(?:decline|refuse|pass\s+on)\b|\bI(?:'d|’d|\s+would)\s+"
        r"(?:rather|prefer)\s+not\b",
        0.85,
        (RESPONSE,),
        "explicit",
    ),
    Cue(
        "apology_but",
        rf"(?i)\b(?:I{_APOS}m|I\s+am|I\s+(?:really|truly))?\s*(?:really\s+|very\s+|so\s+|truly\s+"
        r"|terribly\s+)?(?:sorry|apologi[sz]e|apologies),?\s+(?:but|however)\b",
        0.55,
        (RESPONSE,),
        "apology",
    ),
    Cue(
        "apology_cannot",
        rf"(?i)\b(?:sorry|apologi[sz]e|apologies)\b(?:\W+\w+){{0,6}}?\W+(?:can(?:no|{_APOS})?t"
        r"|cannot|unable|not\s+able|won['’]?t|will\s+not)\b",
        0.8,
        (RESPONSE,),
        "apology",
    ),
    Cue(
        "apology",
        r"(?i)\b(?:I['’]m|I\s+am)\s+(?:really\s+|very\s+|so\s+|truly\s+)?sorry\b|\bI\s+apologi[sz]e\b|"
        r"\bmy\s+apologies\b",
        0.2,
        (RESPONSE,),
        "apology",
    ),
    Cue(
        "ai_disclaimer",
        r"(?i)\bas\s+an?\s+(?:ai|a\.i\.|artificial\s+intelligence|(?:large\s+)?language\s+model"
        r"|llm|ai\s+(?:language\s+model|assistant|model|chatbot)|responsible\s+ai|helpful\s+and\s+harmless)\b",
        0.3,
        (RESPONSE,),
        "disclaimer",
    ),
    Cue(
        "policy",
        r"(?i)\b(?:against|violates?|violation\s+of|goes\s+against|contrary\s+to|not\s+(?:in\s+line|"
        r"aligned)\s+with|outside|breach\s+of)\s+(?:all\s+|any\s+of\s+)?(?:my|our|the|openai['’]s|anthropic['’]s|"
        r"ethical|content|usage|"
        r"safety|community)\s+(?:\w+\s+)?(?:guidelines|policies|policy|principles|programming|rules|terms|values|"
        r"standards)\b",
        0.55,
        (RESPONSE,),
        "policy",
    ),
    Cue(
        "not_appropriate",
        r"(?i)\b(?:it|that|this)(?:['’]s|\s+is|\s+would\s+(?:not\s+)?be)\s+(?:not|never|"
        r"neither)\s+(?:appropriate|acceptable|ethical|okay|ok|legal|safe|responsible|something\s+I\s+(?:can|"
        r"will|am\s+able\s+to))\b|\b(?:is|are)\s+never\s+(?:appropriate|acceptable|okay|justified|the\s+answer)"
        r"\b",
        0.45,
        (RESPONSE,),
        "moral",
    ),
    Cue(
        "illegal",
        r"(?i)\b(?:it|this|that)(?:['’]s|\s+is|\s+would\s+be)\s+(?:both\s+)?(?:illegal|unethical|"
        r"harmful|dangerous|against\s+the\s+law)\b",
        0.35,
        (RESPONSE,),
        "moral",
    ),
    # A moral verdict, not a fact about the law: "... is illegal and unethical" opens refusals; an answer
    # about the law says what it is ("illegal in most states") and goes on.
    Cue(
        "illegal_and_unethical",
        r"(?i)\b(?:is|are|would\s+be|was)\s+(?:both\s+|not\s+only\s+)?(?:illegal|unlawful)\s+(?:and|but\s+also)\s+"
        r"(?:highly\s+|deeply\s+)?(?:unethical|immoral|wrong)\b|\b(?:is|are|would\s+be|was)\s+(?:both\s+)?"
        r"(?:unethical|immoral)\s+and\s+(?:illegal|unlawful)\b",
        0.55,
        (RESPONSE,),
        "moral",
    ),
    Cue(
        "crisis",
        r"(?i)\b(?:reach\s+out\s+to|contact|call|talk\s+to|speak\s+(?:with|to)|seek\s+help\s+from)\s+"
        r"(?:a\s+|an\s+|your\s+local\s+)?(?:mental\s+health\s+professional|crisis|helpline|hotline|suicide|"
        r"therapist|counsel+or|trusted\s+(?:friend|adult|person|individual)|emergency\s+services|law\s+"
        r"enforcement|professional)",
        0.35,
        (RESPONSE,),
        "crisis",
    ),
    Cue(
        "sorry_to_hear",
        r"(?i)\bsorry\s+(?:to\s+hear|that\s+you['’]re|you['’]re\s+(?:feeling|going))",
        0.2,
        (RESPONSE,),
        "crisis",
    ),
    Cue(
        "redirect",
        r"(?i)\b(?:instead|however),?\s+I\s+(?:can|could|['’]d\s+be\s+happy\s+to|would\s+be\s+happy"
        r"\s+to)\b|\bI\s+can\s+(?:however\s+|instead\s+)?help\s+(?:you\s+)?(?:with|in)\s+(?:a\s+)?(?:safer|other"
        r"|alternative|different|legal|legitimate)\b",
        0.25,
        (RESPONSE,),
        "redirect",
    ),
    Cue(
        "support",
        r"(?i)\bthere\s+(?:is|are)\s+(?:\w+\s+)?(?:help|support|resources|people)\s+(?:available|who\s+can\s+help)|"
        r"\bpeople\s+who\s+care\s+about\s+you\b|\byou(?:['’]re|\s+are)\s+not\s+alone\b|\byou\s+(?:don['’]t|do\s+"
        r"not)\s+have\s+to\s+(?:go\s+through|face|deal\s+with)\s+(?:this|it)\s+alone\b",
        0.35,
        (RESPONSE,),
        "support",
    ),
    Cue(
        "refer_elsewhere",
        r"(?i)\b(?:it['’]?s|it\s+is|it\s+would\s+be)\s+(?:best|better|advisable|wise)\s+to\s+(?:contact|consult"
        r"|reach\s+out\s+to|speak\s+(?:with|to)|talk\s+to|get\s+in\s+touch\s+with)\b",
        0.25,
        (RESPONSE,),
        "redirect",
    ),
    Cue(
        "alternatives",
        r"(?i)\bhere\s+are\s+(?:some|a\s+few)\s+(?:\w+\s+)?alternatives\b|\balternatives\s+to\s+consider\b|"
        r"\b(?:safer|legal|lawful|healthier|constructive|positive|peaceful|ethical|legitimate|non-violent)\s+"
        r"(?:alternatives|ways|options|approaches|means|outlets)\b",
        0.25,
        (RESPONSE,),
        "redirect",
    ),
    # Idioms that read as "I can't <verb of helping>" and refuse nothing: when they are the only other cue,
    # the explicit one is theirs.
    Cue(
        "idiom",
        r"(?i)\b(?:can(?:no|['’])?t|cannot|can\s+not)\s+(?:help\s+but|make\s+up\s+my\s+mind)\b",
        0.0,
        (RESPONSE,),
    ),
)

# Cues that are a refusal on their own when they open the response; elsewhere they are partial.
_STRONG: Final = frozenset(
    {"explicit", "decline", "apology_cannot", "apology_but", "policy", "illegal_and_unethical"}
)
_HEAD_CHARS: Final = 320  # "the opening": roughly the first two sentences
_SHORT_RESPONSE: Final = 600  # a response this short is all opening
_PARTIAL_FACTOR: Final = 0.4
_HEAD_CI: Final = re2.compile(
    "(?i)" + "|".join(f"(?:{cue.pattern.removeprefix('(?i)')})" for cue in CUES if cue.name in _STRONG),
    _text.options(),
)

# ---- off-topic check
_OFF_TOPIC_MAX_PROMPT: Final = 300  # longer prompts are templates, documents, conversations: no check
# A short reply that repeats none of the request's words is mostly a direct answer ("Jupiter."); a long
# one that repeats none is about something else. On the dev data: at 60 characters half the everyday
# conversational replies long enough to check were flagged (368 of 705), at 500 one in 2,393, while 17
# of 20 off-topic refusals were still found.
_OFF_TOPIC_MIN_RESPONSE: Final = 500
_OFF_TOPIC_HEAD: Final = 2500
# A shorter reply is checked when it opens by announcing what it gives ("Sure, here are some names for a
# fantasy kingdom:") and that announcement names things of its own: an answer to another request says
# what it is about. Code is left alone (its names, "quicksort", "BFS", rarely repeat the request's words).
# On the dev data: one more off-topic refusal found, no everyday reply or complying answer flagged.
_ANNOUNCEMENT: Final = re.compile(
    r"\W{0,3}(?:(?:sure|certainly|of course|absolutely|okay|ok|yes)\b[ ,!.]{0,3})?"
    r"(?:here(?:'s|’s| is| are)|below (?:is|are))\b([^\n:.!?]{0,120})",
    re.IGNORECASE,
)
_MAX_STEMS: Final = 16
# Linear: one character class with a bounded-below repetition, no alternation, nothing to backtrack into.
_PUNCT_TO_SPACE: Final = str.maketrans({ch: " " for ch in "\n\t.,;:!?()[]{}\"'’“”*#/_-<>|`~"})
_WORD: Final = re.compile(r"[a-z][a-z'’-]{2,}")
_STOP: Final = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "always",
        "among",
        "another",
        "any",
        "anyone",
        "anything",
        "are",
        "around",
        "ask",
        "because",
        "been",
        "before",
        "being",
        "below",
        "best",
        "between",
        "both",
        "but",
        "can",
        "cannot",
        "could",
        "describe",
        "detail",
        "details",
        "did",
        "different",
        "does",
        "doing",
        "done",
        "down",
        "during",
        "each",
        "easy",
        "either",
        "else",
        "enough",
        "even",
        "ever",
        "every",
        "example",
        "examples",
        "explain",
        "fun",
        "generate",
        "give",
        "good",
        "great",
        "have",
        "having",
        "help",
        "here",
        "how",
        "however",
        "idea",
        "ideas",
        "important",
        "into",
        "its",
        "just",
        "keep",
        "kind",
        "know",
        "last",
        "least",
        "less",
        "let",
        "like",
        "list",
        "long",
        "make",
        "many",
        "may",
        "might",
        "more",
        "most",
        "much",
        "must",
        "need",
        "never",
        "new",
        "nice",
        "not",
        "now",
        "off",
        "often",
        "once",
        "one",
        "only",
        "other",
        "others",
        "our",
        "out",
        "over",
        "own",
        "part",
        "please",
        "popular",
        "possible",
        "provide",
        "put",
        "quick",
        "rather",
        "really",
        "recommend",
        "say",
        "see",
        "several",
        "shall",
        "short",
        "should",
        "show",
        "simple",
        "since",
        "some",
        "something",
        "step",
        "steps",
        "such",
        "suggest",
        "sure",
        "take",
        "tell",
        "than",
        "thank",
        "thanks",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "thing",
        "things",
        "think",
        "this",
        "those",
        "through",
        "tip",
        "tips",
        "today",
        "too",
        "top",
        "try",
        "two",
        "under",
        "until",
        "use",
        "used",
        "useful",
        "using",
        "very",
        "want",
        "way",
        "ways",
        "well",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "write",
        "yes",
        "yet",
        "you",
        "your",
        "yours",
        "can't",
        "don't",
        "what's",
        "it's",
        "i'm",
        "concept",
        "concepts",
        "common",
        "different",
        "difference",
        "explain",
        "explanation",
        "guide",
        "tutorial",
        "article",
        "essay",
        "story",
        "post",
        "blog",
        "poem",
        "paragraph",
        "sentence",
        "summary",
        "summarize",
        "summarise",
        "overview",
        "information",
        "info",
        "fact",
        "facts",
        "question",
        "questions",
        "answer",
        "answers",
        "create",
        "creating",
        "build",
        "building",
        "develop",
        "design",
        "offer",
        "share",
        "for",
        "and",
        "nor",
        "but",
        "yet",
        "how",
        "why",
        "who",
        "the",
        "its",
        "his",
        "her",
        "him",
        "she",
        "they",
        "was",
        "has",
        "had",
        "did",
        "get",
        "got",
        "let",
        "may",
        "our",
        "out",
        "own",
        "too",
        "use",
        "via",
        "per",
        "off",
        "non",
        "any",
        "all",
        "can",
        "are",
        "was",
        "were",
        "will",
        "into",
        "onto",
        "upon",
        "from",
        "with",
        "that",
        "this",
        "than",
        "then",
        "them",
        "when",
        "what",
        "where",
        "which",
        "while",
        "whom",
        "whose",
        "would",
        "could",
        "should",
        "shall",
        "must",
        "might",
        "also",
        "just",
        "only",
        "even",
        "ever",
        "like",
        "each",
        "such",
        "same",
        "some",
        "more",
        "most",
        "many",
        "much",
        "very",
        "really",
        "quite",
        "rather",
        "give",
        "gave",
        "given",
        "tell",
        "told",
        "telling",
        "say",
        "said",
        "saying",
        "know",
        "knew",
        "known",
        "think",
        "thought",
        "want",
        "wanted",
        "wants",
        "need",
        "needed",
        "needs",
        "look",
        "looking",
        "find",
        "finding",
        "found",
        "get",
        "getting",
        "make",
        "making",
        "made",
        "go",
        "going",
        "went",
        "come",
        "coming",
        "came",
        "see",
        "seen",
        "way",
        "ways",
        "thing",
        "things",
        "lot",
        "lots",
        "kind",
        "sort",
        "type",
        "types",
    ]
)


def _content_stems(text: str) -> list[str]:
    """The stems of the first content words of ``text`` (stop words and words under 3 letters left out)."""
    words = (part for word in _WORD.findall(text.lower()) for part in word.split("-"))
    content = [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in _STOP]
    return list(dict.fromkeys(_stem(w) for w in content[:_MAX_STEMS]))


def _stem(word: str) -> str:
    word = word.strip("'’-")
    if len(word) > 6:
        return word[:6]
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


# Endings that keep a short word the same word ("game" -> "games", "gamed"; not "gametes", "workout").
_ENDINGS: Final = ("", "s", "es", "ed", "d", "ing", "er", "ers", "ly", "'s", "’s", "y", "ies")


def _mentions(head: str, stem: str) -> bool:
    """``stem`` starts a word of ``head`` (a space-padded, punctuation-free text). A stem cut from a long word
    may continue with anything; a short word only with an inflection, so a coincidental prefix ("game" in
    "gametes") does not make an unrelated answer look on topic."""
    start = head.find(" " + stem)
    while start >= 0:
        end = start + 1 + len(stem)
        if len(stem) >= 6:
            return True
        stop = head.find(" ", end)
        rest = head[end : stop if stop >= 0 else len(head)]
        if rest in _ENDINGS:
            return True
        start = head.find(" " + stem, end)
    return False


class RefusalClassifier(CueClassifier):
    """``refusal``: explicit refusals, policy deflections, non-sequiturs, refusal stop reasons."""

    name: ClassVar[str] = RISK_REFUSAL
    categories: ClassVar[tuple[str, ...]] = (RISK_REFUSAL,)
    CUES: ClassVar[tuple[Cue, ...]] = CUES

    def __init__(self, cues: Iterable[Cue] | None = None, *, off_topic: bool = True) -> None:
        super().__init__(tuple(cues) if cues is not None else None)
        self.off_topic = off_topic
        self._weights: dict[str, tuple[str, float]] = {}
        for cue in self.cues:
            if cue.name not in self._weights or cue.weight > self._weights[cue.name][1]:
                self._weights[cue.name] = (cue.group, cue.weight)

    def wants(self, interaction: Interaction) -> bool:
        for reason in interaction.finish_reasons or ():
            if reason.lower() == "refusal":
                return True
        return (
            self.off_topic
            and 0 < len(interaction.prompt) <= _OFF_TOPIC_MAX_PROMPT
            and (
                len(interaction.response) >= _OFF_TOPIC_MIN_RESPONSE
                or _ANNOUNCEMENT.match(interaction.response) is not None
            )
        )

    def score(self, interaction: Interaction, hits: Hits) -> Iterable[Signal]:
        families: dict[str, float] = {}
        reasons: list[str] = []
        names = hits.get(RESPONSE, frozenset())
        if names:
            response = _text.as_text(interaction.response)
            opening = len(response) <= _SHORT_RESPONSE or (
                bool(names & _STRONG) and _HEAD_CI.search(_text.encode(response[:_HEAD_CHARS])) is not None
            )
            for name in names:
                group, weight = self._weights.get(name, ("", 0.0))
                if weight <= 0.0 or (name == "explicit" and "idiom" in names and len(names) == 2):
                    continue
                if name in _STRONG and not opening:
                    weight *= _PARTIAL_FACTOR
                    name = f"partial.{name}"
                families[group] = max(families.get(group, 0.0), weight)
                reasons.append(name)
        if any(reason.lower() == "refusal" for reason in interaction.finish_reasons or ()):
            families["finish_reason"] = 0.9
            reasons.append("finish_reason")
        if self.off_topic and not families and self._off_topic(interaction):
            families["off_topic"] = 0.55
            reasons.append("off_topic")
        value = combine(families)
        if value <= 0.0:
            return ()
        return (Signal(RISK_REFUSAL, round(value, 4), tuple(sorted(set(reasons)))),)

    @staticmethod
    def _off_topic(interaction: Interaction) -> bool:
        prompt = _text.as_text(interaction.prompt)
        response = _text.as_text(interaction.response)
        if not 0 < len(prompt) <= _OFF_TOPIC_MAX_PROMPT:
            return False
        if len(response) < _OFF_TOPIC_MIN_RESPONSE:
            announced = _ANNOUNCEMENT.match(response)
            if announced is None or "```" in response or not _content_stems(announced.group(1)):
                return False
        stems = _content_stems(prompt)
        if len(stems) < 2:
            return False
        head = " " + response[:_OFF_TOPIC_HEAD].lower().translate(_PUNCT_TO_SPACE)
        needed = 1 if len(stems) < 5 else max(1, -(-len(stems) // 5))  # found in >= 20% of them: on topic
        found = 0
        for stem in stems:
            if _mentions(head, stem):  # at a word start: "cat" is in "cats", not in "indicate"
                found += 1
                if found >= needed:
                    return False
        return True
