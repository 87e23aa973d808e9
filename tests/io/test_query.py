"""SQL over a run folder (fmsim.io.query): views per Parquet table and over the chunks, answers
equal to the same computation in pandas, one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmsim.io.query import QueryError, connect, query, run_tables
from fmsim.io.store import ChunkStore, write_table


@pytest.fixture
def run(tmp_path):
    rng = np.random.default_rng(3)
    visits = pd.DataFrame(
        {
            "patient": np.repeat(np.arange(200), 4),
            "week": np.tile(np.arange(4), 200),
            "group": np.repeat(rng.choice(["placebo", "drug"], 200), 4),
            "pain_nrs": rng.normal(6.0, 1.5, 800),
        }
    )
    write_table(visits, tmp_path, "visits")
    write_table(pd.DataFrame({"n": [30, 60], "power": [0.4, 0.7]}), tmp_path, "power")
    store = ChunkStore(tmp_path / "chunks", "c0ffee")
    for k in range(3):
        store.write_chunk(f"job {k}", pd.DataFrame({"replicate": [0, 1], "p_value": [k, k + 0.5]}))
    return tmp_path, visits


def test_each_table_is_a_view_and_the_chunks_one_more(run):
    folder, _ = run
    assert sorted(run_tables(folder)) == ["chunks", "power", "visits"]
    connection = connect(folder)
    views = connection.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    tables = connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    assert sorted(v[0] for v in views) == ["chunks", "power", "visits"] and tables == []


def test_answers_equal_pandas(run):
    folder, visits = run
    got = query(
        folder,
        'SELECT "group", week, avg(pain_nrs) AS mean, count(*) AS n FROM visits '
        'GROUP BY "group", week ORDER BY "group", week',
    )
    expected = (
        visits.groupby(["group", "week"])["pain_nrs"].agg(mean="mean", n="count").reset_index()
    )
    np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-12)
    assert got["n"].tolist() == expected["n"].tolist()
    chunks = query(folder, "SELECT sum(p_value) AS s, count(DISTINCT chunk_file) AS f FROM chunks")
    assert chunks["s"][0] == pytest.approx(sum(k + k + 0.5 for k in range(3)))
    assert chunks["f"][0] == 3


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", "SQL: Parser Error: syntax error"),
        ("SELECT * FROM nonexistent", "SQL: Catalog Error"),
        ("   ", "empty SQL query"),
    ],
)
def test_bad_sql_is_one_line(run, sql, message):
    folder, _ = run
    with pytest.raises(QueryError) as error:
        query(folder, sql)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_missing_or_empty_folders_are_refused(tmp_path):
    with pytest.raises(QueryError, match="no such run folder"):
        query(tmp_path / "absent", "SELECT 1")
    with pytest.raises(QueryError, match="holds no Parquet tables.*not an fmsim run"):
        query(tmp_path, "SELECT 1")
