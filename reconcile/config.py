"""Reads a config directory into the desired set, with file:line:col for every problem.

The only ruamel.yaml user. Documents are composed by libyaml (ruamel.yaml.clib) into nodes
that carry their positions, so one fast parse serves both the values and the problem
locations; the pure-Python parser is the fallback where libyaml is missing. A plain file is
read straight into values by fastyaml.py, its nodes composed only when a place it did not
find is asked for. Collects every problem, never prints, never touches the network; big
directories are read in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

from reconcile import schema
from reconcile.configdir import MAX_FILE_BYTES, Found, Listing, scan
from reconcile.desired import Collecting, ParsedFile, start_collect
from reconcile.documents import Source, Where, interpolate
from reconcile.errors import ConfigError, Problem
from reconcile.fastyaml import AVAILABLE as HAVE_PLAIN_READER
from reconcile.fastyaml import PlainDocument, read_plain
from reconcile.model import Address, Resource
from reconcile.schema import JsonPath
from reconcile.settings import Settings
from reconcile.yamltree import (
    MAX_DEPTH,
    SENSITIVE_TAG,
    Builder,
    NodeProblem,
    flow_depth,
    locator,
    maybe_deep,
    paths_of,
    problem_at,
)

try:  # libyaml through ruamel.yaml.clib; absent on some platforms (then: pure Python)
    from ruamel.yaml.cyaml import CSafeLoader

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on the platform
    HAVE_LIBYAML = False

_TAG = "tag:yaml.org,2002:"
# One shared Tag per common type: the builder compares them by identity.
_STR, _SEQ, _MAP = (Tag(suffix=_TAG + name) for name in ("str", "seq", "map"))
# "libyaml" (fast, C) or "python" (ruamel's own parser); tests set it to run both.
YAML_BACKEND = "libyaml" if HAVE_LIBYAML else "python"
# Plain files read straight into values (fastyaml.py); tests turn it off to compare.
PLAIN_READER = HAVE_PLAIN_READER


@dataclass(frozen=True)
class Config:
    """A config directory as read: settings, the desired set, and every problem found."""

    directory: Path
    settings: Settings
    resources: Mapping[Address, Resource]  # sorted by address; specs normalized
    problems: tuple[Problem, ...]  # sorted by file, line, column
    files: int = 0
    documents: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_config(
    directory: Path, *, env: Mapping[str, str] | None = None, workers: int | None = None
) -> Config:
    """Read `directory` and collect every problem (never raises for bad content).

    `workers`: processes for the documents (None: all cores for a big directory, else 1).
    """
    with start_config(directory, env=env, workers=workers) as reading:
        return reading.result()


def load_config(directory: Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Read `directory`; raise `ConfigError` with every problem unless it is clean."""
    with start_config(directory, env=env) as reading:
        return reading.checked()


def start_config(
    directory: Path, *, env: Mapping[str, str] | None = None, workers: int | None = None
) -> ConfigReading:
    """Read the settings of `directory` and start checking its documents (see ConfigReading).

    Never raises for bad content; use the result as a context manager.
    """
    env = dict(os.environ if env is None else env)
    if not directory.is_dir():
        problem = Problem("not a directory (or it does not exist)", file=str(directory))
        settings = _settings(directory, None, env)[0]
        return ConfigReading(directory, settings, [problem], listing=None, reading=None)
    listing = scan(directory)
    settings, problems = _settings(directory, listing.settings, env)
    variables = settings.interpolation(env)
    reading = start_collect(
        listing.files,
        directory,
        variables,
        parse_file,
        workers=workers,
        shown=settings.shown_variables,
    )
    return ConfigReading(directory, settings, problems, listing=listing, reading=reading)


