"""Names -> entities: resolve every artifact a source names to an entity IRI.

Resolution normalises case, punctuation and spacing (``RoBERTa-base``, ``roberta base`` and
``RoBERTa base`` are one key), and knows ids, names, aliases and hub ids (``allenai/c4``). Names
that resolve to nothing become stub entities. :func:`find_mentions` finds the artifacts a claim's
free text names: known entities by their labels, unknown ones by how artifact names are written
(CamelCase, acronyms with digits, capitalised phrases in lists).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import URIRef

from ..env import is_http_url
from ..vocab import entity_iri, slug_of, slugify

__all__ = ["normalise_name", "EntityIndex", "find_mentions"]

_SUFFIXES = ("only", "based", "style", "like", "derived", "trained", "scale", "sized", "specific", "compatible",
             "curated", "compressed", "filtered", "level", "native", "powered", "friendly", "free")


@lru_cache(maxsize=1 << 16)
def normalise_name(text: str) -> str:
    """Return the key a name is matched on: lowercase ASCII letters and digits only.

    Examples
    --------
    >>> normalise_name("RoBERTa-base") == normalise_name("roberta base")
    True
    """
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"'s\b", "", text)
    return re.sub(r"[^a-z0-9]+", "", text)


@dataclass
class EntityIndex:
    """Lookup of entities by id, name, alias and hub id, all normalised.

    ``labels`` keeps every label as written, for scanning free text. ``stubs`` holds the slugs of
    stub entities: when a name matches a stub and a described entity, the described one wins.
    """

    keys: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, set[str]] = field(default_factory=dict)
    stubs: set[str] = field(default_factory=set)

    def add(self, slug: str, name: str | None, labels: Iterable[str] = (), *, stub: bool = False) -> None:
        """Register an entity under its slug, name and other labels (``stub=True`` for a stub)."""
        if not stub:
            self.stubs.discard(slug)
        elif slug not in self.labels:
            self.stubs.add(slug)
        if name:
            self.names.setdefault(slug, name)
        for label in [slug, name or "", *labels]:
            if not label:
                continue
            for variant in _variants(label):
                key = normalise_name(variant)
                if key:
                    self.keys.setdefault(key, set()).add(slug)
            self.labels.setdefault(slug, set()).add(label)

    def resolve(self, name: str, *, stubs: bool = True) -> list[str]:
        """Return the slugs a name resolves to (empty when unknown, several when ambiguous).

        Described entities come before stubs; ``stubs=False`` leaves stubs out altogether.
        """
        text = str(name).strip()
        if text.startswith(str(entity_iri(""))):
            return [slug_of(text)]
        for variant in [text, *_variants(text)]:
            hits = self.keys.get(normalise_name(variant), set())
            if not stubs:
                hits = hits - self.stubs
            if hits:
                return self.rank(hits)
        return []

    def rank(self, slugs: Iterable[str]) -> list[str]:
        """Order candidate slugs: described entities before stubs, then alphabetically."""
        return sorted(slugs, key=lambda s: (s in self.stubs, s))

    def closest(self, name: str, n: int = 5) -> list[str]:
        """Return the slugs whose labels are closest to ``name``, best first.

        A label is close when its similarity (difflib's ratio) is at least 0.6, as in
        :func:`difflib.get_close_matches`, or when one of the two holds the other (3 characters or
        more; the closer in length first); and within 0.15 of the best, so a near-exact match is
        not followed by names that merely share a few letters.
        """
        key = normalise_name(name)
        scored: dict[str, float] = {}
        # A label whose score cannot reach the floor as it stands so far (it only rises) is never
        # listed: such labels are passed over on the upper bounds of the ratio that difflib's
        # real_quick_ratio (lengths) and quick_ratio (letters in common) compute, which spares
        # most of the costly ratios.
        letters = Counter(key)
        floor = 0.6
        for label_key, slugs in self.keys.items():
            shorter, total = min(len(key), len(label_key)), len(key) + len(label_key)
            if shorter >= 3 and (key in label_key or label_key in key):
                ratio = 0.8 + 0.2 * difflib.SequenceMatcher(None, key, label_key).ratio()
            else:
                if 2.0 * shorter / total < floor:
                    continue
                if 2.0 * sum(min(n, label_key.count(c)) for c, n in letters.items()) / total < floor:
                    continue
                ratio = difflib.SequenceMatcher(None, key, label_key).ratio()
            for slug in slugs:
                scored[slug] = max(scored.get(slug, 0.0), ratio)
            floor = max(floor, ratio - 0.15)
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
        floor = max(0.6, ranked[0][1] - 0.15) if ranked else 0.0
        return [slug for slug, score in ranked[:n] if score >= floor]

    def surface_forms(self) -> dict[str, set[str]]:
        """Map each normalised multi-character label to its slugs (for scanning text)."""
        return {k: v for k, v in self.keys.items() if len(k) >= 2}


def _variants(label: str) -> list[str]:
    """Spelling variants a label is also known by: hub ids without owner, ``-base`` spacing."""
    out = [label]
    if "/" in label:
        out.append(label.rsplit("/", 1)[1])
    return out


# ---------------------------------------------------------------------------- mentions in text

_STOP_ACRONYMS = {
    "AI", "ML", "NLP", "NLU", "NLG", "GPU", "GPUS", "CPU", "CPUS", "TPU", "TPUS", "RAM", "VRAM", "API", "APIS",
    "JSON", "SQL", "HTTP", "URL", "MLM", "NER", "QA", "LLM", "LLMS", "IO", "I/O", "OCR", "ASR", "TTS", "BPE",
    "MSE", "BPB", "FP16", "FP32", "INT8", "INT4", "BF16", "GIB", "GB", "MB", "TB", "KB", "CLI", "UI", "OS",
    "PDF", "CSV", "HTML", "XML", "US", "EU", "UK", "SOTA", "RNN", "CNN", "LSTM", "MLP", "RLHF", "SFT", "IR",
    "TF", "PT", "OOV", "GAN", "VAE", "NAS", "AWS", "GCP", "SDK", "DL", "RL", "AUC", "ROC", "F1", "IDF", "TFIDF",
    "ID", "IDS", "FAQ", "README", "MIT", "GPL", "BSD", "CC", "ETL", "CUDA", "ONNX?", "N/A", "SQLITE?",
}
_STOP_WORDS = {
    "the", "a", "an", "and", "or", "but", "more", "less", "most", "faster", "slower", "better", "worse", "than",
    "compared", "while", "because", "due", "though", "however", "unlike", "both", "each", "this", "that", "these",
    "those", "it", "its", "they", "their", "for", "with", "without", "in", "on", "of", "to", "from", "by", "as",
    "at", "is", "are", "be", "e.g.", "eg", "i.e.", "ie", "etc", "via", "vs", "versus", "over", "under", "like",
    "such", "similar", "other", "larger", "smaller", "higher", "lower", "simpler", "safer", "cheaper",
    "comparable", "superior", "inferior", "broader", "narrower", "post", "pre", "training", "model", "models",
    "dataset", "datasets", "format", "formats", "framework", "frameworks", "library", "libraries", "tool",
    "tools", "benchmark", "benchmarks", "method", "methods", "web", "text", "data", "code", "books",
    "maintains", "provides", "offers", "enables", "supports", "uses", "requires", "outperforms",
    "attention", "zero", "shot", "few", "one", "two", "three", "many", "all", "some", "any", "no", "not",
    "english", "python", "rust", "java", "c", "c++", "reddit", "wikipedia", "github", "arxiv", "pubmed",
}
_STOP_KEYS = frozenset(normalise_name(w) for w in _STOP_WORDS)
_PUNCTUATION = re.compile(r"[.;:!?,()]")
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9.+/_]*(?:-[A-Za-z0-9][A-Za-z0-9.+_]*)*"
_NAME_TOKEN = re.compile(_TOKEN)


def _looks_like_artifact_token(token: str) -> bool:
    """Artifact names are written with inner capitals, digits or all caps: GloVe, Word2Vec, C4, HDF5."""
    core = token.rstrip(".")
    if _stopped(core):
        return False
    if len(core) < 2:
        return False
    head = core.split("-")[0]
    inner_caps = any(c.isupper() for c in head[1:]) and any(c.islower() for c in head)
    has_digit = any(c.isdigit() for c in head) and any(c.isalpha() for c in head)
    all_caps = head.isupper() and len(head) >= 2 and head.isalpha()
    return inner_caps or has_digit or all_caps


def _stopped(token: str) -> bool:
    """Common words, technical acronyms and quantities are not artifact names."""
    core = token.rstrip(".")
    return (core.upper() in _STOP_ACRONYMS or core.lower() in _STOP_WORDS
            or bool(re.fullmatch(r"[~<>]?\d+(?:[.,]\d+)*[A-Za-z]{0,3}\+?|[xX]\d+|\d+[xX]|[A-Za-z]?\d+(?:-\d+)+", core)))


def _trim_suffix(phrase: str) -> str:
    parts = phrase.split("-")
    while len(parts) > 1 and parts[-1].lower() in _SUFFIXES:
        parts.pop()
    return "-".join(parts)


def _capitalised(token: str) -> bool:
    return token[:1].isupper() and not _stopped(token)


def _candidate_phrases(text: str) -> list[tuple[int, int, str]]:
    """Find spans that look like artifact names: (start, end, name) with offsets into ``text``.

    A name never runs across the end of a sentence ("... on the Hub. RoBERTa-base ...").
    """
    found: list[tuple[int, int, str]] = []
    tokens = [(m.start(), m.group(0)) for m in _NAME_TOKEN.finditer(text)]
    sentence_starts = {0} | {m.end() for m in re.finditer(r"[.;:!?(]\s+|\(\s*", text)}
    in_list = _parenthetical_list_spans(text)
    i = 0
    while i < len(tokens):
        start, tok = tokens[i]
        tok_clean = re.sub(r"'s$", "", tok).rstrip(".")
        artifactish = _looks_like_artifact_token(tok_clean)
        listed = any(a <= start < b for a, b in in_list) and _capitalised(tok_clean)
        titled = _capitalised(tok_clean) and start not in sentence_starts and not tok_clean.isupper()
        if artifactish or listed or titled:
            words = [tok_clean]
            j = i + 1
            while j < len(tokens):
                nstart, ntok = tokens[j]
                gap = text[tokens[j - 1][0] + len(tokens[j - 1][1]):nstart]
                ntok_clean = re.sub(r"'s$", "", ntok).rstrip(".")
                if gap.strip() or tokens[j - 1][1].endswith(".") \
                        or not (_capitalised(ntok_clean) or _looks_like_artifact_token(ntok_clean)):
                    break
                words.append(ntok_clean)
                j += 1
            joined = " ".join(words)
            phrase = _trim_suffix(joined)
            if _stopped(phrase):
                i = j
                continue
            end = tokens[j - 1][0] + len(words[-1]) - (len(joined) - len(phrase))
            if artifactish or listed or titled or len(words) > 1:
                found.append((start, end, phrase))
            i = j
            continue
        i += 1
    return found


def _parenthetical_list_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\([^()]*\)", text)]


def _written_as_name(surface: str, slugs: set[str], index: EntityIndex) -> bool:
    """Plain lowercase words name an entity only when they are written as one of its labels.

    "web text" is not WebText and "bidirectional transformers" is not the Transformers library,
    but "jsonlines" (a lowercase label) and "knowledge distillation" (several words, any case) are.
    """
    if any(c.isupper() or c.isdigit() for c in surface):
        return True
    words = surface.split()
    for slug in slugs:
        for label in index.labels.get(slug, ()):
            if label == slug and index.names.get(slug) != slug:
                continue  # a slug is an id, not how the source writes the name
            if label == surface or (len(words) > 1 and label.lower() == surface):
                return True
    return False


def find_mentions(text: str, index: EntityIndex, *, exclude: Iterable[str] = ()) -> list[tuple[str, str | None]]:
    """Find the artifacts a piece of text names.

    Parameters
    ----------
    text : str
        A claim, e.g. "Faster than RoBERTa-base and better than static GloVe vectors".
    index : EntityIndex
        The known entities.
    exclude : iterable of str
        Slugs never reported (the entity the claim is about).

    Returns
    -------
    list of (name as written, slug or None)
        In order of appearance, each entity once; slug None means unknown (a stub is needed).

    Notes
    -----
    Only described entities are matched by their labels; stubs are not, so what a text is found
    to name does not depend on which stubs earlier ingests happened to mint (ingest stays
    idempotent). A name that is unknown here is resolved to its stub by the caller.

    Examples
    --------
    >>> index = EntityIndex()
    >>> index.add("roberta-base", "RoBERTa-base")
    >>> find_mentions("Faster than RoBERTa base and better than GloVe", index)
    [('RoBERTa base', 'roberta-base'), ('GloVe', None)]
    """
    excluded = set(exclude)
    hits: list[tuple[int, str, str | None]] = []
    taken: list[tuple[int, int]] = []
    forms = index.keys
    words = list(re.finditer(r"[A-Za-z0-9]+(?:['’]s)?", text))
    # known entities: longest normalised n-gram of up to 6 words matching a label
    i = 0
    while i < len(words):
        matched = False
        for n in range(min(6, len(words) - i), 0, -1):
            span = words[i:i + n]
            start, end = span[0].start(), span[-1].end()
            if _PUNCTUATION.search(text, start, end):
                continue
            key = normalise_name(text[start:end])
            slugs = forms.get(key)
            if slugs and index.stubs:
                slugs = slugs - index.stubs
            if re.search(r"['’]s$", span[-1].group(0)):
                end -= 2
            if not slugs or (n == 1 and (len(key) < 3 and not any(c.isdigit() for c in key))):
                continue
            if n == 1 and key in _STOP_KEYS and not _looks_like_artifact_token(span[0].group(0)):
                continue
            if not _written_as_name(text[start:end], slugs, index):
                continue
            slug = index.rank(slugs)[0]
            if slug not in excluded:
                hits.append((start, text[start:end], slug))
            taken.append((start, end))
            i += n
            matched = True
            break
        if not matched:
            i += 1
    # unknown names; a longer written name beats a known label inside it ("PyTorch Hub" over "PyTorch")
    for start, end, phrase in _candidate_phrases(text):
        inside = [(a, b) for a, b in taken if a < end and start < b]
        if inside and all(start <= a and b <= end and (b - a) < (end - start) for a, b in inside) \
                and not index.resolve(phrase, stubs=False) and " " in phrase:
            hits = [h for h in hits if not any(a <= h[0] < b for a, b in inside)]
            taken = [t for t in taken if t not in inside]
            inside = []
        if inside:
            continue
        resolved = index.resolve(phrase, stubs=False)
        slug = resolved[0] if resolved else None
        if slug in excluded:
            continue
        hits.append((start, phrase, slug))
        taken.append((start, end))
    hits.sort(key=lambda h: h[0])
    seen: set[str] = set()
    out: list[tuple[str, str | None]] = []
    for _, name, slug in hits:
        key = slug or "?" + normalise_name(name)
        if key in seen or key in {"?" + normalise_name(e) for e in excluded}:
            continue
        seen.add(key)
        out.append((name, slug))
    return out


def stub_slug(name: str) -> str:
    """The slug a stub entity for an unknown name gets."""
    return slugify(name)


def load_index(catalog: object) -> EntityIndex:
    """Build an :class:`EntityIndex` of every entity in a catalog (ids, names, aliases, hub ids)."""
    index = EntityIndex()
    rows = catalog.rows("""SELECT ?e ?name (GROUP_CONCAT(DISTINCT STR(?label); separator="\\u001f") AS ?labels) WHERE {
        ?e a mg:Entity . OPTIONAL { ?e schema:name ?name }
        OPTIONAL { { ?e schema:alternateName ?label } UNION { ?e mg:hubId ?label } UNION { ?e schema:url ?label } }
    } GROUP BY ?e ?name""")  # type: ignore[attr-defined]
    stubs = {slug_of(str(e)) for (e,) in catalog.rows("SELECT DISTINCT ?e WHERE { ?e mg:isStub true }")}  # type: ignore[attr-defined]
    for e, name, labels in rows:
        slug = slug_of(str(e))
        extra = [x for x in str(labels or "").split("\u001f") if x] if labels is not None else []
        index.add(slug, str(name) if name is not None else None, [x for x in extra if not is_http_url(x)],
                  stub=slug in stubs)
        for url in (x for x in extra if is_http_url(x)):
            index.keys.setdefault("url:" + url.rstrip("/").lower(), set()).add(slug)
    return index


def iri_for(slug: str) -> URIRef:
    """The IRI of the entity with this slug."""
    return entity_iri(slug)
