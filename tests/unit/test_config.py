import tomllib
from pathlib import Path

import pytest

from cleaner import config
from cleaner.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def _lists(d: object) -> object:
    if isinstance(d, dict):
        return {k: _lists(v) for k, v in d.items()}
    if isinstance(d, tuple | list):
        return [_lists(v) for v in d]
    return d


def test_documented_defaults_equal_the_code() -> None:
    documented = tomllib.loads((ROOT / "cleaner.toml").read_text(encoding="utf-8"))
    assert documented == _lists(config.Config().to_dict())


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[run]\nworkers = 3\ninput = 'in'\n[dedup]\nthreshold = 0.9\n")
    cfg = config.load(f, environ={"CLEANER_RUN_WORKERS": "5"}, flags={"run": {"input": "flag"}})
    assert cfg.run.workers == 5  # env beats file
    assert cfg.run.input == str(Path.cwd() / "flag")  # flag beats file
    assert cfg.dedup.threshold == 0.9  # file beats default
    assert cfg.run.clean == str(Path.cwd() / "clean")  # default


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[run]\nwrokers = 3\n")
    with pytest.raises(UsageError, match="wrokers.*\\[run\\]"):
        config.load(f, environ={})


def test_unknown_section_and_env_are_errors(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[nope]\nx = 1\n")
    with pytest.raises(UsageError, match="nope"):
        config.load(f, environ={})
    with pytest.raises(UsageError, match="CLEANER_BOGUS"):
        config.load(tmp_path / "absent.toml" if False else None, environ={"CLEANER_BOGUS": "1"})


def test_bad_values_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="integer"):
        config.load(None, environ={"CLEANER_RUN_WORKERS": "many"})
    with pytest.raises(UsageError, match="skip"):
        config.load(None, environ={}, flags={"run": {"skip": ["nonsense"]}})


def test_to_toml_round_trips(tmp_path: Path) -> None:
    cfg = config.load(None, environ={}, flags={"run": {"skip": ["dedup"]}, "dedup": {"threshold": 0.8}})
    f = tmp_path / "out.toml"
    f.write_text(config.to_toml(cfg))
    assert config.load(f, environ={}) == cfg


def test_config_hash_ignores_paths_but_not_stage_settings() -> None:
    a = config.Config()
    b = config.load(None, environ={}, flags={"run": {"input": "elsewhere"}})
    c = config.load(None, environ={}, flags={"dedup": {"threshold": 0.9}})
    assert a.sha256() == b.sha256() != c.sha256()


def test_relative_folders_in_a_config_file_are_next_to_the_file(tmp_path: Path) -> None:
    f = tmp_path / "conf" / "cleaner.toml"
    f.parent.mkdir()
    f.write_text("[run]\ninput = 'raw'\nstate = '/abs/state'\n")
    cfg = config.load(f, environ={})
    assert cfg.run.input == str(tmp_path / "conf" / "raw")
    assert cfg.run.state == "/abs/state"
    assert cfg.run.clean == str(Path.cwd() / "clean")  # not in the file: relative to where cleaner runs