class ConfigReading:
    """A config directory whose settings are read and whose documents may still be checked
    by worker processes: a command can reach the server meanwhile, and ask for the result
    (every problem included) when it needs the desired set."""

    def __init__(
        self,
        directory: Path,
        settings: Settings,
        problems: list[Problem],
        *,
        listing: Listing | None,
        reading: Collecting | None,
    ) -> None:
        self.directory, self.settings = directory, settings
        self.settings_ok = not problems
        self._problems, self._listing, self._reading = problems, listing, reading
        self._config: Config | None = None

    @property
    def in_background(self) -> bool:
        """True while the documents are still being checked elsewhere."""
        return self._reading is not None and self._reading.in_background

    def result(self) -> Config:
        """The config with every problem found (waits for the documents)."""
        if self._config is None:
            self._config = self._assemble()
        return self._config

    def checked(self) -> Config:
        """The config; `ConfigError` with every problem unless it is clean."""
        config = self.result()
        if config.problems:
            hint = f"run `runai-reconcile validate {self.directory}`"
            raise ConfigError(config.problems, hint=hint)
        return config

    def _assemble(self) -> Config:
        problems = list(self._problems)
        if self._reading is None or self._listing is None:
            return Config(self.directory, self.settings, {}, tuple(problems))
        desired = self._reading.result()
        problems.extend(self._listing.problems)
        problems.extend(desired.problems)
        # A file that could not be read or parsed already says why it holds no documents.
        if desired.documents == 0 and not desired.problems:
            message = "no documents found: an empty desired set would delete everything it manages"
            problems.append(Problem(message, file=str(self.directory)))
        ordered = sorted(
            set(problems), key=lambda p: (p.file, p.line, p.col, p.json_path, p.message)
        )
        return Config(
            self.directory,
            self.settings,
            desired.resources,
            tuple(ordered),
            desired.files,
            desired.documents,
        )

    def close(self) -> None:
        """Wait for the documents still being checked."""
        if self._reading is not None:
            self._reading.close()

    def stop(self) -> None:
        """Stop checking the documents without waiting (a run that failed early)."""
        if self._reading is not None:
            self._reading.stop()

    def __enter__(self) -> ConfigReading:
        return self

    def __exit__(self, error: type[BaseException] | None, *rest: object) -> None:
        if error is None:
            self.close()
        else:
            self.stop()


def load_settings(directory: Path, *, env: Mapping[str, str] | None = None) -> Settings:
    """Only the settings (for commands that need no documents); `ConfigError` if invalid."""
    found = scan(directory).settings if directory.is_dir() else None
    settings, problems = _settings(directory, found, dict(os.environ if env is None else env))
    if problems:
        raise ConfigError(problems)
    return settings


# --- settings ------------------------------------------------------------------------------


def _settings(
    directory: Path, found: Found | None, env: Mapping[str, str]
) -> tuple[Settings, list[Problem]]:
    if found is None:
        return Settings.from_mapping({}, config_dir=directory, env=env), []
    parsed = parse_file(found)
    problems = list(parsed.problems)
    data: Any = {}
    hidden: list[JsonPath] = []
    if len(parsed.documents) > 1:
        line, col = parsed.documents[1][1].where((), False)
        message = "the settings file must hold one document"
        problems.append(Problem(message, file=found.display, line=line, col=col))
    elif parsed.documents:
        value, source = parsed.documents[0]
        data, secret, missing = interpolate({} if value is None else value, env)
        hidden = [*secret, *source.marked]
        problems.extend(
            source.problem(at, f"environment variable {n} is not set") for at, n in missing
        )
        problems.extend(
            source.problem(p.path, p.message, at_key=p.at_key)
            for p in schema.validate_settings(data, sensitive=secret)
        )
    if problems:
        data = {}
    settings = Settings.from_mapping(
        data, config_dir=directory, env=env, settings_file=found.path.resolve(), hidden=hidden
    )
    return settings, problems


# --- reading files -------------------------------------------------------------------------


def parse_file(found: Found) -> ParsedFile:
    """A YAML file's documents (value and source each) and its problems."""
    text, problem = _read_text(found)
    if text is None:
        return ParsedFile([], [problem] if problem else [])
    plain = read_plain(text, MAX_DEPTH, _typed) if PLAIN_READER else None
    if plain is not None:
        nodes = _LaterNodes(text, found.display)
        return ParsedFile([(d.value, nodes.source(i, d)) for i, d in enumerate(plain)], [])
    return _node_file(text, found.display)


