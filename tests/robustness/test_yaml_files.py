"""Broken and odd YAML files fed to every command that reads one.

Each file-level mistake (syntax, encoding, structure, size, aliases, nesting, not a file at
all) is tried on every YAML-reading command: the same one-line refusal must come out of
``simulate``, ``trial``, ``therapies``, ``export sbml`` (scenario or protocol) and
``params --file``. Files in unusual but valid encodings are read correctly.
"""

from __future__ import annotations

import codecs

import pytest
from tests.robustness.harness import FOLDER, Case, check_refused

from fmsim.config import load_config
from fmsim.config.errors import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES, read_yaml

COMMANDS = {
    "simulate": ["simulate", "{in}/config.yaml", "--out", "{out}"],
    "trial": ["trial", "{in}/config.yaml", "--out", "{out}", "--no-power"],
    "therapies": ["therapies", "{in}/config.yaml", "--out", "{out}", "--patients", "2"],
    "export sbml": ["export", "sbml", "{in}/config.yaml", "{out}/model.xml"],
    "params": ["params", "--file", "{in}/config.yaml"],
}


def _alias_bomb() -> str:
    """A 'billion laughs' file: 9 levels of 9 aliases, 9**9 strings once expanded, hidden
    in a field no schema knows."""
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"  a{level}: &a{level} [{refs}]")
    return "name: bomb\nnot_a_field:\n" + "\n".join(lines) + "\n"


