"""Each format loader on small files the tests write, checked against hand-worked results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.data.formats import FORMATS, ReaderOptions, read
from alkd_tui.data.preprocess import PreprocessOptions, sessions_from_clicks
from alkd_tui.errors import InputFileError

KEEP_ALL = PreprocessOptions(min_item_support=1, valid_fraction=0.0, test_fraction=0.25)


def load(fmt: str, path: Path, opts: PreprocessOptions = KEEP_ALL, reader: ReaderOptions | None = None,
         gap: float | None = None) -> SessionDataset:  # fmt: skip
    loaded = read(FORMATS[fmt], path, reader or ReaderOptions(), gap)
    ds = loaded if isinstance(loaded, SessionDataset) else sessions_from_clicks(loaded, opts)
    ds.validate()
    return ds


def sessions(ds: SessionDataset) -> list[tuple[str, str, list[str], str]]:
    """(session id, split, input item ids, target id) per instance, for readable asserts."""
    names = ["train", "valid", "test"]
    return [
        (
            ds.session_ids[k],
            names[ds.split[k]],
            [ds.item_ids[i] for i in ds.inputs(k)],
            ds.item_ids[ds.targets[k]],
        )
        for k in range(ds.n_sessions)
    ]


def test_alkdrec_keeps_given_splits_order_and_titles(tmp_path: Path) -> None:
    (tmp_path / "items.tsv").write_text("item_id\ttitle\nA1\tAlpha\nB2\tBeta\nC3\tGamma\nD4\t\n")
    (tmp_path / "sessions.tsv").write_text(
        "session_id\tsplit\titems\ttarget\n0\ttrain\tA1 B2\tC3\n1\tvalid\tC3\tA1\n2\ttest\tB2  C3 A1\tD4\n"
    )
    ds = load("alkdrec", tmp_path)
    assert ds.item_ids == ["A1", "B2", "C3", "D4"]
    assert ds.titles == ["Alpha", "Beta", "Gamma", None]
    assert sessions(ds) == [
        ("0", "train", ["A1", "B2"], "C3"),
        ("1", "valid", ["C3"], "A1"),
        ("2", "test", ["B2", "C3", "A1"], "D4"),
    ]


def _yoochoose_rows(rows: list[tuple[int, int, float]]) -> str:
    return "SessionId\tItemId\tTime\n" + "".join(f"{s}\t{i}\t{t}\n" for s, i, t in rows)


def test_yoochoose_prepared_pair_keeps_the_test_file_as_test(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text(
        _yoochoose_rows(
            [(1, 10, 100.0), (1, 11, 101.0), (2, 11, 200.0), (2, 12, 201.0), (2, 10, 202.0)]
        )
    )
    # Item 99 never occurs in training, so it is dropped from the test session.
    (tmp_path / "test.tsv").write_text(
        _yoochoose_rows([(3, 12, 300.0), (3, 99, 301.0), (3, 11, 302.0)])
    )
    ds = load("yoochoose", tmp_path)
    assert sessions(ds) == [
        ("1", "train", ["10"], "11"),
        ("2", "train", ["11", "12"], "10"),
        ("3", "test", ["12"], "11"),
    ]


def test_yoochoose_raw_clicks_with_iso_times_are_ordered_by_time(tmp_path: Path) -> None:
    path = tmp_path / "yoochoose-clicks.dat"
    path.write_text(
        "1,2014-04-07T10:54:09.868Z,214536500,0\n"
        "1,2014-04-07T10:51:09.277Z,214536502,0\n"
        "1,2014-04-07T10:57:00.306Z,214536506,0\n"
        "2,2014-04-08T09:00:00.000Z,214536502,S\n"
        "2,2014-04-08T09:01:00.000Z,214536500,S\n"
    )
    ds = load(
        "yoochoose", path, PreprocessOptions(min_item_support=1, valid_fraction=0, test_days=0.5)
    )
    assert sessions(ds) == [
        ("1", "train", ["214536502", "214536500"], "214536506"),
        ("2", "test", ["214536502"], "214536500"),
    ]
    assert ds.start_times is not None
    assert ds.start_times[0] == pytest.approx(1396867869.277)


def test_diginetica_orders_by_date_then_timeframe(tmp_path: Path) -> None:
    path = tmp_path / "train-item-views.csv"
    path.write_text(
        "session_id;user_id;item_id;timeframe;eventdate\n"
        "1;NA;81766;526309;2016-05-09\n"
        "1;NA;31331;1031018;2016-05-09\n"
        "1;NA;32118;243569;2016-05-09\n"
        "2;NA;32118;75848;2016-05-20\n"
        "2;NA;81766;1000;2016-05-20\n"
        "2;NA;9654;80000;2016-05-20\n"  # never seen in training: dropped from the test session
    )
    ds = load(
        "diginetica", path, PreprocessOptions(min_item_support=1, valid_fraction=0, test_days=7)
    )
    assert sessions(ds) == [
        ("1", "train", ["32118", "81766"], "31331"),
        ("2", "test", ["81766"], "32118"),
    ]


def test_retailrocket_keeps_views_and_cuts_sessions_after_30_minutes(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    t0 = 1_433_221_332_000
    minute = 60_000
    path.write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        f"{t0},7,view,100,\n"
        f"{t0 + 5 * minute},7,addtocart,100,\n"
        f"{t0 + 10 * minute},7,view,101,\n"
        f"{t0 + 60 * minute},7,view,102,\n"  # 50 minutes later: a new session
        f"{t0 + 61 * minute},7,view,100,\n"
        f"{t0 + 62 * minute},8,view,101,\n"
        f"{t0 + 63 * minute},8,view,102,\n"
    )
    ds = load(
        "retailrocket",
        path,
        PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.34),
    )
    assert sorted(sessions(ds)) == [
        ("7:0", "train", ["100"], "101"),
        ("7:1", "train", ["102"], "100"),
        ("8:0", "test", ["101"], "102"),
    ]


def test_recbole_inter_by_user_with_item_titles(tmp_path: Path) -> None:
    (tmp_path / "toy.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "u1\t1\t5\t1000\nu1\t2\t3\t1100\nu1\t3\t4\t1200\nu2\t2\t4\t50000\nu2\t1\t1\t50010\n"
    )
    (tmp_path / "toy.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\n1\tToy Story\t1995\n2\tHeat\t1995\n3\tJumanji\t1995\n"
    )
    ds = load("recbole", tmp_path, gap=3600)
    assert sessions(ds) == [("u1:0", "train", ["1", "2"], "3"), ("u2:0", "test", ["2"], "1")]
    assert dict(zip(ds.item_ids, ds.titles or [], strict=True)) == {
        "1": "Toy Story",
        "2": "Heat",
        "3": "Jumanji",
    }
    assert ds.attributes is not None
    assert ds.attributes[0] == {"release_year": "1995"}


def test_recbole_presplit_session_benchmark_files(tmp_path: Path) -> None:
    header = "session_id:token\titem_id_list:token_seq\titem_id:token\n"
    (tmp_path / "bench.train.inter").write_text(header + "1\ta b\tc\n2\tb\tc\n")
    (tmp_path / "bench.valid.inter").write_text(header + "3\tc a\tb\n")
    (tmp_path / "bench.test.inter").write_text(header + "4\ta\td\n")
    ds = load("recbole", tmp_path)
    assert ds.item_ids == ["a", "b", "c", "d"]
    assert sessions(ds) == [
        ("1", "train", ["a", "b"], "c"),
        ("2", "train", ["b"], "c"),
        ("3", "valid", ["c", "a"], "b"),
        ("4", "test", ["a"], "d"),
    ]


def test_movielens_100k_with_latin1_titles_and_stable_ties(tmp_path: Path) -> None:
    # Two ratings of user 1 share a timestamp: file order decides (10 before 12).
    (tmp_path / "u.data").write_text(
        "1\t10\t5\t1000\n1\t12\t3\t1000\n1\t11\t4\t900\n2\t12\t4\t90000\n2\t10\t2\t90100\n"
    )
    genres = "|".join(["0"] * 19)
    item = (
        f"10|Amélie (2001)|01-Jan-2001||http://x|{genres}\n"
        f"11|Heat (1995)|01-Jan-1995||http://x|0|1|{'|'.join(['0'] * 17)}\n"
        f"12|Se7en (1995)|01-Jan-1995||http://x|{genres}\n"
    )
    (tmp_path / "u.item").write_bytes(item.encode("latin-1"))
    ds = load("movielens", tmp_path, gap=3600)
    assert sessions(ds) == [("1:0", "train", ["11", "10"], "12"), ("2:0", "test", ["12"], "10")]
    titles = dict(zip(ds.item_ids, ds.titles or [], strict=True))
    assert titles["10"] == "Amélie (2001)"
    assert ds.attributes is not None
    assert ds.attributes[ds.item_ids.index("11")]["genres"] == ["Action"]


def test_movielens_1m_double_colon_format(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text(
        "1::1193::5::978300760\n1::661::3::978302109\n2::661::4::978400000\n2::1193::4::978400100\n"
    )
    (tmp_path / "movies.dat").write_bytes(
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n".encode(
            "latin-1"
        )
    )
    ds = load(
        "movielens",
        tmp_path,
        PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5),
    )
    assert sessions(ds) == [("1:0", "train", ["1193"], "661"), ("2:0", "test", ["661"], "1193")]
    assert ds.titles is not None and "Cuckoo's Nest" in ds.titles[0]


def test_movielens_latest_csv(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n5,1,4.0,964990000\n5,3,4.0,964990100\n"
    )
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"Grumpier Old Men, The (1995)",Comedy\n'
    )
    ds = load(
        "movielens",
        tmp_path / "ratings.csv",
        PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5),
    )
    assert sessions(ds) == [("1:0", "train", ["3"], "1"), ("5:0", "test", ["1"], "3")]
    assert (
        dict(zip(ds.item_ids, ds.titles or [], strict=True))["3"] == "Grumpier Old Men, The (1995)"
    )


def test_csv_with_named_columns_and_a_titles_file(tmp_path: Path) -> None:
    path = tmp_path / "clicks.tsv"
    path.write_text("sid\tproduct\twhen\n" "a\tp1\t2024-01-01T10:00:00\n" "a\tp2\t2024-01-01T10:05:00\n"
                    "b\tp2\t2024-01-03T10:00:00\n" "b\tp1\t2024-01-03T10:01:00\n")  # fmt: skip
    titles = tmp_path / "titles.csv"
    titles.write_text("product,name\np1,First product\np2,Second product\n")
    reader = ReaderOptions(
        session_col="sid", item_col="product", time_col="when", titles=titles, title_col="name"
    )
    ds = load(
        "csv", path, PreprocessOptions(min_item_support=1, valid_fraction=0, test_days=1), reader
    )
    assert sessions(ds) == [("a", "train", ["p1"], "p2"), ("b", "test", ["p2"], "p1")]
    assert ds.titles == ["First product", "Second product"]


def test_csv_by_user_with_millisecond_times(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("user,item,ts\nu,x,0\nu,y,60000\nu,y,7200000\nu,x,7260000\n")
    reader = ReaderOptions(user_col="user", item_col="item", time_col="ts", time_unit=0.001)
    ds = load(
        "csv",
        path,
        PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5),
        reader,
        gap=1800,
    )
    assert sessions(ds) == [("u:0", "train", ["x"], "y"), ("u:1", "test", ["y"], "x")]


def test_csv_without_time_keeps_file_order(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("session_id,item_id\n1,b\n1,a\n2,a\n2,b\n")
    ds = load(
        "csv", path, PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5)
    )
    assert sessions(ds) == [("1", "train", ["b"], "a"), ("2", "test", ["a"], "b")]
    assert ds.start_times is None


def test_a_csv_whose_time_column_is_misnamed_is_refused_not_read_without_times(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("session_id,item_id,timestaep\n1,b,10\n1,a,20\n2,a,30\n2,b,40\n")
    opts = PreprocessOptions(min_item_support=1, valid_fraction=0, test_fraction=0.5)
    with pytest.raises(
        InputFileError, match=r"no 'timestamp' column.*--time-col \(one of: timestaep\)"
    ):
        load("csv", path, opts)
    named = load("csv", path, opts, ReaderOptions(time_col="timestaep"))
    assert named.start_times is not None and list(named.start_times) == [10.0, 30.0]
    unordered = load("csv", path, opts, ReaderOptions(time_col="none"))
    assert unordered.start_times is None and len(sessions(unordered)) == 2


def test_every_format_has_a_loader_test() -> None:
    tested = {"alkdrec", "yoochoose", "diginetica", "retailrocket", "recbole", "movielens", "csv"}
    assert set(FORMATS) == tested


def test_targets_and_inputs_are_int32_arrays(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("session_id,item_id,timestamp\n1,a,1\n1,b,2\n2,b,3\n2,a,4\n")
    ds = load("csv", path)
    assert (
        ds.items.dtype == np.int32 and ds.targets.dtype == np.int32 and ds.offsets.dtype == np.int64
    )