def _node_file(text: str, file: str) -> ParsedFile:
    """The documents of `text` from composed nodes, which know where every value is."""
    nodes, problems = _compose(text, file)
    documents: list[tuple[Any, Source]] = []
    for node in nodes:
        span = text[node.start_mark.index : node.end_mark.index]
        builder = Builder(
            guard="&" in text and "*" in text, str_tag=_STR, marks=SENSITIVE_TAG in span
        )
        try:
            value = builder.build(node, 0)
        except NodeProblem as error:
            problems.append(problem_at(file, node, error.node, error.message))
            continue
        problems.extend(problem_at(file, node, n, m) for n, m in builder.problems)
        marked = paths_of(node, builder.marked) if builder.marked else ()
        source = Source(file, locator(node), has_vars="${" in span, marked=marked)
        documents.append((value, source))
    return ParsedFile(documents, problems)


def _typed(token: str) -> str:
    """The `repr` of what the node path makes of the plain value `token` ("" if it refuses)."""
    parsed = _node_file(f"- {token}\n", "")
    values = parsed.documents[0][0] if len(parsed.documents) == 1 else None
    if parsed.problems or not isinstance(values, list) or len(values) != 1:
        return ""
    return repr(values[0])


class _LaterNodes:
    """A plainly read file's nodes, each document's composed only when a place its reader
    did not find is asked for (a problem, a list of scopes, a base's values)."""

    def __init__(self, text: str, file: str) -> None:
        self._text, self._file = text, file
        self._places: dict[int, Where] = {}  # by document index

    def source(self, index: int, document: PlainDocument) -> Source:
        known: dict[tuple[JsonPath, bool], tuple[int, int]] = {((), False): document.root}
        if document.name is not None:
            known[(("metadata", "name"), False)] = document.name

        def where(path: JsonPath, at_key: bool) -> tuple[int, int]:
            spot = known.get((path, at_key))
            if spot is not None:
                return spot
            if index not in self._places:
                self._places[index] = self._composed(document)
            return self._places[index](path, at_key)

        has_vars = self._text.find("${", document.start, document.end) >= 0
        return Source(self._file, where, has_vars=has_vars)

    def _composed(self, document: PlainDocument) -> Where:
        """Where a path of `document` is, from its own text composed alone: it starts a line
        and reads alone as in its file (the plain reader takes no directive, anchor or alias),
        so only its lines are counted from the file's start."""
        nodes = _compose(self._text[document.start : document.end], self._file)[0]
        if len(nodes) != 1:  # never so: the plain reader accepted the file
            return lambda path, at_key: document.root
        find = locator(nodes[0])
        above = self._text.count("\n", 0, document.start)

        def where(path: JsonPath, at_key: bool) -> tuple[int, int]:
            line, col = find(path, at_key)
            return line + above, col

        return where


