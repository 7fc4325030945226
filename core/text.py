"""Article text: HTML to clean text, feed boilerplate removal, sentence splitting.

html_to_text (stdlib html.parser, no dependency): block elements (p, div, br, li, h1-h6, tr…) end a
line; script, style, iframe, media, figure/figcaption, forms, nav/aside and elements whose class or
id names a widget (share, social, sharedaddy, addtoany, related posts, captions, more-link…) are
dropped with everything inside; entities are decoded (twice when a feed escaped them twice);
spaces collapse inside a line; empty lines go. The result has one line per block.

clean_article also removes feed boilerplate, line by line:
- WordPress "The post … appeared first on …" and a final "[…]", "[...]", "…" or "..." excerpt mark;
- "رابط مختصر …" short-link lines and read-more lines ("اقرأ المزيد", "اقرأ أيضا: …", "للمزيد",
  "Continue reading", "Read more"), and a read-more tail at the end of a line;
- the site name as a line of its own, or heading/tailing a line ("هسبريس - …", "… | هسبريس");
- a first line equal to the title (compared on letters and digits only);
- a text that is nothing but a photo caption: one short line (25 words or fewer) without a full
  stop, ending with a bracketed credit ("ويتكوف وزيلينسكي في برلين، 15 ديسمبر 2025 (Getty)").
  Al-Araby's feed gives such captions as descriptions.
Placeholders ("التفاصيل بعد قليل..") are kept: core.summary.is_placeholder judges them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser


def _names(spaced: str) -> frozenset[str]:
    """A set of names written as one space-separated string."""
    return frozenset(spaced.split())


# Elements whose whole subtree is dropped: code, media, captions, widgets, forms.
_SKIPPED_TAGS = _names(
    "script style noscript template head title iframe object embed video audio canvas "
    "svg math figure figcaption picture button form select textarea nav aside"
)
# Elements that end a line of text.
_BLOCK_TAGS = _names(
    "p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr td th table blockquote pre hr "
    "section article header footer address center"
)
_VOID_TAGS = _names("area base br col embed hr img input link meta param source track wbr")
# class/id words of share buttons, social embeds, related-post boxes and captions.
_WIDGET_MARKERS = re.compile(
    r"share|sharing|social|addtoany|a2a_|sharedaddy|jp-relatedposts|related-posts|"
    r"wp-caption-text|caption|more-link|read-more|readmore|twitter-tweet|instagram-media|"
    r"fb-post|tiktok-embed|newsletter|subscribe|advert|\bads?\b",
    re.IGNORECASE,
)

# Characters that carry no text: BOM, soft hyphen, C0/C1 controls except tab and newline.
_INVISIBLE = dict.fromkeys(
    [0xFEFF, 0x00AD, *range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
)
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_DOUBLE_ESCAPED = re.compile(
    r"&(?:#\d{2,7}|#[xX][0-9a-fA-F]{2,6}|amp|quot|apos|lt|gt|nbsp|hellip);"
)


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, skipped) for open non-void elements

    def _skipping(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and not self._skipping():
            self.parts.append("\n")
        if tag in _VOID_TAGS:
            return
        marker = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        skipped = (
            self._skipping()
            or tag in _SKIPPED_TAGS
            or bool(marker and _WIDGET_MARKERS.search(marker))
        )
        self._open.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and not self._skipping():
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                break
        if tag in _BLOCK_TAGS and not self._skipping():
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.parts.append(data)


def _tidy_whitespace(text: str) -> str:
    """Collapse spaces inside lines, strip lines, drop empty lines."""
    text = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html_text: str) -> str:
    """Turn feed HTML into plain text: one line per block, no markup, entities decoded."""
    if not html_text:
        return ""
    if "<" not in html_text and "&" not in html_text:
        return _tidy_whitespace(html_text)
    parser = _TextExtractor()
    parser.feed(html_text)
    parser.close()
    text = "".join(parser.parts)
    if _DOUBLE_ESCAPED.search(text):  # feeds that escape twice (&amp;#039;)
        text = _DOUBLE_ESCAPED.sub(lambda match: html.unescape(match.group(0)), text)
    return _tidy_whitespace(text)


# --- Feed boilerplate ---------------------------------------------------------------------

_POST_APPEARED = re.compile(r"\s*\bThe post\b.*?\bappeared first on\b.*$", re.MULTILINE)
_EXCERPT_END = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.|&hellip;)\s*\]|…|\.\.\.)\s*$")
_SHORT_LINK = re.compile(r"^\W*رابط مختصر\b.*$")
_READ_MORE_LINE = re.compile(
    r"^\W*(?:(?:ا|إ)قر(?:أ|ا)\s+(?:المزيد|أيضا|أيضاً|ايضا|ايضاً)|للمزيد|"
    r"continue reading|read more|read the full (?:story|article))\b",
    re.IGNORECASE,
)
_READ_MORE_TAIL = re.compile(
    r"\s*(?:(?:ا|إ)قر(?:أ|ا)\s+المزيد|continue reading|read more)\W*$", re.IGNORECASE
)
# A photo caption ends with its credit in brackets: "(Getty)", "(الأناضول)", "(ربيع مغربي/ فرانس برس)".
_CAPTION_CREDIT = re.compile(r"\(([^()]{2,40})\)\s*$")
_SENTENCE_END_CHARS = ".!?؟۔"
_CAPTION_MAX_WORDS = 25
_CAPTION_CREDIT_MAX_WORDS = 4


def _comparable(text: str) -> str:
    """Text reduced to its letters and digits, for equality tests (title, site name)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"[^\W_]+", text))


