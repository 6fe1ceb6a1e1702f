"""Text from data never drives the terminal: escape sequences in titles, names, notes and
paths are removed by the one sanitiser, in the CLI's output, its error lines and the TUI."""

from __future__ import annotations

import json
from pathlib import Path

from alkd_tui.terminal_text import clean

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
OSC_LINK = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"
C1_CSI = "\x9b31m"
BIDI = "abc\u202egnp.exe"
NASTY = (OSC_TITLE, OSC_CLIPBOARD, OSC_LINK, C1_CSI, BIDI, "bell\x07", "cr\roverwrite")


def test_clean_removes_controls_and_keeps_text() -> None:
    assert clean("Café – 東京\tfine\nnext") == "Café – 東京\tfine\nnext"
    assert clean(OSC_TITLE) == "]0;pwned"
    assert clean(OSC_CLIPBOARD) == "]52;c;cm0gLXJmIH4="
    assert clean(C1_CSI) == "31m"
    assert clean(BIDI) == "abcgnp.exe"
    for text in NASTY:
        cleaned = clean(text)
        assert all(
            ch in "\t\n" or (ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0) for ch in cleaned
        )


def titled_dataset(alkd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clicks = tmp_path / "clicks.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"{s},i{(s + j) % 5},{s * 10 + j}\n" for s in range(40) for j in range(3)))  # fmt: skip
    titles = tmp_path / "titles.csv"
    titles.write_text(
        "item_id,title\n" + "".join(f'i{k},"{NASTY[k]} {k}"\n' for k in range(5)), encoding="utf-8"
    )
    done = alkd("data", "import", "csv", clicks, "--name", "evil", "--min-item-support", "1",
                "--titles", titles)  # fmt: skip
    assert done.code == 0, done.err


def test_the_cli_prints_titles_without_their_escape_sequences(alkd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    titled_dataset(alkd, tmp_path)
    shown = alkd("data", "show", "evil")
    assert shown.code == 0
    for stream in (shown.out, shown.err):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
    assert "]0;pwned" in shown.out + shown.err  # the text is shown, not obeyed
    data = json.loads(alkd("data", "show", "evil", "--json").out)  # JSON keeps the data exact
    assert f"{OSC_TITLE} 0" in _strings(data)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_run_names_and_error_lines_are_cleaned(alkd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runs = tmp_path / "runs.jsonl"
    runs.write_text(json.dumps({"kind": "train", "name": OSC_CLIPBOARD, "config": {},
                                "started_at": "2026-01-01T00:00:00"}) + "\n")  # fmt: skip
    assert alkd("runs", "import", runs).code == 0
    listed = alkd("runs", "list")
    assert listed.code == 0 and "\x1b" not in listed.out and "]52;c;" in listed.out
    shown = alkd("runs", "show", "1")
    assert "\x1b" not in shown.out + shown.err
    missing = alkd("data", "import", "csv", tmp_path / f"no{OSC_TITLE}such.csv", "--name", "x")
    assert missing.code == 2 and "\x1b" not in missing.err and "\x07" not in missing.err
    assert "]0;pwned" in missing.err


def test_cut_keeps_short_text_and_ends_a_cut_one_in_an_ellipsis() -> None:
    from alkd_tui.terminal_text import cut

    assert cut("abc", 3) == "abc"
    assert cut("abcd", 3) == "ab…" and len(cut("x" * 500, 60)) == 60