def _read_text(found: Found) -> tuple[str | None, Problem | None]:
    try:
        data = found.path.read_bytes()
    except OSError as error:
        return None, Problem(
            f"cannot read the file: {error.strerror or error}", file=found.display, line=1, col=1
        )
    if len(data) > MAX_FILE_BYTES:
        return None, Problem(
            "file is larger than 10 MiB; not read", file=found.display, line=1, col=1
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded"
        return None, Problem(message, file=found.display, line=line, col=col)


def _compose(text: str, file: str) -> tuple[list[Node], list[Problem]]:
    """The document nodes of `text`; on a syntax error, those before it and the error."""
    if maybe_deep(text):
        if flow_depth(text) > MAX_DEPTH:  # refuse early: deep flow input parses slowly
            return [], [Problem(f"nested deeper than {MAX_DEPTH} levels", file=file, line=1, col=1)]
        return _nodes(_PureLoader, text, file)
    if YAML_BACKEND == "python":
        return _nodes(_PureLoader, text, file)
    nodes, problems = _nodes(_loader, text, file)
    if problems:
        # libyaml follows YAML 1.1 in places where YAML 1.2 is more lenient (a ':' inside a
        # flow-style plain scalar, as in `{image: repo/img:tag}`): ask the 1.2 parser.
        nodes, problems = _nodes(_PureLoader, text, file)
    return nodes, problems


def _nodes(make: Any, text: str, file: str) -> tuple[list[Node], list[Problem]]:
    nodes: list[Node] = []
    loader = None
    try:
        loader = make(text)  # libyaml checks the characters here already
        while loader.check_node():
            nodes.append(loader.get_node())
    except YAMLError as error:
        return nodes, [_syntax(error, text, file)]
    except RecursionError:
        message = f"nested deeper than {MAX_DEPTH} levels"
        return nodes, [Problem(message, file=file, line=1, col=1)]
    except Exception as error:  # a parser bug must not become a traceback
        message = f"YAML could not be parsed ({type(error).__name__})"
        return nodes, [Problem(message, file=file, line=1, col=1)]
    finally:
        if loader is not None:
            loader.dispose()
    return nodes, []


# --- YAML nodes ----------------------------------------------------------------------------


def _loader(text: str) -> Any:
    """A composer over `text`: check_node(), get_node(), dispose()."""
    if YAML_BACKEND == "libyaml" and HAVE_LIBYAML:
        return _FastLoader(text)
    return _PureLoader(text)


if HAVE_LIBYAML:

    class _FastLoader(CSafeLoader):
        """libyaml's composer with tag resolution memoized: a plain scalar's tag depends on
        its text alone, and resolving it in Python is most of the composing time."""

        _resolved: dict[str, Any] = {}

        def descend_resolver(self, *args: Any) -> None:  # no path resolvers are used
            pass

        def ascend_resolver(self, *args: Any) -> None:
            pass

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if not implicit[0]:
                    return _STR  # quoted (or tagged `!`): a string
                tag = self._resolved.get(value)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)
                    tag = _STR if str(tag) == _TAG + "str" else tag
                    if len(self._resolved) < 50_000:
                        self._resolved[value] = tag
                return tag
            return _SEQ if kind is SequenceNode else _MAP


class _PureLoader:
    """ruamel.yaml's pure-Python composer behind the same three calls."""

    def __init__(self, text: str) -> None:
        self._yaml = YAML(typ="safe", pure=True)
        self._yaml.get_constructor_parser(text)
        self._composer = self._yaml.composer

    def check_node(self) -> bool:
        return bool(self._composer.check_node())

    def get_node(self) -> Node:
        node: Node = self._composer.get_node()
        return node

    def dispose(self) -> None:
        self._yaml.parser.dispose()


def _syntax(error: YAMLError, text: str, file: str) -> Problem:
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
    else:  # a reader error: a character position only
        pos = int(getattr(error, "position", 0) or 0)
        line, col = text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
    lines = text.splitlines()
    bad = lines[line - 1][col - 1 : col] if 0 < line <= len(lines) else ""
    if bad == "\t":
        message = "a tab character: YAML indents with spaces only"
    elif isinstance(error, MarkedYAMLError) and error.problem:
        message = f"YAML syntax: {error.problem}{_context(error, mark)}"
    else:
        message = f"YAML syntax: {str(error).splitlines()[0]}"
    return Problem(message, file=file, line=line, col=col)


def _context(error: MarkedYAMLError, noticed: Any) -> str:
    """` (while parsing a flow sequence that began at line 5, column 9)`: where an unclosed
    construct (flow sequence or mapping, quoted scalar) began, which may be far above where
    the parser noticed."""
    if not error.context:
        return ""
    began = error.context_mark
    where = None if began is None else (began.line, began.column)
    if where is None or noticed is None or where == (noticed.line, noticed.column):
        return f" ({error.context})"
    return f" ({error.context} that began at line {began.line + 1}, column {began.column + 1})"