def _is_photo_caption(text: str) -> bool:
    """True when the whole text is one short line ending with a bracketed photo credit."""
    if "\n" in text or len(text.split()) > _CAPTION_MAX_WORDS:
        return False
    credit = _CAPTION_CREDIT.search(text)
    if not credit or len(credit.group(1).split()) > _CAPTION_CREDIT_MAX_WORDS:
        return False
    before = text[: credit.start()].rstrip()
    return bool(before) and not any(mark in before for mark in _SENTENCE_END_CHARS)


def _strip_site_name(line: str, site: str) -> str:
    """Remove the site name when it heads or tails a line ("هسبريس - …", "… | هسبريس")."""
    escaped = re.escape(site)
    line = re.sub(rf"^\W*{escaped}\s*[-–—|:،]\s*", "", line, flags=re.IGNORECASE)
    line = re.sub(
        rf"\s*(?:[-–—|]\s*{escaped}|\(\s*{escaped}\s*\))\W*$", "", line, flags=re.IGNORECASE
    )
    return line


def clean_article(title: str, html_text: str, *, site_name: str = "") -> str:
    """Article text without markup or feed boilerplate (see the module docs for what goes)."""
    text = _POST_APPEARED.sub("", html_to_text(html_text))
    site = site_name.strip()
    title_key = _comparable(title)
    lines: list[str] = []
    for raw_line in text.split("\n"):
        line = _READ_MORE_TAIL.sub("", raw_line).strip()
        if site:
            line = _strip_site_name(line, site).strip()
        if not line or _SHORT_LINK.match(line) or _READ_MORE_LINE.match(line):
            continue
        key = _comparable(line)
        if not key or (site and key == _comparable(site)):
            continue
        if not lines and title_key and key == title_key:
            continue
        lines.append(line)
    while lines:
        trimmed = _EXCERPT_END.sub("", lines[-1])
        if trimmed:
            lines[-1] = trimmed
            break
        lines.pop()
    cleaned = "\n".join(lines)
    return "" if _is_photo_caption(cleaned) else cleaned


# --- Sentences ----------------------------------------------------------------------------

_QUOTE_PAIRS = {"«": "»", "“": "”", '"': '"', "„": "“", "‹": "›"}
_CLOSERS = frozenset("»”\"')]›’")
# Where a sentence may end (a run of stops) or a quotation may start.
_MARKS = re.compile(r"[.!?؟؛…۔]+|[«“\"„‹]")
_MAX_QUOTE_CHARS = 600  # a straight quote with no partner this close is a stray mark
_LATIN_ABBREVIATIONS = _names(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep pres rev vs "
    "vol fig approx inc ltd co corp dept univ jan feb mar apr jun jul aug sep sept "
    "oct nov dec mme mlle cf p pp e.g i.e a.m p.m"
)
# Arabic title abbreviations: د. (doctor), أ. (professor), أ.د., م. is left out on purpose:
# after a year ("عام 1783 م.") it usually ends the sentence.
_ARABIC_ABBREVIATIONS = frozenset({"د", "أ", "ا", "أ.د", "ا.د", "ص.ب"})


def _is_abbreviation(word: str) -> bool:
    """True when a word followed by '.' is an abbreviation, not a sentence end."""
    if not word:
        return False
    key = word.casefold()
    if key in _LATIN_ABBREVIATIONS or word in _ARABIC_ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and word.isascii():
        return True  # initials: "Donald J. Trump"
    return bool(re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word))  # U.S, U.N, e.g


def _word_before(line: str, end: int) -> str:
    """The run of non-space characters that ends at index end, minus leading brackets/quotes."""
    start = end
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start:end].lstrip("([{«“\"'")


