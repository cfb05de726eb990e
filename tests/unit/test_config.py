"""config.conf: rak.conf values, environment overrides, and error messages an operator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.conf import Config, ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "rak.conf.sample"


def write_conf(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rak.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_conf_is_complete_and_readable():
    conf = Config.load(SAMPLE, environ={})
    assert conf.choice("server", "mode", ("development", "production")) == "development"
    assert conf.bool("server", "debug") is False  # the demo shows the French error pages (test_demo_conf.py)
    assert conf.list("server", "allowed_hosts") == ["127.0.0.1", "localhost"]
    assert conf.int("outbox", "max_attempts") == 6
    assert conf.str("database", "url", "") == ""  # the embedded PostgreSQL
    assert conf.str("database", "embedded_dir") == "var/pgdata"
    # An empty value in the file falls back to the default given by the caller.
    assert conf.str("sms", "http_url", "") == ""


def test_missing_key_names_section_key_file_and_variable(tmp_path):
    path = write_conf(tmp_path, "[server]\nmode = development\n")
    conf = Config.load(path, environ={})
    with pytest.raises(ConfigError) as excinfo:
        conf.str("server", "secret_key")
    message = str(excinfo.value)
    assert "[server] secret_key" in message
    assert str(path) in message
    assert "RAK_SERVER_SECRET_KEY" in message


def test_missing_file_reads_the_environment_only():
    conf = Config.load("/nonexistent/rak.conf", environ={"RAK_SERVER_SECRET_KEY": "from-env"})
    assert conf.str("server", "secret_key") == "from-env"
    with pytest.raises(ConfigError, match=r"\(environment only\)"):
        conf.str("mail", "from")


def test_empty_required_value_is_refused(tmp_path):
    conf = Config.load(write_conf(tmp_path, "[server]\nsecret_key =\n"), environ={})
    with pytest.raises(ConfigError, match=r"\[server\] secret_key"):
        conf.str("server", "secret_key")


def test_environment_overrides_the_file(tmp_path):
    path = write_conf(tmp_path, "[sms]\nbackend = dev\n[outbox]\nmax_attempts = 6\n")
    conf = Config.load(path, environ={"RAK_SMS_BACKEND": "http", "RAK_OUTBOX_MAX_ATTEMPTS": "3"})
    assert conf.choice("sms", "backend", ("dev", "http")) == "http"
    assert conf.int("outbox", "max_attempts") == 3


def test_database_url_overrides_database_section(tmp_path):
    path = write_conf(tmp_path, "[database]\nurl = postgres://file@db.example.ma/rak\n")
    conf = Config.load(path, environ={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/rak"})
    assert conf.str("database", "url") == "postgres://postgres@127.0.0.1:5432/rak"
    assert Config.env_name("database", "url") == "DATABASE_URL"


def test_rak_database_url_is_accepted_but_database_url_wins(tmp_path):
    path = write_conf(tmp_path, "[database]\nurl = postgres://file@db.example.ma/rak\n")
    conf = Config.load(path, environ={"RAK_DATABASE_URL": "postgres://a@h/x"})
    assert conf.str("database", "url") == "postgres://a@h/x"
    conf = Config.load(path, environ={"RAK_DATABASE_URL": "postgres://a@h/x", "DATABASE_URL": "postgres://b@h/y"})
    assert conf.str("database", "url") == "postgres://b@h/y"


def test_malformed_int_names_key_value_and_expected_type(tmp_path):
    conf = Config.load(write_conf(tmp_path, "[outbox]\nmax_attempts = six\n"), environ={})
    with pytest.raises(ConfigError) as excinfo:
        conf.int("outbox", "max_attempts", 6)
    message = str(excinfo.value)
    assert "[outbox] max_attempts" in message
    assert "'six'" in message
    assert "nombre entier" in message


def test_malformed_bool_names_key_value_and_expected_type(tmp_path):
    conf = Config.load(write_conf(tmp_path, "[server]\ndebug = peut-être\n"), environ={})
    with pytest.raises(ConfigError) as excinfo:
        conf.bool("server", "debug", False)
    message = str(excinfo.value)
    assert "[server] debug" in message
    assert "peut-être" in message
    assert "true/false" in message


def test_malformed_value_from_environment_is_reported_too():
    conf = Config.load(None, environ={"RAK_SERVER_LOGIN_FAILURE_LIMIT": "5x"})
    with pytest.raises(ConfigError, match=r"\[server\] login_failure_limit invalide"):
        conf.int("server", "login_failure_limit", 5)


def test_choice_lists_the_allowed_values(tmp_path):
    conf = Config.load(write_conf(tmp_path, "[sms]\nbackend = pigeon\n"), environ={})
    with pytest.raises(ConfigError, match="dev, http"):
        conf.choice("sms", "backend", ("dev", "http"), "dev")


def test_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="illisible"):
        Config.load(write_conf(tmp_path, "secret_key = outside any section\n"), environ={})


@pytest.mark.parametrize("raw", ["1", "true", "Yes", " on "])
def test_true_spellings(raw):
    assert Config.load(None, environ={"RAK_SERVER_DEBUG": raw}).bool("server", "debug") is True


@pytest.mark.parametrize("raw", ["0", "false", "NO", "off"])
def test_false_spellings(raw):
    assert Config.load(None, environ={"RAK_SERVER_DEBUG": raw}).bool("server", "debug") is False


def test_list_accepts_commas_and_new_lines(tmp_path):
    conf = Config.load(write_conf(tmp_path, "[server]\nallowed_hosts = a.ma,\n  b.ma , c.ma\n"), environ={})
    assert conf.list("server", "allowed_hosts") == ["a.ma", "b.ma", "c.ma"]


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_any_integer_round_trips_through_the_environment(value):
    assert Config.load(None, environ={"RAK_OUTBOX_MAX_ATTEMPTS": f" {value} "}).int("outbox", "max_attempts") == value
