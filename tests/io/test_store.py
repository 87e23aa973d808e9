"""The results store: spreadsheet-safe CSV, run folders that never lose data, verified chunks."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil

import pandas as pd
import pytest

from fmsim import __version__
from fmsim.io.store import (
    MANIFEST,
    RUN_LOG,
    ChunkStore,
    OutputError,
    OutputFile,
    RunFolder,
    neutralise_formula,
    run_log,
    write_table,
)

# --------------------------------------------------------------------- CSV injection (OWASP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1.5", "-1.5"),  # numbers, negative included, stay numbers
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        ("HC-IgG", "HC-IgG"),
        ("", ""),
    ],
)
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


def test_csv_is_neutralised_and_parquet_keeps_the_text(tmp_path):
    frame = pd.DataFrame(
        {
            "mouse": ["=1+1", "M2", "@x"],
            "value": [-1.5, 2.0, -3.0],
            "group": pd.Categorical(["+g", "HC", "HC"]),
            "=header": ["a", "-b", None],
        }
    )
    parquet, csv = write_table(frame, tmp_path, "t")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), frame)
    text = csv.read_text().splitlines()
    assert text == [
        "mouse,value,group,'=header",
        "'=1+1,-1.5,'+g,a",
        "M2,2.0,HC,'-b",
        "'@x,-3.0,HC,",
    ]
    assert pd.read_csv(csv)["value"].tolist() == [-1.5, 2.0, -3.0]


# ---------------------------------------------------------------------------- run folders


def _run(target, kind="demo", files=None, **options) -> RunFolder:
    """Open a run folder, write ``files`` (name -> text) into it and complete it."""
    with RunFolder(target, kind, **options) as run:
        for name, text in (files or {"a.txt": "a"}).items():
            (run.path / name).parent.mkdir(parents=True, exist_ok=True)
            (run.path / name).write_text(text)
    return run


def _manifest(folder):
    return json.loads((folder / MANIFEST).read_text())


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_new_run_folder_has_its_files_and_a_complete_manifest(tmp_path):
    out = tmp_path / "out"
    _run(out, files={"a.txt": "alpha", "figures/b.png": "beta"}, command="fmsim demo x")
    manifest = _manifest(out)
    assert manifest["kind"] == "demo" and manifest["status"] == "complete"
    assert manifest["command"] == "fmsim demo x" and manifest["fmsim_version"] == __version__
    assert manifest["files"] == {
        "a.txt": hashlib.sha256(b"alpha").hexdigest(),
        "figures/b.png": hashlib.sha256(b"beta").hexdigest(),
    }
    assert _leftovers(tmp_path) == []  # no temporary folder, no lock file


def test_failed_run_leaves_nothing_and_keeps_the_previous_run(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), RunFolder(out, "demo") as run:
        (run.path / "a.txt").write_text("half")
        raise RuntimeError("killed in the middle")
    assert not out.exists() and _leftovers(tmp_path) == []
    _run(out, files={"a.txt": "old"})
    with pytest.raises(RuntimeError), RunFolder(out, "demo") as run:
        (run.path / "a.txt").write_text("new")
        raise RuntimeError("killed in the middle")
    assert (out / "a.txt").read_text() == "old" and _manifest(out)["status"] == "complete"


def test_existing_file_as_target_is_refused_before_anything(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("mine")
    with pytest.raises(OutputError, match="is an existing file; --out must be a folder"):
        RunFolder(target, "demo").check()
    assert target.read_text() == "mine"


def test_input_inside_the_target_is_refused_even_with_overwrite(tmp_path):
    data = tmp_path / "clean_data.csv"
    data.write_bytes(b"mouse,group\n")
    with pytest.raises(OutputError, match="holds the input file"):
        RunFolder(tmp_path, "demo", inputs=[data], overwrite=True).check()
    out = tmp_path / "out"
    out.mkdir()
    os.link(data, out / "copy.csv")  # the same file under another name
    with pytest.raises(OutputError, match="copy.csv is the input file"):
        RunFolder(out, "demo", inputs=[data], overwrite=True).check()
    assert data.read_bytes() == b"mouse,group\n"


def test_foreign_files_refused_then_kept_with_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("the user's measurements")
    (out / "notes.txt").write_text("the user's notes")
    with pytest.raises(OutputError, match=r"holds files fmsim did not write \(a.txt, notes.txt\)"):
        _run(out, files={"a.txt": "result"})
    assert (out / "a.txt").read_text() == "the user's measurements"
    run = _run(out, files={"a.txt": "result"}, overwrite=True)
    assert run.kept == [("a.txt", "a.txt.~1~")]
    assert (out / "a.txt.~1~").read_text() == "the user's measurements"
    assert (out / "notes.txt").read_text() == "the user's notes"
    assert (out / "a.txt").read_text() == "result"
    # the next run of the same kind replaces its own file and still keeps the user's
    _run(out, files={"a.txt": "second"}, overwrite=True)
    assert (out / "a.txt.~1~").read_text() == "the user's measurements"
    assert (out / "a.txt").read_text() == "second" and not (out / "a.txt.~2~").exists()


def test_user_file_or_folder_in_the_way_is_set_aside(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "figures").write_text("a file where the run needs a folder")
    (out / "a.txt").mkdir()
    (out / "a.txt" / "inside.txt").write_text("a folder where the run needs a file")
    run = _run(out, files={"a.txt": "result", "figures/b.png": "png"}, overwrite=True)
    assert sorted(run.kept) == [("a.txt", "a.txt.~1~"), ("figures", "figures.~1~")]
    assert (out / "figures.~1~").read_text() == "a file where the run needs a folder"
    assert (out / "a.txt.~1~" / "inside.txt").read_text() == "a folder where the run needs a file"
    assert (out / "figures" / "b.png").read_text() == "png"


def test_same_kind_replaces_its_files_and_removes_stale_ones(tmp_path):
    out = tmp_path / "out"
    _run(out, files={"a.txt": "1", "old/b.txt": "1"})
    _run(out, files={"a.txt": "2"})
    assert (out / "a.txt").read_text() == "2"
    assert not (out / "old").exists()
    assert set(_manifest(out)["files"]) == {"a.txt"}


def test_output_changed_by_the_user_counts_as_theirs(tmp_path):
    out = tmp_path / "out"
    _run(out, files={"a.txt": "1"})
    (out / "a.txt").write_text("edited by hand")
    with pytest.raises(OutputError, match="did not write"):
        _run(out, files={"a.txt": "2"})
    _run(out, files={"a.txt": "2"}, overwrite=True)
    assert (out / "a.txt.~1~").read_text() == "edited by hand"


def test_another_kind_refused_then_replaced_without_twins(tmp_path):
    out = tmp_path / "out"
    _run(out, "simulate", files={"summary.csv": "s", "summary.parquet": "s", "x.csv": "x"})
    with pytest.raises(OutputError, match="holds a 'simulate' run"):
        _run(out, "analyze", files={"summary.csv": "a"})
    _run(out, "analyze", files={"summary.csv": "a", "summary.parquet": "a"}, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "summary.csv", "summary.parquet"]
    assert (out / "summary.parquet").read_text() == "a"
    assert _manifest(out)["kind"] == "analyze"


def test_lock_keeps_a_second_run_out_and_a_dead_holder_does_not(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out, "demo", command="fmsim first") as first:
        (first.path / "a.txt").write_text("first")
        with pytest.raises(OutputError, match=r"another fmsim run is writing this folder \(pid"):
            _run(out, files={"a.txt": "second"})
    assert (out / "a.txt").read_text() == "first"
    # a lock file left by a killed process (it holds no lock any more) is taken over
    (tmp_path / ".out.lock").write_text("pid 999999: fmsim killed\n")
    _run(out, files={"a.txt": "third"})
    assert (out / "a.txt").read_text() == "third" and _leftovers(tmp_path) == []


def test_temporary_folder_of_a_killed_run_is_removed(tmp_path):
    stale = tmp_path / ".out.partial-abc123"
    stale.mkdir()
    (stale / "report.html").write_text("half")
    _run(tmp_path / "out")
    assert _leftovers(tmp_path) == []


def test_dot_as_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(".", files={"a.txt": "here"})
    assert (tmp_path / "a.txt").read_text() == "here" and _manifest(tmp_path)["kind"] == "demo"


# --------------------------------------------------------------------------- single files


def test_output_file_never_replaces_its_input_or_an_existing_file(tmp_path):
    scenario = tmp_path / "scen.yaml"
    scenario.write_text("seed: 1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(scenario)
    for target in (scenario, link):
        with pytest.raises(OutputError, match="is the input file"):
            OutputFile(target, (scenario,), overwrite=True).check()
    other = tmp_path / "other.xml"
    other.write_text("mine")
    with pytest.raises(OutputError, match="file exists; choose another name or pass --overwrite"):
        OutputFile(other, (scenario,)).write("<sbml/>")
    OutputFile(other, (scenario,), overwrite=True).write("<sbml/>")
    assert other.read_text() == "<sbml/>" and scenario.read_text() == "seed: 1\n"


# --------------------------------------------------------------------------------- chunks


def _frame(seed: int) -> pd.DataFrame:
    return pd.DataFrame({"replicate": range(5), "p_value": [seed / 10 + k / 100 for k in range(5)]})


def test_chunk_round_trip_and_manifest(tmp_path):
    store = ChunkStore(tmp_path, "c" * 64)
    assert store.read_verified_chunk("job A") is None and store.problems == []
    path = store.write_chunk("job A", _frame(1))
    entry = store.manifest()["chunks"][path.name]
    assert entry["job"] == "job A" and entry["config_hash"] == "c" * 64
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    again = ChunkStore(tmp_path, "c" * 64)  # a new process reads the manifest from disk
    pd.testing.assert_frame_equal(again.read_verified_chunk("job A"), _frame(1))
    assert again.reused == 1 and again.problems == []


def test_truncated_corrupted_and_foreign_chunks_are_not_used(tmp_path):
    store = ChunkStore(tmp_path, "c" * 64)
    a, b = store.write_chunk("job A", _frame(1)), store.write_chunk("job B", _frame(2))
    store.write_chunk("job C", _frame(3))
    a.write_bytes(a.read_bytes()[: a.stat().st_size // 2])  # truncated
    shutil.copyfile(store.chunk_path("job C"), b)  # a valid chunk of another job in B's place
    check = ChunkStore(tmp_path, "c" * 64)
    assert check.read_verified_chunk("job A") is None
    assert check.read_verified_chunk("job B") is None
    pd.testing.assert_frame_equal(check.read_verified_chunk("job C"), _frame(3))
    assert len(check.problems) == 2 and check.reused == 1
    assert check.problems[0].startswith(f"{a.name} (job A): ") and "truncated" in check.problems[0]
    assert check.problems[1] == (
        f"{b.name} (job B): holds the chunk of another job or configuration ('job C')"
    )
    # a chunk of another configuration, or with no manifest entry, is not trusted either
    other = ChunkStore(tmp_path, "d" * 64)
    other.write_chunk("job C", _frame(9))
    os.replace(other.chunk_path("job C"), check.chunk_path("job C"))
    (tmp_path / MANIFEST).unlink()
    fresh = ChunkStore(tmp_path, "c" * 64)
    assert fresh.read_verified_chunk("job C") is None  # config hash "ddd..." in its metadata
    assert "another job or configuration" in fresh.problems[0]
    fresh.write_chunk("job C", _frame(3))
    (tmp_path / MANIFEST).unlink()
    unrecorded = ChunkStore(tmp_path, "c" * 64)
    assert unrecorded.read_verified_chunk("job C") is None
    assert "not in the chunk manifest" in unrecorded.problems[0]


def test_chunk_with_matching_manifest_but_foreign_metadata_is_refused(tmp_path):
    # a chunk file and a manifest entry copied together from a run of another job
    store = ChunkStore(tmp_path, "c" * 64)
    store.write_chunk("job C", _frame(3))
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    c_name, b_name = store.chunk_path("job C").name, store.chunk_path("job B").name
    manifest["chunks"][b_name] = {**manifest["chunks"][c_name], "job": "job B"}
    shutil.copyfile(tmp_path / c_name, tmp_path / b_name)
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    check = ChunkStore(tmp_path, "c" * 64)
    assert check.read_verified_chunk("job B") is None
    assert "holds the chunk of another job or configuration ('job C')" in check.problems[0]


def test_leftover_temporary_chunk_is_removed(tmp_path):
    (tmp_path / ".c_x.parquet.tmp-123").write_bytes(b"half")
    ChunkStore(tmp_path, "c" * 64)
    assert list(tmp_path.iterdir()) == []


def test_run_log_copies_fmsim_messages_into_the_folder_while_open(tmp_path):
    logger = logging.getLogger("fmsim")
    logger.info("before: not in the file")
    with run_log(tmp_path) as path:
        assert path == tmp_path / RUN_LOG
        logging.getLogger("fmsim.experiments").info("power: 3 chunks to run")
        logging.getLogger("other").warning("another library: not in the file")
    logger.info("after: not in the file")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith("INFO power: 3 chunks to run")
    assert not any(isinstance(h, logging.FileHandler) for h in logger.handlers)
