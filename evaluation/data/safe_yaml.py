"""Parse a YAML file an evaluator wrote, safely: bounded, strictly UTF-8, only plain data.

PyYAML's ``safe_load`` builds no Python objects, but it still accepts inputs that a study file
never needs and that hurt: aliases that expand to billions of nodes ("billion laughs": shared by
reference in the parsed data, but every walk over the data — a line-number map, a schema check,
``json.dumps`` — expands them), recursive aliases, lists nested thousands deep (``RecursionError``
in the recursive composer), tags such as ``!!binary``, ``!!set`` or ``!!python/object``, integers
of thousands of digits (``ValueError`` from ``int``), and files in another encoding. This module
wraps PyYAML's pure-Python ``SafeLoader`` (the reference implementation, kept by the YAML
project; no other maintained library bounds aliases) and refuses each of these before the data
reach the rest of the program, with the line and column where the problem is:

* the file must be at most :data:`MAX_BYTES` bytes and valid UTF-8 (a UTF-8 byte-order mark is
  dropped; UTF-16/32 are refused), without control characters;
* nesting is at most :data:`MAX_DEPTH` levels, checked while composing, before any recursion
  can run away;
* the only explicit tags are the core schema's (``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``, ``!!map``, ``!!seq``) and the non-specific ``!``;
* anchors and aliases are allowed (an evaluator may reuse a block), but recursive ones are
  refused and the size of the data with every alias expanded is counted on the composed graph
  (each node once, memoised) and must stay below :data:`MAX_NODES`;
* the line map (``path -> line``) is built from the composed nodes without expanding aliases:
  a path inside a reused block is reported at the line where it is used.

Dates stay ISO strings (pydantic parses them); duplicated mapping keys are reported, not silently
dropped.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlProblem", "ParsedYaml", "parse_yaml"]

#: Largest YAML file accepted (a shipped study file is 10-20 KB).
MAX_BYTES = 1 << 20
#: Deepest nesting of lists and mappings accepted (a study file needs fewer than 10 levels).
MAX_DEPTH = 64
#: Most nodes the data may have with every alias expanded (a shipped study file has about 2,000).
MAX_NODES = 100_000
#: Longest number written as digits (``int`` refuses more than 4,300 digits with a ValueError).
MAX_NUMBER_CHARS = 100

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {None, "!"} | {_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}


class YamlProblem(Exception):
    """The YAML text cannot be accepted; ``line`` and ``column`` are 1-based, ``what`` says why."""

    def __init__(self, line: int, column: int, what: str, kind: str = "YAML syntax"):
        super().__init__(f"line {line}, column {column}: {what}")
        self.line, self.column, self.what, self.kind = line, column, what, kind


@dataclass
class ParsedYaml:
    """The parsed data, the line of every path in them, and the duplicated keys found."""

    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    duplicates: list[tuple[tuple[Any, ...], int, Any]] = field(default_factory=list)


def _mark_problem(mark, what: str, kind: str = "YAML syntax") -> YamlProblem:
    if mark is None:
        return YamlProblem(1, 1, what, kind)
    return YamlProblem(mark.line + 1, mark.column + 1, what, kind)


class _Loader(yaml.SafeLoader):
    """SafeLoader with depth, tag and number-size limits checked while composing."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            return super().compose_node(parent, index)
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag not in _ALLOWED_TAGS:
            shown = tag.replace(_CORE, "!!") if isinstance(tag, str) else tag
            raise _mark_problem(event.start_mark, f"the tag {shown!r} is not allowed; a study file holds only plain text, "
                                "numbers, true/false, lists and mappings (remove the tag)", "YAML tag")
        if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _mark_problem(event.start_mark, f"lists and mappings are nested more than {MAX_DEPTH} levels deep; "
                                    "a study file needs far fewer", "YAML nesting")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def compose_scalar_node(self, anchor):
        node = super().compose_scalar_node(anchor)
        if node.tag in (_CORE + "int", _CORE + "float") and len(node.value) > MAX_NUMBER_CHARS:
            raise _mark_problem(node.start_mark, f"a number written with {len(node.value)} characters; "
                                f"numbers longer than {MAX_NUMBER_CHARS} characters are refused", "YAML value")
        return node


def _keep_date_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)


