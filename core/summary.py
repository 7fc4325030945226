"""Extractive summaries: the article's own sentences, chosen by a small explainable score.

How a summary is made (summarize):
1. Placeholders ("التفاصيل بعد قليل..", "خبر عاجل", "يتبع", fewer than 5 words) give [].
2. The text is split with core.text.split_sentences; a sentence that repeats the title is dropped.
3. Every sentence gets a score (formula at "Scoring" below): a position prior (news puts the
   point first; the first sentence gets a bonus), its centrality (cosine of its content words with
   the rest of the article), its overlap with the title, minus penalties for fragments and for
   run-on sentences of 55+ words (EASC annotators chose them 5-13% of the time, others ~30%).
4. Whole sentences are taken best first until the budget is reached, skipping any that repeat
   60% of the words of one already taken. The last one may run past the budget by at most
   OVERSHOOT of it ("about 50 words"); one that would run further is skipped for a shorter one.
   Only a best sentence that alone exceeds budget × (1 + OVERSHOOT) is cut at a word boundary,
   with "…". The chosen sentences come back in article order.
5. With `keywords` (one test per keyword, the bot's own matcher behind each), the summary of step 4
   is kept when it holds a match of every keyword, or when no sentence of the text matches one it
   misses (the match is in the title). Otherwise the article's first sentence that matches a
   missed keyword is taken first (one sentence, however many keywords), then the step-4 sentences
   best first while they fit: the lowest give way, none is cut, and the lead usually stays. All
   come back in article order, so the lead is still read first and a «وأضاف» still follows what
   it adds to. A keyword sentence that alone exceeds budget × (1 + OVERSHOOT) is shown alone, cut
   to the budget around its first match (kept whole), with "…" on each cut side.
   Without keywords (what EASC measures) nothing of this runs.

Measured on EASC (bench/summary_eval.py, every system truncated to the same B words, as Lead is):
R1/R2 0.403/0.340 against Lead's 0.395/0.333 at 50 words, 0.490/0.417 against 0.483/0.412 at 100.
With no overshoot at all (OVERSHOOT = 0) whole sentences leave part of the budget unused and score
below Lead (R1 0.384 at 50 words).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.arabic import normalize
from core.text import split_sentences

_WORD = re.compile(r"[^\W_]+")


def _tokens(text: str) -> list[str]:
    """Normalized word tokens (core.arabic.normalize, split on non-word characters)."""
    return _WORD.findall(normalize(text))


# Very common function words: they say nothing about what an article is about.
_STOP_WORDS = frozenset(
    _tokens(
        "في من على إلى الى عن مع أن ان إن لا ما لم لن قد كان كانت يكون تكون هذا هذه ذلك تلك"
        " التي الذي الذين اللذين هو هي هم هن كما أو او ثم بل حتى بعد قبل عند كل بين أي غير"
        " وفي ومن وعلى وأن وان وإن وقد وكان وكانت وهو وهي وهذا وهذه وذلك ولا وما ولم أيضا"
        " إلا الا منذ خلال حيث إذ إذا اذا لكن لدى له لها لهم به بها فيه فيها منه منها عليه"
        " عليها إليه اليه كذلك وقال قال وقالت قالت يوم اليوم العام عام"
        " the a an of to in on for and or is are was were be been by with at from as that this"
        " it its he she they his her their said says will would has have had not but which who"
        " de la le les des du un une et en est pour que qui dans sur au aux par"
    )
)

# --- Placeholders ----------------------------------------------------------------------------

_PLACEHOLDER_PHRASES = tuple(
    " ".join(_tokens(phrase))
    for phrase in (
        "التفاصيل بعد قليل",
        "التفاصيل لاحقا",
        "تفاصيل لاحقا",
        "مزيد من التفاصيل لاحقا",
        "المزيد من التفاصيل لاحقا",
        "المزيد من التفاصيل بعد قليل",
        "تفاصيل أكثر بعد قليل",
        "خبر عاجل",
        "عاجل",
        "يتبع",
        "تابعونا",
        "breaking news",
        "breaking",
        "more to follow",
        "details to follow",
        "developing story",
        "this story is developing",
        "this is a developing story",
        "to be updated",
    )
)
_PLACEHOLDER_PATTERN = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p) for p in sorted(_PLACEHOLDER_PHRASES, key=len, reverse=True))
    + r")\b"
)
MIN_ARTICLE_WORDS = 5  # fewer words than this (placeholders aside) is not worth summarizing
_PLACEHOLDER_MAX_CHARS = 300  # longer texts always keep MIN_ARTICLE_WORDS real words


def is_placeholder(text: str) -> bool:
    """True for empty, very short or "details soon" texts that have nothing to summarize."""
    if len(text) > _PLACEHOLDER_MAX_CHARS:
        return False
    normalized = " ".join(_tokens(text))
    remaining = _PLACEHOLDER_PATTERN.sub(" ", normalized).split()
    return len(remaining) < MIN_ARTICLE_WORDS


# --- Scoring -------------------------------------------------------------------------------
# score = FIRST_BONUS if first sentence
#       + POSITION_WEIGHT * (1 - index / sentence_count)      news puts the point first
#       + CENTRALITY_WEIGHT * cosine(sentence, rest of article) what the article keeps talking about
#       + TITLE_WEIGHT * share of the title's words it contains
#       - LONG_PENALTY if it runs to LONG_SENTENCE_WORDS words or more (run-ons, lists)
#       - SHORT_PENALTY if it has fewer than SHORT_SENTENCE_WORDS words (fragments)
FIRST_BONUS = 1.0
POSITION_WEIGHT = 1.0
CENTRALITY_WEIGHT = 1.0
TITLE_WEIGHT = 0.25
LONG_SENTENCE_WORDS = 55
LONG_PENALTY = 1.0
SHORT_SENTENCE_WORDS = 5
SHORT_PENALTY = 0.5
DUPLICATE_OVERLAP = 0.6  # share of the shorter sentence's words found in the other one
OVERSHOOT = 0.5  # the last whole sentence may run this share past the budget ("about 50 words")
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class _Sentence:
    """A candidate sentence: its place, its text, its length and its normalized words."""

    index: int
    text: str
    words: int
    tokens: frozenset[str]
    content: Counter[str]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller token set found in the other one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _centrality(sentence: Counter[str], document: Counter[str], document_norm2: int) -> float:
    """Cosine similarity of a sentence's words with the rest of the article's words."""
    own_norm2 = sum(count * count for count in sentence.values())
    if not own_norm2:
        return 0.0
    with_document = sum(count * document[word] for word, count in sentence.items())
    dot = with_document - own_norm2  # (document - sentence) . sentence
    rest_norm2 = document_norm2 - 2 * with_document + own_norm2
    if dot <= 0 or rest_norm2 <= 0:
        return 0.0
    return dot / math.sqrt(own_norm2 * rest_norm2)


def _prepare(text: str, title: str) -> list[_Sentence]:
    """Sentences with their tokens; drops empty sentences and the title repeated."""
    title_tokens = frozenset(_tokens(title))
    kept: list[_Sentence] = []
    for sentence in split_sentences(text):
        tokens = _tokens(sentence)
        token_set = frozenset(tokens)
        if not token_set:
            continue
        if (
            title_tokens
            and _overlap(token_set, title_tokens) >= DUPLICATE_OVERLAP
            and len(token_set) <= len(title_tokens) + 2
        ):
            continue  # the title again (or nearly)
        content = Counter(token for token in tokens if token not in _STOP_WORDS and len(token) > 1)
        kept.append(_Sentence(len(kept), sentence, len(sentence.split()), token_set, content))
    return kept


def _scores(sentences: list[_Sentence], title: str) -> list[float]:
    """One score per sentence (see the formula above)."""
    document: Counter[str] = Counter()
    for sentence in sentences:
        document.update(sentence.content)
    document_norm2 = sum(count * count for count in document.values())
    title_content = frozenset(_tokens(title)) - _STOP_WORDS
    count = len(sentences)
    scores = []
    for sentence in sentences:
        value = POSITION_WEIGHT * (1 - sentence.index / count)
        value += CENTRALITY_WEIGHT * _centrality(sentence.content, document, document_norm2)
        if title_content:
            shared = len(title_content & sentence.content.keys())
            value += TITLE_WEIGHT * shared / len(title_content)
        if sentence.index == 0:
            value += FIRST_BONUS
        elif sentence.words >= LONG_SENTENCE_WORDS:
            value -= LONG_PENALTY
        if sentence.words < SHORT_SENTENCE_WORDS:
            value -= SHORT_PENALTY
        scores.append(value)
    return scores


def _cut(text: str, max_words: int) -> str:
    """The first max_words words of a sentence, ending with an ellipsis."""
    words = text.split()
    if len(words) <= max_words:
        return text
    return " ".join(words[:max_words]).rstrip(".,،;؛:!?؟…-–—") + ELLIPSIS


def _shortest(low: int, high: int, holds: Callable[[int], bool]) -> int:
    """The smallest n in [low, high] with holds(n), holds being false below it and true from it
    on (high when none is found earlier)."""
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _cut_around(text: str, max_words: int, holds: Callable[[str], object]) -> str:
    """At most max_words words of a long sentence that still hold the first match: its start
    when the match lies there, else a window centred on the match, with … on each cut side."""
    words = text.split()
    head = _cut(text, max_words)
    if holds(head):
        return head
    # The first match is words[begin:end]: end is the shortest prefix that holds it, begin the
    # latest start from which words[begin:end] still does (the bot's matcher says, not ours).
    end = _shortest(1, len(words), lambda n: bool(holds(" ".join(words[:n]))))
    begin = end - _shortest(1, end, lambda n: bool(holds(" ".join(words[end - n : end]))))
    centred = begin - max(0, max_words - (end - begin)) // 2
    start = max(0, min(centred, len(words) - max_words, begin))
    stop = max(end, min(len(words), start + max_words))  # a match longer than max_words stays whole
    window = " ".join(words[start:stop])
    if stop < len(words):
        window = window.rstrip(".,،;؛:!?؟…-–—") + ELLIPSIS
    return (ELLIPSIS if start else "") + window


def _ranked(sentences: list[_Sentence], title: str) -> list[_Sentence]:
    """Sentences best first."""
    scores = _scores(sentences, title)
    return sorted(sentences, key=lambda s: (-scores[s.index], s.index))


def _pick(
    ranked: list[_Sentence], max_words: int, *, taken: tuple[_Sentence, ...] = ()
) -> list[_Sentence]:
    """After `taken`, whole sentences best first until the budget is reached (the last may run
    past it by OVERSHOOT), none repeating one already picked; in article order."""
    longest = int(max_words * (1 + OVERSHOOT))
    picked = list(taken)
    used = sum(sentence.words for sentence in picked)
    for sentence in ranked:
        if used >= max_words:
            break
        if any(_overlap(sentence.tokens, other.tokens) >= DUPLICATE_OVERLAP for other in picked):
            continue  # says again what a chosen sentence says (or is one of them)
        if used + sentence.words <= longest:
            picked.append(sentence)
            used += sentence.words
    return sorted(picked, key=lambda sentence: sentence.index)


def _generic(ranked: list[_Sentence], max_words: int) -> list[str]:
    """The summary with no keyword: the best sentences, or the best one cut when it alone runs
    past the budget by more than OVERSHOOT."""
    first = ranked[0]
    if first.words > int(max_words * (1 + OVERSHOOT)):
        return [_cut(first.text, max_words)]
    return [sentence.text for sentence in _pick(ranked, max_words)]


def _with_keyword(
    summary: list[str],
    sentences: list[_Sentence],
    ranked: list[_Sentence],
    max_words: int,
    keywords: Sequence[Callable[[str], object]],
) -> list[str]:
    """The generic summary, or, when it holds no match of some keyword, the same with the
    article's first sentence that matches one of those keywords taken in: the generic summary's
    sentences follow it best first while they fit (the lowest ones give way), all in article
    order. Alone past the budget by more than OVERSHOOT, that sentence is cut around its match."""
    missing = [holds for holds in keywords if not any(holds(part) for part in summary)]
    if not missing:
        return summary

    def holds(text: str) -> bool:
        return any(keyword(text) for keyword in missing)

    found = next((sentence for sentence in sentences if holds(sentence.text)), None)
    if found is None:
        return summary  # the match is in the title only (or nothing matches)
    if found.words > int(max_words * (1 + OVERSHOOT)):
        return [_cut_around(found.text, max_words, holds)]
    generic = [sentence for sentence in ranked if sentence.text in summary]
    return [sentence.text for sentence in _pick(generic, max_words, taken=(found,))]


def summarize(
    text: str,
    *,
    title: str = "",
    max_words: int = 50,
    keywords: Sequence[Callable[[str], object]] = (),
) -> list[str]:
    """Best whole sentences in article order, about max_words words (see OVERSHOOT). Each of
    `keywords` tells whether a sentence holds a match of one keyword (truthy): a keyword that no
    sentence of the summary holds brings in the sentence where the article first matches it."""
    if max_words <= 0 or is_placeholder(text):
        return []
    sentences = _prepare(text, title)
    if sum(sentence.words for sentence in sentences) < MIN_ARTICLE_WORDS:
        return []
    ranked = _ranked(sentences, title)
    summary = _generic(ranked, max_words)
    if not keywords:
        return summary
    return _with_keyword(summary, sentences, ranked, max_words, keywords)
