"""Configuration is checked when a process starts: each bad value is one line naming its
variable and what it wants, and the process exits 2 before it touches the broker or Redis."""
import pytest

from services.cli import main
from services.common.config import ConfigError, Settings


def refusal(environ: dict) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ)
    return refused.value.lines


def test_with_nothing_set_every_default_suits_a_developers_machine():
    settings = Settings.from_env({})
    assert settings.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8000)
    assert settings.admin_token is None and settings.secrets_key is None
    assert settings.rate_limit == 100
    assert settings.handler_retry_delays == (1.0, 5.0, 30.0, 120.0, 600.0)
    assert settings.webhook_retry_schedule is None  # the notifications service's own default
    assert settings.webhook_allowed == ()
    assert settings.log_level == "INFO"


def test_values_come_from_the_environment_in_the_forms_the_readme_gives():
    settings = Settings.from_env({"REDIS_URL": "redis://cache:6379/2",
                                  "GUABANG_HANDLER_RETRY_DELAYS": "1, 2,4",
                                  "GUABANG_HTTP_PORT": "9000",
                                  "GUABANG_WEBHOOK_ALLOWED": "10.0.0.0/8, hooks.example.cn",
                                  "GUABANG_WEBHOOK_RETRY_SCHEDULE": "1,2,4",
                                  "GUABANG_LOG_LEVEL": "debug"})
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.handler_retry_delays == (1.0, 2.0, 4.0)
    assert settings.nameko_config()["WEB_SERVER_ADDRESS"] == "0.0.0.0:9000"
    assert settings.webhook_allowed == ("10.0.0.0/8", "hooks.example.cn")
    assert settings.webhook_retry_schedule == (1.0, 2.0, 4.0)
    assert settings.log_level == "DEBUG"


def test_empty_means_unset_and_empty_retry_delays_park_at_the_first_failure():
    settings = Settings.from_env({"GUABANG_ADMIN_TOKEN": "", "GUABANG_SECRETS_KEY": "",
                                  "GUABANG_WEBHOOK_RETRY_SCHEDULE": "",
                                  "GUABANG_HANDLER_RETRY_DELAYS": ""})
    assert settings.admin_token is None and settings.secrets_key is None
    assert settings.webhook_retry_schedule is None
    assert settings.handler_retry_delays == ()


@pytest.mark.parametrize("name, value, wanted", [
    ("GUABANG_RATE_LIMIT", "abc", "valid integer"),
    ("GUABANG_RATE_LIMIT", "0", "greater than or equal to 1"),
    ("GUABANG_HTTP_PORT", "-1", "greater than or equal to 1"),
    ("GUABANG_HTTP_PORT", "70000", "less than or equal to 65535"),
    ("GUABANG_RPC_TIMEOUT", "0", "greater than 0"),
    ("GUABANG_WEBHOOK_CONCURRENCY", "many", "valid integer"),
    ("GUABANG_HANDLER_RETRY_DELAYS", "1,soon", "comma-separated seconds"),
    ("GUABANG_WEBHOOK_RETRY_SCHEDULE", "1,-2", "more than 0 seconds"),
    ("GUABANG_WEBHOOK_ALLOWED", "10.0.0.0/8,not a host", "neither a network"),
    ("AMQP_URI", "http://127.0.0.1:5672/", "amqp://"),
    ("REDIS_URL", "127.0.0.1:6379", "redis://"),
    ("RABBITMQ_MANAGEMENT_URL", "ftp://127.0.0.1", "http://"),
    ("GUABANG_LOG_LEVEL", "loud", "'INFO'"),
])
def test_a_bad_value_is_one_line_naming_the_variable_its_value_and_what_it_wants(
        name, value, wanted):
    [line] = refusal({name: value})
    assert line.startswith(f"{name}={value!r}: ")
    assert wanted in line


def test_every_bad_variable_has_its_own_line():
    lines = refusal({"GUABANG_RATE_LIMIT": "abc", "GUABANG_HTTP_PORT": "-1",
                     "GUABANG_RPC_TIMEOUT": "5"})
    assert [line.split("=")[0] for line in lines] == ["GUABANG_HTTP_PORT", "GUABANG_RATE_LIMIT"]


def test_secrets_are_named_but_never_echoed():
    [key] = refusal({"GUABANG_SECRETS_KEY": "hunter2-hunter2"})
    assert key.startswith("GUABANG_SECRETS_KEY: a Fernet key") and "hunter2" not in key
    [uri] = refusal({"AMQP_URI": "http://guabang:s3cret@broker:5672/"})
    assert "s3cret" not in uri and "broker" in uri


def test_each_setting_is_read_from_one_environment_variable_of_its_own():
    names = {name: field.validation_alias for name, field in Settings.model_fields.items()}
    assert len(set(names.values())) == len(names)
    assert names["rate_limit"] == "GUABANG_RATE_LIMIT"
    assert names["management_url"] == "RABBITMQ_MANAGEMENT_URL"


@pytest.mark.parametrize("argv", [["run", "gateway"], ["start"], ["keys", "create", "admin"],
                                  ["dlq", "list"]])
def test_the_command_exits_2_with_one_line_per_bad_variable_and_no_traceback(
        argv, monkeypatch, capsys):
    monkeypatch.setenv("GUABANG_RATE_LIMIT", "abc")
    monkeypatch.setenv("GUABANG_HTTP_PORT", "-1")
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "guabang: GUABANG_HTTP_PORT='-1': Input should be greater than or equal to 1",
        "guabang: GUABANG_RATE_LIMIT='abc': Input should be a valid integer, unable to parse "
        "string as an integer",
    ]