def _deep_block(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "x: 1\n"


#: (category, what, content, fragments the error must contain)
BAD_FILES = [
    ("structure", "empty file", "", ["is empty"]),
    ("structure", "only comments", "# nothing here\n\n", ["is empty"]),
    ("structure", "top level is a list", "- name: a\n- name: b\n", ["got a list"]),
    ("structure", "top level is one value", "8 mg\n", ["got a single text value"]),
    ("structure", "top level is a number", "42\n", ["got a number"]),
    ("structure", "two documents", "name: a\n---\nname: b\n", ["single document"]),
    ("duplicates", "duplicate top-level key", "name: a\nseed: 1\nname: b\n", ["'name'", "line 1"]),
    ("duplicates", "duplicate nested key", "a:\n  b: 1\n  b: 2\n", ["duplicate key 'b'"]),
    ("duplicates", "duplicate null key", "~: 1\nnull: 2\n", ["duplicate key None"]),
    ("syntax", "tab indentation", "name: a\nb:\n\tc: 1\n", ["line 3", "tab"]),
    ("syntax", "unclosed quote", 'name: "open\n', ["not valid YAML"]),
    ("syntax", "unclosed bracket", "days: [0, 1, 2\n", ["not valid YAML"]),
    ("syntax", "mapping value in plain scalar", "name: a: b\n", ["line 1"]),
    ("syntax", "bad indentation", "a:\n    b: 1\n  c: 2\n", ["not valid YAML"]),
    ("syntax", "undefined alias", "name: *missing\n", ["undefined alias"]),
    ("syntax", "unhashable key", "? [1, 2]\n: 3\n", ["unhashable key"]),
    ("syntax", "python object tag", "name: !!python/object/apply:os.system [ls]\n", ["tag"]),
    ("aliases", "billion laughs in an unknown field", _alias_bomb(), ["billion laughs"]),
    ("aliases", "alias containing itself", "a: &a [1, *a]\n", ["refers to the value"]),
    ("nesting", "3000 nested flow lists", "a: " + "[" * 3000 + "]" * 3000 + "\n", ["nested"]),
    ("nesting", f"{MAX_DEPTH + 10} nested mappings", _deep_block(MAX_DEPTH + 10), ["nested"]),
    ("encoding", "binary (PNG header)", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary"]),
    ("encoding", "NUL byte in text", b"name: a\x00b\n", ["NUL byte"]),
    ("encoding", "control character", b"name: a\x07\n", ["line 1", "#x0007 is not allowed"]),
    ("encoding", "control characters", b"name: " + bytes(range(1, 9)) * 4, ["binary"]),
    ("encoding", "UTF-16 without BOM", "name: a\n".encode("utf-16-le"), ["byte-order mark"]),
    ("encoding", "truncated UTF-16", codecs.BOM_UTF16_LE + b"n\x00a", ["not valid UTF-16"]),
    ("encoding", "neither UTF-8 nor Latin-1", b"name: \x81\x8d\n", ["save it as UTF-8"]),
    ("encoding", "C1 control in UTF-8", "name: a\u0085b\u0080\n".encode(), ["#x0080"]),
    ("size", "larger than the limit", "#" * (MAX_YAML_BYTES + 1), ["MB"]),
]


def _cases() -> list[Case]:
    cases = []
    for command, argv in COMMANDS.items():
        for category, what, content, expect in BAD_FILES:
            cases.append(
                Case(f"{command}:{category}:{what}", argv, {"config.yaml": content}, expect)
            )
        cases.append(
            Case(f"{command}:file:a folder", argv, {"config.yaml": FOLDER}, ["is a folder"])
        )
        cases.append(Case(f"{command}:file:missing file", argv, {}, ["file not found"]))
    # one command suffices for the slowest case (50,000 values parsed before the refusal)
    many = "a: [" + ", ".join(["1"] * (MAX_NODES + 1)) + "]\n"
    cases.append(Case("simulate:size:too many values", COMMANDS["simulate"], {"config.yaml": many}))
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_yaml_file_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)


NAME = "encoded scenario \u2013 caf\u00e9"
SCENARIO = f"name: {NAME}\ndose: 4 mg\n"
LATIN1 = SCENARIO.replace("\u2013", "-")  # Latin-1 has no en dash


@pytest.mark.parametrize(
    ("encoded", "name"),
    [
        (SCENARIO.encode("utf-8"), NAME),
        (codecs.BOM_UTF8 + SCENARIO.encode("utf-8"), NAME),
        (SCENARIO.encode("utf-16"), NAME),
        (codecs.BOM_UTF16_BE + SCENARIO.encode("utf-16-be"), NAME),
        (SCENARIO.encode("utf-32"), NAME),
        (SCENARIO.encode("cp1252"), NAME),
        (LATIN1.encode("latin-1"), NAME.replace("\u2013", "-")),
        (SCENARIO.replace("\n", "\r\n").encode("utf-8"), NAME),
    ],
    ids=["utf-8", "utf-8 BOM", "utf-16", "utf-16 BE", "utf-32", "cp1252", "latin-1", "CRLF"],
)
def test_text_encodings_are_read(encoded, name, tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(encoded)
    config = load_config(path)
    assert config.name == name
    assert config.dose_quantity() == (4.0, "mg")


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    assert read_yaml(path)["other"] == {"x": 3, "y": 2}


def test_shared_aliases_below_the_limit_are_expanded(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("days: &d [0, 1, 2]\nagain: *d\nthird: [*d, *d]\n")
    assert read_yaml(path)["third"] == [[0, 1, 2], [0, 1, 2]]


PROTOCOL_COMMANDS = {
    "therapies": ["therapies", "{in}/protocol.yaml", "--out", "{out}", "--patients", "2"],
    "export sbml": ["export", "sbml", "{in}/protocol.yaml", "{out}/patient.xml"],
}
#: (what, the therapy block's schedule, fragments of the error); the schema's other bounds
#: belong to the drug library's therapy schema (config/therapy.py)
BAD_SCHEDULES = [
    ("every .inf", "dose: 0.4 g/kg, start: 0, every: .inf, count: 3", ["every", "finite"]),
    ("every .nan", "dose: 0.4 g/kg, start: 0, every: .nan, count: 3", ["every", "finite"]),
    ("start .inf", "dose: 0.4 g/kg, start: .inf, every: 7, count: 2", ["start", "finite"]),
    ("NaN day", "dose: 0.4 g/kg, days: [0, .nan]", ["days.1", "finite"]),
    ("overflowing dose", "dose: 1e999 mg, days: [0]", ["too large"]),
]
CASES_PROTOCOLS = [
    Case(
        f"{command}:protocol:{what}",
        argv,
        {"protocol.yaml": f"name: p\ntherapies:\n  - {{type: ivig, {block}}}\n"},
        expect,
    )
    for command, argv in PROTOCOL_COMMANDS.items()
    for what, block, expect in BAD_SCHEDULES
]


@pytest.mark.parametrize("case", CASES_PROTOCOLS, ids=str)
def test_non_finite_protocol_schedule_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