_Loader.add_constructor(_CORE + "timestamp", _keep_date_text)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise YamlProblem(1, 1, "the file is saved as UTF-16 or UTF-32; save it as UTF-8", "encoding")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = exc.start
        line = data.count(b"\n", 0, pos) + 1
        column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        raise YamlProblem(
            line, column,
            f"byte 0x{data[pos]:02x} at byte position {pos} is not valid UTF-8; the file seems to be saved in another "
            "encoding (Latin-1 or Windows-1252?); save it as UTF-8", "encoding",
        ) from None
    for i, ch in enumerate(text):
        if (ch < " " and ch not in "\t\n\r") or ch == "\x7f" or "\x80" <= ch <= "\x9f" or ch in "\ufffe\uffff":
            line = text.count("\n", 0, i) + 1
            column = i - (text.rfind("\n", 0, i) + 1) + 1
            raise YamlProblem(line, column, f"the control character U+{ord(ch):04X} is not allowed in a study file", "encoding")
    return text


def _expanded_size(root: Node) -> None:
    """Refuse recursive aliases and data that would exceed MAX_NODES with every alias expanded.

    Iterative depth-first walk over the composed graph with memoised subtree sizes: linear in the
    number of distinct nodes, whatever the aliases multiply to.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_NODES:
                raise _mark_problem(node.start_mark, f"with its aliases (*name) expanded this block holds more than "
                                    f"{MAX_NODES:,} values; aliases that multiply a block are refused", "YAML aliases")
            size[nid] = total
            continue
        if nid in size:
            continue
        on_path.add(nid)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _mark_problem(child.start_mark, "an alias refers to a block that contains the alias itself "
                                    "(a recursive anchor); study files cannot be recursive", "YAML aliases")
            if id(child) not in size:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [x for kv in node.value for x in kv]
    return []


_NOT_A_KEY = object()


def _key_of(loader: _Loader, key: Node) -> Any:
    """The mapping key as the parsed data hold it (a string, or a number/bool/null written as a key)."""
    if isinstance(key, ScalarNode):
        try:
            value = loader.construct_object(key)
        except (yaml.YAMLError, ValueError):
            return key.value
        return value
    return _NOT_A_KEY


def _line_map(loader: _Loader, root: Node) -> tuple[dict[tuple[Any, ...], int], list[tuple[tuple[Any, ...], int, Any]]]:
    """Line of every path, walking each composed node once (a reused block is not walked again)."""
    out: dict[tuple[Any, ...], int] = {}
    dups: list[tuple[tuple[Any, ...], int, Any]] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            seen_keys: set[Any] = set()
            for k, v in node.value:
                key = _key_of(loader, k)
                if key is _NOT_A_KEY:
                    continue
                try:
                    if key in seen_keys and key != "<<":
                        dups.append((path + (key,), k.start_mark.line + 1, key))
                    seen_keys.add(key)
                except TypeError:  # an unhashable key; the constructor refuses it
                    continue
                out[path + (key,)] = k.start_mark.line + 1
                if not isinstance(key, str):  # a number or null as a key: also findable by its text
                    out.setdefault(path + (str(key),), k.start_mark.line + 1)
                stack.append((v, path + (key,)))
        elif isinstance(node, SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((v, path + (i,)))
    return out, dups


def parse_yaml(data: bytes) -> ParsedYaml:
    """Parse the bytes of one YAML document under the limits above.

    Raises
    ------
    YamlProblem
        With the 1-based line and column of the first problem and what is wrong.
    """
    if len(data) > MAX_BYTES:
        raise YamlProblem(1, 1, f"the file is {len(data):,} bytes; files above {MAX_BYTES:,} bytes are refused", "file size")
    text = _decode(data)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return ParsedYaml(None)
        _expanded_size(root)
        lines, dups = _line_map(loader, root)  # before construction: merge keys (<<) rewrite the nodes
        value = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        context = exc.context
        if context and exc.context_mark is not None and exc.problem_mark is not None \
                and exc.context_mark.line != exc.problem_mark.line:
            context = f"{context} (line {exc.context_mark.line + 1})"
        what = f"{context}, {exc.problem}" if context and exc.problem else (exc.problem or context or str(exc))
        raise _mark_problem(exc.problem_mark or exc.context_mark, what) from None
    except yaml.reader.ReaderError as exc:
        raise YamlProblem(1, 1, f"unacceptable character #x{exc.character:04x}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, 1, str(exc).splitlines()[0]) from None
    except (ValueError, OverflowError) as exc:  # a value PyYAML cannot convert (e.g. a malformed number)
        raise YamlProblem(1, 1, f"a value cannot be read: {exc}", "YAML value") from None
    finally:
        loader.dispose()
    return ParsedYaml(value, lines, dups)
