"""Cross-source linking: decide which entity each imported record describes, and report it.

Entities that come from different sources are the same entity when they are the same thing: the
C4 that a Croissant file describes, the C4 that The Pile's card compares against and the
``allenai/c4`` a model was trained on. Before an import is built, :class:`CrossLinker` places every
record on an entity slug:

1. **previous import**: a record this same file described before keeps the slug it had (imports
   are idempotent even after merges and filled stubs);
2. **hub id**, **URL**, **name** (any case and punctuation), **alias**: the record reuses the slug of
   the one entity of a compatible kind (the same kind, or a stub) that answers to it;
3. **name without owner** (``mteb/msmarco`` -> ``msmarco``): as 2, a weaker merge;
4. otherwise the record keeps its own slug (made unique when another entity holds it).

Merging never overwrites what another source said: a record merged into an entity keeps the
entity's name (its own name becomes an alias), and a different description, licence or usage
figure is kept as an observation of the importing source. Candidates that are close but not
certain (ambiguous names, another kind, near spellings) are reported as near-misses for a curator
to confirm; they are never merged.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef

from ..env import is_http_url, lower_scheme
from ..errors import Location
from .build import capability_key as _cap_key, capability_title
from .linking import EntityIndex, normalise_name
from .records import CapabilityRecord, EntityRecord, ObservationRecord, SourceRecords
from ..vocab import ID, KIND_OF_CLASS, SCHEMA, STUB_GRAPH, entity_iri, normalise_kind, slug_of, slugify

__all__ = ["Merge", "NearMiss", "MergeReport", "CrossLinker", "hub_id_of_url", "url_key", "reduced_key"]

#: difflib similarity from which a near spelling is reported (small imports only).
NEAR_MISS_RATIO = 0.86
#: Imports with at most this many records also look for near spellings with difflib.
FUZZY_LIMIT = 300

_HUB_URL = re.compile(r"^https?://(?:www\.)?huggingface\.co/(?:(datasets|spaces)/)?([^/?#\s]+(?:/[^/?#\s]+)?)/?$")


@dataclass
class Merge:
    """A record placed on an entity that another source (or record) already describes."""

    record: str
    slug: str
    target: str
    via: str
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"record": self.record, "entity": self.slug, "entity_name": self.target, "via": self.via,
                "location": self.location}


@dataclass
class NearMiss:
    """A record that might be an existing entity; left separate for a curator to confirm."""

    record: str
    slug: str
    candidates: list[tuple[str, str]]
    reason: str
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"record": self.record, "entity": self.slug, "reason": self.reason, "location": self.location,
                "candidates": [{"id": s, "name": n} for s, n in self.candidates]}


@dataclass
class MergeReport:
    """What cross-source linking decided."""

    merges: list[Merge] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    merged: int = 0
    stubs_filled: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"merges": [m.to_dict() for m in self.merges],
                "near_misses": [n.to_dict() for n in self.near_misses], "kept_as_observations": self.kept}


@dataclass
class _Known:
    """An entity the catalog (or an earlier record of this import) already holds."""

    slug: str
    name: str | None = None
    kind: str | None = None
    stub: bool = False
    others: bool = False
    batch: EntityRecord | None = None
    expected: str | None = None


def hub_id_of_url(url: str | None) -> str | None:
    """Return the Hugging Face Hub id a URL points to, if it is a Hub page.

    Examples
    --------
    >>> hub_id_of_url("https://huggingface.co/datasets/allenai/c4")
    'allenai/c4'
    >>> hub_id_of_url("https://example.org/data") is None
    True
    """
    if not url:
        return None
    m = _HUB_URL.match(lower_scheme(url.strip()))
    if not m or m.group(2).split("/")[0] in {"docs", "blog", "models", "papers", "spaces", "datasets"}:
        return None
    return m.group(2)


def url_key(url: str) -> str:
    """The key a URL is matched on (as :func:`matchgraph.sources.linking.load_index` stores it)."""
    return "url:" + url.strip().rstrip("/").lower()


def reduced_key(name: str) -> str:
    """A looser key for near-miss detection: no owner, leading 'the', version or size suffixes.

    Examples
    --------
    >>> reduced_key("WikiText-103") == reduced_key("wikitext")
    True
    """
    text = str(name).rsplit("/", 1)[-1]
    key = normalise_name(re.sub(r"^\s*the\s+", "", text, flags=re.I))
    key = re.sub(r"(dataset|corpus|benchmark|data)$", "", key)
    key = re.sub(r"(v?\d+(?:[a-z]{1,2})?)+$", "", key)
    return key if len(key) >= 3 else normalise_name(text)


def _number_text(value: float) -> str:
    """A figure as written: ``91234567``, ``71.4``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _kind(rec: EntityRecord) -> str | None:
    return normalise_kind(rec.kind) if rec.kind else None


