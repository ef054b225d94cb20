"""What a JSON-LD processor would drop or misread without a word, found before it runs.

The JSON-LD to RDF algorithm drops a node whose ``@id`` is not a valid IRI, a type or a property
that does not expand to one, and a value whose language tag is not well formed; rdflib's
processor (which reads JSON-LD for matchgraph) drops some of these, keeps others as terms the
store then refuses with no location, and turns an invalid IRI given to a property coerced to
``@id`` into the file's own path. :func:`check_jsonld` walks the document (its contexts already
inlined, see :func:`matchgraph.sources.safe_load.inline_contexts`) and refuses each of these at
its JSON path.

The walk follows the contexts the way JSON-LD does (embedded, property-scoped and type-scoped
contexts, keyword aliases, compact IRIs, ``@vocab``), closely enough to expand what it checks; it
does not re-implement expansion. A string is checked with Oxigraph's IRI parser (the store's), so
what passes here is what the store takes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Location, ParseError, SchemaError
from .safe_load import type_error

__all__ = ["check_jsonld"]

#: Keywords ``@type`` may hold in a term definition or a value object (not IRIs).
_TYPE_KEYWORDS = frozenset({"@id", "@json", "@none", "@vocab"})
#: Keywords whose values hold nodes or values to walk into.
_NESTING = frozenset({"@graph", "@list", "@set", "@included", "@nest"})
#: Stands for the base IRI when a relative reference is checked (only its syntax matters).
_SOME_BASE = "http://base.invalid/"
_PLAIN_KEY = re.compile(r"[@\w:-]+")


def check_jsonld(document: Any, path: str) -> None:
    """Refuse a JSON-LD document with an IRI or a language tag a processor would drop or misread.

    Checked: ``@id`` values (nodes and term definitions), ``@type`` values, property keys, values
    of properties declared ``"@type": "@id"`` or ``"@vocab"``, keys of ``@id`` and ``@type`` maps,
    ``@vocab`` and ``@base``, and language tags (``@language``, language-map keys).

    Parameters
    ----------
    document : object
        The parsed JSON-LD, every context inlined.
    path : str
        The file (errors name it).

    Raises
    ------
    ParseError
        At the JSON path of the first bad IRI or language tag.

    Examples
    --------
    >>> check_jsonld({"@context": {"@vocab": "https://schema.org/"}, "@id": "https://e.org/a", "name": "A"}, "x")
    >>> check_jsonld({"@id": "http://e.org/a b"}, "x.jsonld")
    Traceback (most recent call last):
    ...
    matchgraph.errors.ParseError: x.jsonld at $.@id: the @id 'http://e.org/a b' is not a valid IRI: it holds a space; a JSON-LD processor drops the node it names without a word
    Hint: percent-encode the character (a space is %20) or remove it; an entity IRI looks like https://w3id.org/matchgraph/id/my-model
    """
    _Walk(path).node(document, _Scope(), "$")


class _Scope:
    """The active context, as far as the checks need it: term definitions and ``@vocab``."""

    __slots__ = ("terms", "vocab")

    def __init__(self, terms: dict[str, Any] | None = None, vocab: str | None = None) -> None:
        self.terms: dict[str, Any] = terms if terms is not None else {}
        self.vocab = vocab

    def keyword(self, key: str) -> str | None:
        """The keyword ``key`` is or stands for (an alias such as ``"id": "@id"``), else None."""
        if key.startswith("@"):
            return key
        definition = self.terms.get(key)
        if isinstance(definition, str) and definition.startswith("@"):
            return definition
        if isinstance(definition, dict) and str(definition.get("@id", "")).startswith("@"):
            return str(definition["@id"])
        return None

    def expand(self, value: str, *, vocab: bool) -> str | None:
        """What to check of ``value`` as an IRI: the string to parse, or None when it is not one to
        check (a keyword, a blank node, a term, a name JSON-LD ignores)."""
        if value.startswith(("@", "_:")):
            return None
        if vocab and value in self.terms:
            return None  # a term: its definition was checked where it was made
        if ":" in value:
            prefix, suffix = value.split(":", 1)
            definition = self.terms.get(prefix) if not suffix.startswith("//") else None
            iri = definition.get("@id") if isinstance(definition, dict) else definition
            if isinstance(iri, str) and not iri.startswith("@") and ":" in iri:
                return iri + suffix
            return value
        if vocab:
            if self.vocab is None:
                return None  # JSON-LD ignores a key that is neither a term nor an IRI
            return (self.vocab if ":" in self.vocab else _SOME_BASE) + value
        return _SOME_BASE + value


class _Walk:
    """One pass over a document, with the strings already found good."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.good: set[str] = set()
        self.tags: set[str] = set()
        from . import safe_load
        from ..ontology import jsonld_context

        self.bundled = [safe_load._context_file(name) for name in safe_load._CONTEXT_FILES] + [jsonld_context()]

    # ------------------------------------------------------------------ errors

    def fail(self, where: str, message: str, hint: str) -> ParseError:
        return ParseError(message, location=Location(self.path, json_path=where), hint=hint)

    def iri(self, value: Any, scope: _Scope, where: str, what: str, *, vocab: bool,
            consequence: str = "a JSON-LD processor drops it without a word") -> None:
        """Check one string that JSON-LD reads as an IRI (or an IRI reference, a compact IRI, a term)."""
        if not isinstance(value, str) or value in self.good:
            return
        expanded = scope.expand(value, vocab=vocab)
        if expanded is None:
            return
        import pyoxigraph as ox

        try:
            ox.NamedNode(expanded)
        except ValueError as exc:
            reason, hint = _why(str(exc))
            raise self.fail(where, f"{what} {value!r} is not a valid IRI: {reason}; {consequence}", hint) from None
        self.good.add(value)

    def tag(self, value: Any, where: str, what: str) -> None:
        """Check a language tag (BCP 47): a processor drops a value with a malformed one."""
        if not isinstance(value, str) or value in self.tags:
            return
        import pyoxigraph as ox

        try:
            ox.Literal("", language=value)
        except ValueError:
            raise self.fail(where, f"{what} {value!r} is not a language tag (BCP 47); a JSON-LD processor drops "
                                   "the text it tags without a word",
                            'write a tag such as "en", "de" or "en-US" (letters and digits in parts of 1 to 8 '
                            "joined by '-', no spaces or '_')") from None
        self.tags.add(value)

    # ------------------------------------------------------------------ contexts

    def context(self, value: Any, scope: _Scope, where: str) -> _Scope:
        """The scope after a ``@context`` value (null, an object or a list of them), its IRIs checked."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                scope = self.context(item, scope, f"{where}[{i}]")
            return scope
        if value is None:
            return _Scope()
        if not isinstance(value, dict):  # rdflib said "'int' object has no attribute 'get'", naming no place
            raise type_error("a JSON-LD @context", value, Location(self.path, json_path=where),
                             expected="an object of term definitions (or the URL of a bundled context, or a list "
                                      "of these)",
                             hint='write "@context": {"@vocab": "https://schema.org/"} (your own terms inside the '
                                  'braces) or "@context": "https://w3id.org/matchgraph/context.jsonld"')
        terms = dict(scope.terms)
        terms.update((k, v) for k, v in value.items() if not k.startswith("@"))
        vocab = scope.vocab
        new = _Scope(terms, vocab)
        trusted = any(value is b for b in self.bundled)
        if "@vocab" in value:
            raw = value["@vocab"]
            if isinstance(raw, str) and raw and not trusted:
                self.iri(raw, new, _key(where, "@vocab"), "the @vocab", vocab=True,
                         consequence="every property and type it would make is dropped")
            new.vocab = (new.expand(raw, vocab=True) or raw) if isinstance(raw, str) and raw else None
        if trusted:
            return new
        if "@base" in value:
            self.iri(value["@base"], new, _key(where, "@base"), "the @base", vocab=False,
                     consequence="the relative IRIs it would resolve are dropped")
        if "@language" in value and value["@language"] is not None:
            self.tag(value["@language"], _key(where, "@language"), "the default @language")
        for term, definition in value.items():
            if term.startswith("@"):
                continue
            at = _key(where, term)
            if isinstance(definition, str):
                self.iri(definition, new, at, f"the term {term!r}: its IRI", vocab=True)
            elif isinstance(definition, dict):
                for key in ("@id", "@reverse"):
                    if isinstance(definition.get(key), str):
                        self.iri(definition[key], new, _key(at, key), f"the term {term!r}: its {key}",
                                 vocab=True)
                kind = definition.get("@type")
                if isinstance(kind, str) and kind not in _TYPE_KEYWORDS:
                    self.iri(kind, new, _key(at, "@type"), f"the term {term!r}: its @type", vocab=True)
                if definition.get("@language") is not None:
                    self.tag(definition["@language"], _key(at, "@language"), f"the term {term!r}: its @language")
                if "@context" in definition:
                    self.context(definition["@context"], new, _key(at, "@context"))
            elif definition is not None:  # a processor must refuse it; rdflib defined the term as nothing
                raise type_error(f"the definition of the term {term!r}", definition,
                                 Location(self.path, json_path=at),
                                 expected="an IRI (text), an object such as {\"@id\": ...} or null",
                                 hint=f'write "{term}": "https://schema.org/{term}" (the IRI the term stands for), or '
                                      f'"{term}": {{"@id": "https://schema.org/{term}"}}')
        return new

    # ------------------------------------------------------------------ nodes and values

    def node(self, obj: Any, scope: _Scope, where: str) -> None:
        """A node object (or a list of them, or a value object), its keys and what they hold."""
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                self.node(item, scope, f"{where}[{i}]")
            return
        if not isinstance(obj, dict):
            return
        if "@context" in obj:
            scope = self.context(obj["@context"], scope, _key(where, "@context"))
        keywords = {key: scope.keyword(key) for key in obj}
        if "@value" in keywords.values():
            for key, keyword in keywords.items():
                if keyword == "@type" and isinstance(obj[key], str) and obj[key] not in _TYPE_KEYWORDS:
                    self.iri(obj[key], scope, _key(where, key), "the datatype", vocab=True)
                elif keyword == "@language" and obj[key] is not None:
                    self.tag(obj[key], _key(where, key), "the @language")
            return
        for key, keyword in keywords.items():  # type-scoped contexts apply to the node that has the type
            if keyword == "@type":
                for kind in obj[key] if isinstance(obj[key], list) else [obj[key]]:
                    definition = scope.terms.get(kind) if isinstance(kind, str) else None
                    if isinstance(definition, dict) and "@context" in definition:
                        scope = self.context(definition["@context"], scope, _key(where, key))
        for key, value in obj.items():
            keyword = keywords[key]
            at = _key(where, key)
            if keyword == "@id":
                self.iri(value, scope, at, "the @id", vocab=False,
                         consequence="a JSON-LD processor drops the node it names without a word")
            elif keyword == "@type":
                for i, kind in enumerate(value if isinstance(value, list) else [value]):
                    self.iri(kind, scope, f"{at}[{i}]" if isinstance(value, list) else at, "the @type", vocab=True)
            elif keyword == "@reverse" and isinstance(value, dict):
                for prop, item in value.items():
                    self.property(prop, item, scope, _key(at, prop))
            elif keyword in _NESTING:
                self.node(value, scope, at)
            elif keyword is None:
                self.property(key, value, scope, at)

    def property(self, key: str, value: Any, scope: _Scope, where: str) -> None:
        """A property of a node: its key as an IRI, then its values as the term defines them."""
        self.iri(key, scope, where, "the property", vocab=True)
        definition = scope.terms.get(key)
        if not isinstance(definition, dict):
            self.values(value, scope, where, (), None)
            return
        if definition.get("@type") == "@json":
            return  # a JSON literal: what it holds is data, not JSON-LD
        if "@context" in definition:
            scope = self.context(definition["@context"], scope, where)
        container = definition.get("@container")
        containers = tuple(container) if isinstance(container, list) else (container,)
        self.values(value, scope, where, containers, definition.get("@type"))

    def values(self, value: Any, scope: _Scope, where: str, containers: tuple[Any, ...], coerce: Any) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.values(item, scope, f"{where}[{i}]", containers, coerce)
        elif isinstance(value, dict):
            if "@language" in containers and "@value" not in value:
                self.language_map(value, scope, where)
            elif ("@id" in containers or "@type" in containers) and "@value" not in value and "@id" not in value:
                for name, item in value.items():
                    if scope.keyword(name) != "@none":
                        self.iri(name, scope, _key(where, name), "the map key", vocab="@type" in containers)
                    self.node(item, scope, _key(where, name))
            elif "@index" in containers or "@graph" in containers:
                self.node(list(value.values()) if "@value" not in value and "@id" not in value else value,
                          scope, where)
            else:
                self.node(value, scope, where)
        elif isinstance(value, str) and coerce in ("@id", "@vocab"):
            self.iri(value, scope, where, "the value", vocab=coerce == "@vocab",
                     consequence=f"its property is declared \"@type\": \"{coerce}\", so the value is an IRI, "
                                 "and a JSON-LD processor drops (or misreads) it")


    def language_map(self, value: dict[str, Any], scope: _Scope, where: str) -> None:
        """A language map (``{"en": "text", "de": ["text", ...]}``): tags for keys, texts for values,
        and at least one of them (an empty one gave the property no value, and the entity then failed
        the shapes with a message about its name, not about the map)."""
        property_name = where.rsplit(".", 1)[-1].split("[", 1)[0]
        if not value:
            raise SchemaError("the language map is empty, so it gives no value: a property declared "
                             '"@container": "@language" takes an object of language tags and texts',
                             location=Location(self.path, json_path=where),
                             hint=f'give the text in each language, e.g. "{property_name}": {{"en": "..."}}, or '
                                  "leave the property out")
        for tag, texts in value.items():
            at = _key(where, tag)
            if scope.keyword(tag) != "@none":
                self.tag(tag, at, "the language-map key")
            for i, text in enumerate(texts if isinstance(texts, list) else [texts]):
                if not isinstance(text, str) and text is not None:
                    raise type_error("a value of a language map", text,
                                     Location(self.path, json_path=f"{at}[{i}]" if isinstance(texts, list) else at),
                                     expected="a text (or a list of texts) in that language",
                                     hint=f'quote it: "{tag}": "{text}"' if isinstance(text, (int, float)) else
                                     f'write the text itself: "{tag}": "..."')


def _key(where: str, key: str) -> str:
    """The JSON path of ``key`` in the object at ``where``: ``$.name``, or ``$["http://e.org/a b"]``."""
    return f"{where}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{where}[{json.dumps(key, ensure_ascii=False)}]"


def _why(error: str) -> tuple[str, str]:
    """Oxigraph's IRI error in words, and how to fix it."""
    general = "an entity IRI looks like https://w3id.org/matchgraph/id/my-model"
    point = re.search(r"code point '(.*)'", error, re.S)
    if point:
        char = point.group(1)
        if char == " ":
            return "it holds a space", f"percent-encode the character (a space is %20) or remove it; {general}"
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}" if len(char) == 1 else repr(char)
        code = "".join(f"%{b:02X}" for b in char.encode("utf-8")) if char else ""
        return (f"it holds the character {shown}, which an IRI cannot hold",
                f"percent-encode the character ({shown} is {code}) or remove it; {general}" if code else general)
    if "percent encoding" in error:
        return (f"{error[0].lower()}{error[1:]} (a % starts a percent-encoded byte: two hex digits)",
                f"write % itself as %25; {general}")
    return error[0].lower() + error[1:], f"fix the IRI; {general}"