def _split_line(line: str) -> list[str]:
    """Split one line of text into sentences."""
    sentences: list[str] = []
    start = 0
    length = len(line)
    found = _MARKS.search(line)
    while found:
        index = found.start()
        closer = _QUOTE_PAIRS.get(line[index])
        if closer is not None:
            end = line.find(closer, index + 1)
            resume = index + 1
            if end != -1 and (line[index] != '"' or end - index < _MAX_QUOTE_CHARS):
                resume = end + 1  # a quotation stays inside its sentence
                if _quote_ends_sentence(line, end):
                    sentences.append(line[start:resume])
                    start = resume
            found = _MARKS.search(line, resume)
            continue
        run_end = found.end()
        after = run_end
        while after < length and line[after] in _CLOSERS:
            after += 1
        next_char = line[after] if after < length else ""
        if _ends_sentence(line, start, index, line[index:run_end], next_char, after):
            sentences.append(line[start:after])
            start = after
        found = _MARKS.search(line, after)
    sentences.append(line[start:])
    return [s.strip() for s in sentences if any(char.isalnum() for char in s)]


def _is_arabic_letter(char: str) -> bool:
    """True for letters of the Arabic script blocks (Arabic, Persian, Urdu)."""
    return char.isalpha() and ("\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f")


def _is_arabic_word(word: str) -> bool:
    """True for a word of at least three Arabic-script letters (marks allowed, no dots)."""
    letters = sum(1 for char in word if char.isalpha())
    return letters >= 3 and all(
        _is_arabic_letter(char) or unicodedata.category(char) == "Mn" for char in word
    )


def _quote_ends_sentence(line: str, closer_index: int) -> bool:
    """A quotation that ends with its own full stop ends the sentence ("… over." Then)."""
    inner_end = line[closer_index - 1] if closer_index > 0 else ""
    if inner_end not in _SENTENCE_END_CHARS and inner_end != "…":
        return False
    rest = line[closer_index + 1 :]
    following = rest.lstrip()[:1]
    return bool(rest[:1].isspace() and following and not following.islower())


def _ends_sentence(line: str, start: int, index: int, run: str, next_char: str, after: int) -> bool:
    """Decide whether the terminator run at index ends the sentence."""
    if next_char and not next_char.isspace():
        if run == ".":
            # "الصقل.وخاصة" (no space after the stop) ends a sentence; بي.بي.سي, 3.5, bbc.com do not
            before = line[:index].rstrip()
            return _is_arabic_letter(next_char) and _is_arabic_word(
                _word_before(before, len(before))
            )
        # "ثم...ماذا" keeps going; "؟وقال", "۔وہاں" end: those marks are unambiguous
        return not (set(run) <= {"."} or "…" in run)
    if next_char:
        following = line[after:].lstrip()[:1]
        if ("…" in run or run.startswith("..")) and following.islower():
            return False  # "liée surtout à... l'ennui"
    if run == ".":
        word = _word_before(line, index)
        if _is_abbreviation(word):
            return False
        if word.isdigit() and not line[start : index - len(word)].strip():
            return False  # a list number: "1. البند الأول"
    return True


def split_sentences(text: str) -> list[str]:
    """Split Arabic/Latin text into sentences at . ! ? ؟ ؛ … ۔ and line breaks."""
    sentences: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            sentences.extend(_split_line(line))
    return sentences


# --- Caps -----------------------------------------------------------------------------------

ELLIPSIS = "…"
_SENTENCE_BREAK = re.compile(r"\n|[.!?؟؛۔…](?=\s)")
_WORD_BREAK = re.compile(r"\s")


def cap_text(text: str, limit: int) -> str:
    """At most `limit` characters: cut after the last sentence that fits, else at a word (with
    "…"); never between a letter and its marks, nor inside a surrogate pair."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    floor = limit // 2  # a boundary this early would throw away too much: cut at a word instead
    ends = [m.end() for m in _SENTENCE_BREAK.finditer(text, floor, limit)]
    if ends:
        return text[: ends[-1]].rstrip()
    end = limit - 1  # room for the ellipsis
    spaces = [m.start() for m in _WORD_BREAK.finditer(text, floor, end)]
    if spaces:
        end = spaces[-1]
    else:
        while end > 0 and _is_mark(text[end]):
            end -= 1  # a mark belongs to the letter before it: drop them together
        if end and "\ud800" <= text[end - 1] <= "\udbff":
            end -= 1  # the first half of a surrogate pair
    return text[:end].rstrip() + ELLIPSIS


def _is_mark(char: str) -> bool:
    """Combining marks (harakat, shadda, accents) and joiners that lean on the character before."""
    return unicodedata.category(char) in ("Mn", "Mc", "Me") or char in "\u200c\u200d"