def _hub_ids(rec: EntityRecord) -> list[str]:
    return [str(v) for k, v in rec.extra if k == "hub_id"]


def _where(loc: Location | None) -> str | None:
    return str(loc) if loc is not None else None


class CrossLinker:
    """Places imported records on entity slugs, against a catalog and each other.

    Parameters
    ----------
    catalog : Catalog
        The catalog the import writes to.
    replaced : iterable of URIRef
        The named graphs the import replaces (the earlier import of the same files).

    Examples
    --------
    >>> from matchgraph import Catalog
    >>> from matchgraph.sources.records import EntityRecord
    >>> linker = CrossLinker(Catalog("memory:"), [])
    >>> linker.place(EntityRecord(id="c4", name="c4", kind="dataset"))
    'c4'
    """

    def __init__(self, catalog: Any, replaced: Iterable[URIRef]) -> None:
        self.catalog = catalog
        self.replaced = {URIRef(g) for g in replaced}
        self.index = EntityIndex()
        self.known: dict[str, _Known] = {}
        self.previous: dict[str, set[str]] = {}
        self.previous_kind: dict[str, str] = {}
        self.previous_aliases: dict[str, list[str]] = {}
        self.reduced: dict[str, set[str]] = {}
        self.full: dict[str, set[str]] = {}
        self.report = MergeReport()
        self._merged_records: dict[str, list[EntityRecord]] = {}
        self._source_label: dict[int, str] = {}
        self._listed: set[tuple[str, str]] = set()
        self._kept_fields: set[tuple[str, str, str]] = set()
        self._fuzzy_ok = True
        self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        for e, cls, g in self.catalog.rows("SELECT ?e ?cls ?g WHERE { GRAPH ?g { ?e a ?cls } }"):
            slug = slug_of(str(e))
            if not str(e).startswith(str(ID)) or "/" in slug:
                continue
            known = self.known.setdefault(slug, _Known(slug))
            if URIRef(g) == STUB_GRAPH:
                known.stub = True
            elif URIRef(g) not in self.replaced:
                known.others = True
            if URIRef(cls) in KIND_OF_CLASS:
                if URIRef(g) in self.replaced:
                    self.previous_kind[slug] = KIND_OF_CLASS[URIRef(cls)]
                else:
                    known.kind = KIND_OF_CLASS[URIRef(cls)]
        labels = self.catalog.rows("""SELECT ?e ?p ?l ?g WHERE { GRAPH ?g {
            ?e ?p ?l VALUES ?p { schema:name schema:alternateName mg:hubId schema:url } } }""")
        named: set[str] = set()
        for e, p, label, g in sorted(labels, key=lambda row: (str(row[3]), str(row[0]), str(row[1]), str(row[2]))):
            slug = slug_of(str(e))
            known = self.known.get(slug)
            if known is None:
                continue
            text, mine = str(label), URIRef(g) in self.replaced
            if p == SCHEMA.name and slug not in named:
                known.name = text
                if not mine:
                    named.add(slug)  # a name another source gives wins over the one being replaced
            if mine:
                if not is_http_url(text):
                    self.previous.setdefault(normalise_name(text), set()).add(slug)
                if p == SCHEMA.alternateName:
                    self.previous_aliases.setdefault(slug, []).append(text)
                continue
            if is_http_url(text):
                self.index.keys.setdefault(url_key(text), set()).add(slug)
            else:
                self._add_labels(slug, [text])
                self.reduced.setdefault(reduced_key(text), set()).add(slug)
        for slug, known in self.known.items():
            if known.others or known.stub:
                self._add_labels(slug, [slug, known.name or ""])
        self._load_expected()

    def _add_labels(self, slug: str, labels: Iterable[str]) -> None:
        """Index labels: with their owner-less variants (``index``) and exactly as given (``full``)."""
        labels = [x for x in labels if x]
        self.index.add(slug, None, labels)
        for label in labels:
            key = normalise_name(label)
            if key:
                self.full.setdefault(key, set()).add(slug)

    def _load_expected(self) -> None:
        """The kind a stub must have, from how sources use it (what is trained on is a dataset)."""
        rows = self.catalog.rows("""SELECT DISTINCT ?e ?p WHERE { ?x ?p ?e . ?e mg:isStub true
            VALUES ?p { mg:trainedOn mg:supportsFormat } }""")
        for e, p in rows:
            known = self.known.get(slug_of(str(e)))
            if known is not None and known.stub and not known.others:
                known.expected = "dataset" if str(p).endswith("trainedOn") else "format"

    # ------------------------------------------------------------------ placing
    def resolve(self, name: str) -> list[str]:
        """The slugs a name resolves to among known entities and the records placed so far."""
        if is_http_url(name):
            return sorted(self.index.keys.get(url_key(name), set())) or self.index.resolve(name)
        return self.index.resolve(name)

    def kind_of(self, slug: str) -> str | None:
        """The kind of a known entity or placed record (None for stubs and unknown slugs)."""
        known = self.known.get(slug)
        if known is None:
            return None
        if known.batch is not None and known.batch.kind:
            return _kind(known.batch)
        return known.kind or (known.expected if known.stub else None)

    def is_stub(self, slug: str) -> bool:
        """Whether a slug is a stub that no record of this import fills."""
        known = self.known.get(slug)
        return known is not None and known.stub and known.batch is None

    def _compatible(self, slug: str, kind: str | None) -> bool:
        have = self.kind_of(slug)
        return kind is None or have is None or have == kind

    @staticmethod
    def _labels(rec: EntityRecord) -> list[tuple[str, str]]:
        """(label, how it is matched) in order of strength."""
        out = [(h, "hub id") for h in _hub_ids(rec)]
        if rec.url:
            out.append((rec.url, "url"))
        out.append((rec.name, "name"))
        out.extend((a, "alias") for a in rec.aliases)
        out.extend([(h, "name without owner") for h, _ in out if "/" in h and not is_http_url(h)])
        return out

    def _outside(self, slug: str) -> bool:
        """Whether an entity comes from outside this import (another source, or a stub)."""
        known = self.known.get(slug)
        return known is not None and (known.others or (known.stub and known.batch is None))

    def _hits(self, label: str, how: str) -> list[str]:
        if how == "url":  # several records of one source may cite one page: URLs link across sources only
            return sorted(h for h in self.index.keys.get(url_key(label), set()) if self._outside(h))
        if how != "name without owner":
            key = normalise_name(label)
            exact = self.full.get(key, set())
            return sorted(exact if exact or "/" in label else self.index.keys.get(key, set()))
        owner, repo = label.rsplit("/", 1)
        hits = self.index.keys.get(normalise_name(repo), set())
        return sorted(h for h in hits if self._owner_free(h, owner, repo))

    def _owner_free(self, slug: str, owner: str, repo: str) -> bool:
        """A match on a name without its owner holds only for an entity another source describes
        (not a stub) whose labels give that name under no other owner (``x/e5-base`` is not
        ``y/e5-base``)."""
        known = self.known.get(slug)
        if known is None or known.batch is not None:
            return False
        if not known.others and not (known.stub and known.expected):
            return False
        for label in self.index.labels.get(slug, ()):
            if "/" in label and not is_http_url(label):
                other_owner, other_repo = label.rsplit("/", 1)
                if normalise_name(other_repo) == normalise_name(repo) and \
                        normalise_name(other_owner) != normalise_name(owner):
                    return False
        return True

    def _previous(self, rec: EntityRecord) -> str | None:
        """The slug the earlier import of this file gave the record (same label, same kind)."""
        kind = _kind(rec)
        for label in [*_hub_ids(rec), rec.name]:
            slugs = [s for s in sorted(self.previous.get(normalise_name(label), ()))
                     if self.previous_kind.get(s) == kind and self._compatible(s, kind)]
            if len(slugs) == 1:
                return slugs[0]
        return None

    def place(self, rec: EntityRecord, *, source: str | None = None) -> str:
        """Choose the slug of one record, register it, and return the slug (also set on ``rec.id``).

        Parameters
        ----------
        rec : EntityRecord
            A record of the import; its ``id`` is its own slug if nothing else matches.
        source : str, optional
            A short name of the source kind (``Croissant``, ``MTEB``, ``Hub``) used when
            retitling capabilities that would collide with another source's.
        """
        kind = _kind(rec)
        slug, via = self._previous(rec), "previous import"
        candidates: list[str] = []
        reason = ""
        if slug is None:
            via = ""
            for label, how in self._labels(rec):
                hits = self._hits(label, how)
                if not hits:
                    continue
                fitting = [h for h in hits if self._compatible(h, kind)]
                same = [h for h in fitting if kind is not None and self.kind_of(h) == kind]
                if len(fitting) == 1 or len(same) == 1:
                    slug, via = (fitting if len(fitting) == 1 else same)[0], how
                elif fitting:
                    candidates, reason = fitting, f"{how} {label!r} names several entities"
                else:
                    candidates, reason = hits, f"{how} {label!r} names an entity of another kind"
                break
        if slug is None:
            slug = self._free_slug(rec.id, kind)
        self._register(rec, slug, via, source)
        if reason:
            self._near(rec, slug, candidates, reason)
        elif not via:
            self._fuzzy(rec, slug)
        return slug

    def _taken(self, slug: str) -> bool:
        """A slug is taken when another record of this import or another source holds it."""
        known = self.known.get(slug)
        return known is not None and (known.batch is not None or known.others)

    def _free_slug(self, slug: str, kind: str | None) -> str:
        candidates = [slug] + ([f"{slug}-{kind}"] if kind else []) + [f"{slug}-{n}" for n in range(2, 1000)]
        return next(c for c in candidates if not self._taken(c))

    def _register(self, rec: EntityRecord, slug: str, via: str, source: str | None) -> None:
        """Record where a record went; counts are per entity (a format several files name is one)."""
        known = self.known.setdefault(slug, _Known(slug))
        loc = _where(rec.location)
        listed = (slug, normalise_name(rec.name))
        if slug != rec.id:
            self.report.renamed[rec.id] = slug
        if via == "previous import":  # keep the names adopted then (a filled stub's name)
            rec.aliases.extend(a for a in self.previous_aliases.get(slug, []) if a not in rec.aliases)
        again = known.batch is not None
        if not again:
            if via == "previous import":
                self.report.updated += 1
            elif known.others:
                self.report.merged += 1
            else:
                self.report.created += 1
        if again or known.others:
            same = again and not known.others and normalise_name(known.batch.name) == normalise_name(rec.name)
            self._deconflict(rec, known, source)
            if not same and via != "previous import" and listed not in self._listed:
                self._listed.add(listed)
                self.report.merges.append(Merge(rec.name, slug, known.name or slug, via or "id", loc))
        elif known.stub:
            if known.name and normalise_name(known.name) != normalise_name(rec.name):
                rec.aliases.append(known.name)
            self.report.merges.append(Merge(rec.name, slug, known.name or slug, (via or "id") + ", stub filled", loc))
            self.report.stubs_filled += 1
        rec.id = slug
        known.stub = False
        if known.batch is None:
            known.batch = rec
            known.name = known.name if known.others else rec.name
            known.kind = known.kind or _kind(rec)
        self._add_labels(slug, [slug, rec.name, *rec.aliases, *_hub_ids(rec)])
        if rec.url:
            self.index.keys.setdefault(url_key(rec.url), set()).add(slug)

    # ------------------------------------------------------------------ facts of merged records
    def _deconflict(self, rec: EntityRecord, known: _Known, source: str | None) -> None:
        """Make a merged record agree with what the entity already says (its name, and the facts of
        an earlier record of this import); the catalog's facts are compared in :meth:`finish`."""
        first = known.batch
        name = known.name if known.others or first is None else first.name
        if name and rec.name != name:
            rec.aliases.append(rec.name)
            rec.name = name
        if first is not None and first is not rec:
            for key in ("description", "license", "url", "pricing"):
                mine, theirs = getattr(rec, key), getattr(first, key)
                if mine and theirs and str(mine).strip() != str(theirs).strip():
                    self._keep(rec, known.slug, key, str(mine))
                    setattr(rec, key, None)
            rec.kind = rec.kind or first.kind
            # every capability this import already gives the entity: the first record's and those of
            # the records merged after it (a third file must not take the second one's new title)
            earlier = [first, *(r for r in self._merged_records.get(known.slug, []) if r is not rec)]
            self._retitle(rec, {_cap_key(c) for r in earlier for c in r.capabilities}, source)
        self._merged_records.setdefault(known.slug, []).append(rec)
        self._source_label[id(rec)] = source or "import"

    @staticmethod
    def _retitle(rec: EntityRecord, taken: set[str], source: str | None) -> None:
        """Rename capabilities whose IRI another source already uses for this entity.

        The new title is ``Title (Source)``, numbered (``Title (Source 2)``) when that one is taken
        too, so three files describing one dataset give three capabilities, never one IRI twice. A
        title whose key (cut at 60 characters) would lose the suffix is shortened to keep it.

        Examples
        --------
        >>> rec = EntityRecord(id="x", name="x", capabilities=[CapabilityRecord("d", title="Parquet files")])
        >>> CrossLinker._retitle(rec, {"parquet-files", "parquet-files-croissant"}, "Croissant")
        >>> rec.capabilities[0].title
        'Parquet files (Croissant 2)'
        """
        label = source or "import"
        taken = set(taken)
        for cap in rec.capabilities:
            title = capability_title(cap)
            if _cap_key(cap) in taken:
                base = re.sub(rf" \({re.escape(label)}( \d+)?\)$", "", title)
                n = 1
                while True:
                    suffix = f" ({label})" if n == 1 else f" ({label} {n})"
                    cut = base
                    cap.title = f"{cut}{suffix}"
                    while cut and not _cap_key(cap).endswith(slugify(suffix)):  # the key is cut at 60
                        cut = cut.rsplit(None, 1)[0] if len(cut.split()) > 1 else cut[:-1]  # a word at a time
                        cap.title = f"{cut}{suffix}"
                    if _cap_key(cap) not in taken:
                        break
                    n += 1
            taken.add(_cap_key(cap))

    def _keep(self, rec: EntityRecord, slug: str, key: str, value: str) -> None:
        """Keep a fact the entity already has otherwise as an observation of this record's source
        (one observation per source, entity and field: a second one is numbered)."""
        where = rec.location.path if rec.location else ""
        field_name, n = key, 1
        while (where, slug, field_name) in self._kept_fields:
            n += 1
            field_name = f"{key} ({n})"
        self._kept_fields.add((where, slug, field_name))
        rec.observations.append(ObservationRecord(field=field_name, value=value, location=rec.where(key)))
        self.report.kept.append(f"{slug}: {field_name} {value[:80]!r}")

    def finish(self, sources: Iterable[SourceRecords]) -> MergeReport:
        """After every record is placed: point relations at the final slugs and settle the facts
        of records merged into entities other sources describe.

        Returns
        -------
        MergeReport
        """
        renamed = self.report.renamed
        for source in sources:
            for rec in source.entities:
                for key, targets in rec.relations.items():
                    rec.relations[key] = [self._final(t, renamed) for t in targets]
                for res in rec.results:
                    res.benchmark = self._final(res.benchmark, renamed)
        self._settle_with_catalog()
        return self.report

    @staticmethod
    def _final(target: str, renamed: dict[str, str]) -> str:
        base = str(ID)
        if target.startswith(base):
            slug = target[len(base):]
            return str(entity_iri(renamed.get(slug, slug)))
        return target

    def _settle_with_catalog(self) -> None:
        """Compare merged records with the catalog's facts (from sources not being replaced)."""
        merged = {slug: recs for slug, recs in self._merged_records.items() if self.known[slug].others}
        if not merged:
            return
        values = " ".join(entity_iri(s).n3() for s in merged)
        rows = self.catalog.rows(f"""SELECT ?e ?p ?v ?g WHERE {{ VALUES ?e {{ {values} }} GRAPH ?g {{ ?e ?p ?v }}
            VALUES ?p {{ dcterms:description dcterms:license schema:url mg:pricing
                         mg:hasMetric mg:hasCapability mg:hasResult }} }}""")
        facts: dict[str, dict[str, set[str]]] = {}
        for e, p, v, g in rows:
            if URIRef(g) in self.replaced:
                continue
            facts.setdefault(slug_of(str(e)), {}).setdefault(str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1],
                                                            set()).add(str(v))
        for slug, recs in merged.items():
            have = facts.get(slug, {})
            for rec in recs:
                siblings = {_cap_key(c) for r in recs if r is not rec for c in r.capabilities}
                self._settle(rec, have, siblings)

    def _settle(self, rec: EntityRecord, have: dict[str, set[str]], siblings: set[str] = frozenset()) -> None:
        for key, prop in (("description", "description"), ("license", "license"), ("url", "url"),
                          ("pricing", "pricing")):
            mine = getattr(rec, key)
            if mine and have.get(prop):
                if str(mine).strip() not in have[prop]:
                    if key == "url":
                        rec.extra.append(("see_also", str(mine)))
                    else:
                        self._keep(rec, rec.id, key, str(mine))
                setattr(rec, key, None)
        for name in sorted(rec.metrics):
            iri = str(entity_iri(rec.id)) + f"/metric/{slugify(name)}"
            if iri in have.get("hasMetric", set()):
                self._keep(rec, rec.id, name, _number_text(rec.metrics.pop(name)))
        used = {v.rsplit("/", 1)[-1] for v in have.get("hasCapability", set())}
        if used & {_cap_key(c) for c in rec.capabilities}:
            self._retitle(rec, used | siblings, self._source_label.get(id(rec)))
        results = have.get("hasResult", set())
        kept = []
        for i, res in enumerate(rec.results, start=1):
            iri = str(entity_iri(rec.id)) + f"/result/{slugify(res.benchmark)}-{slugify(res.metric)}-{i}"
            if iri in results:
                self._keep(rec, rec.id, f"result {res.benchmark} {res.metric}", _number_text(res.value))
            else:
                kept.append(res)
        rec.results = kept

    # ------------------------------------------------------------------ near-misses
    def _near(self, rec: EntityRecord, slug: str, candidates: list[str], reason: str) -> None:
        named = [(c, self.known[c].name or c) for c in candidates if c != slug and self._outside(c)]
        if named:
            self.report.near_misses.append(NearMiss(rec.name, slug, named[:5], reason, _where(rec.location)))

    def _fuzzy(self, rec: EntityRecord, slug: str) -> None:
        """Look for near spellings among entities other sources describe."""
        found: list[str] = []
        labels = [rec.name, *_hub_ids(rec)]
        for label in labels:
            for other in sorted(self.reduced.get(reduced_key(label), set())):
                if other != slug and other not in found:
                    found.append(other)
        if not found and self._fuzzy_ok:
            key = normalise_name(rec.name)
            for label_key, slugs in self.index.keys.items():
                if label_key.startswith("url:") or abs(len(label_key) - len(key)) > 4 or min(len(key), len(label_key)) < 5:
                    continue
                if difflib.SequenceMatcher(None, key, label_key).ratio() >= NEAR_MISS_RATIO:
                    found.extend(s for s in sorted(slugs) if s != slug and s not in found
                                 and s in self.known and self.known[s].batch is None)
        kind = _kind(rec)
        found = [f for f in found if self._compatible(f, kind)]
        if found:
            self._near(rec, slug, found, "close spelling of an existing entity")

    def plan(self, sources: list[SourceRecords], *, source: str | None = None,
             order: Iterable[EntityRecord] | None = None) -> MergeReport:
        """Place every record of the sources (in ``order`` if given) and finish.

        Parameters
        ----------
        sources : list of SourceRecords
            Everything the import read.
        source : str, optional
            A short name of the source kind, used in retitled capabilities.
        order : iterable of EntityRecord, optional
            The order records are placed in (datasets before the benchmarks that use them, say);
            by default the order of the sources.

        Returns
        -------
        MergeReport
        """
        records = list(order) if order is not None else [r for s in sources for r in s.entities]
        self._fuzzy_ok = len(records) <= FUZZY_LIMIT
        for rec in records:
            self.place(rec, source=source)
        return self.finish(sources)

