"""The CLI assembles every registered subcommand and answers on an empty lake clearly."""

import pytest

from goldpan.cli import build_parser, main
from goldpan.commands import COMMAND_MODULES


def test_every_registered_command_has_a_parser():
    parser = build_parser()
    names = set(parser._subparsers._group_actions[0].choices)
    assert {"trace", "funnel", "releases", "sql"} <= names
    assert len(names) >= len(COMMAND_MODULES)


def test_missing_lake_exits_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--lake", str(tmp_path / "nope"), "funnel"])
    assert "no lake at" in str(exc.value)


def test_sql_runs_on_a_lake(tmp_path, capsys):
    (tmp_path / "lake").mkdir()
    assert main(["--lake", str(tmp_path / "lake"), "sql", "SELECT 41 + 1 AS answer"]) == 0
    assert "42" in capsys.readouterr().out
