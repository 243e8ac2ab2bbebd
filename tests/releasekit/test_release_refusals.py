"""The refusals of `make publish` and `make testpypi` that must leave a real pypiserver
untouched: other bytes under our name, wrong or no credentials, no confirmation, bad
settings, unaudited dependencies."""
from __future__ import annotations

import pytest

from conftest import VERSION, run
from indexkit import MAKE, publish, uploaded_names


def test_other_bytes_under_our_name_refuse_everything(built_copy, local_index):
    squatted = f"open_finops_docker-{VERSION}-py3-none-any.whl"
    local_index.packages.mkdir(parents=True, exist_ok=True)
    (local_index.packages / squatted).write_bytes(b"not our wheel")
    before = local_index.files()
    proc = publish(built_copy, local_index.env())
    assert proc.returncode != 0, proc.explain
    assert squatted in proc.stderr and "bump the version" in proc.stderr, proc.explain
    assert "nothing was uploaded" in proc.stderr and "it resumes" not in proc.stderr
    assert local_index.files() == before
    assert uploaded_names(proc.stderr) == []


def test_wrong_password_is_a_clear_error_and_never_shown(built_copy, local_index):
    wrong = "wrong-" + local_index.password[::-1]
    proc = publish(built_copy, local_index.env(TWINE_PASSWORD=wrong))
    assert proc.returncode != 0, proc.explain
    assert "refused the credentials" in proc.stderr, proc.explain
    written = [p.read_text() for p in (built_copy / "dist").glob("*.json")]
    for secret in (wrong, local_index.password):
        assert secret not in proc.stdout + proc.stderr
        assert not any(secret in text for text in written)
    assert local_index.files() == {}


def test_no_credentials_is_a_clear_error(built_copy, local_index):
    env = local_index.env()
    del env["TWINE_PASSWORD"]
    proc = run([*MAKE, "upload"], cwd=built_copy, env=env)
    assert proc.returncode != 0, proc.explain
    assert "error: no credentials for " in proc.stderr, proc.explain
    assert "TWINE_USERNAME/TWINE_PASSWORD, ~/.pypirc or keyring" in proc.stderr
    assert local_index.files() == {}


def test_a_bad_url_is_named_before_the_credentials_are_looked_for(built_copy, local_index):
    env = local_index.env()
    del env["TWINE_PASSWORD"]
    proc = run([*MAKE, "testpypi"], cwd=built_copy, env={**env, "REPOSITORY_URL": "x:8080"})
    assert proc.returncode != 0, proc.explain
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == [
        "error: REPOSITORY_URL='x:8080' is no http(s) URL; set it to one, or unset it (see --help)"
    ], proc.explain


def test_publish_without_credentials_refuses_before_building(built_copy, local_index):
    env = local_index.env(AUDIT="warn", CONFIRM="yes")
    del env["TWINE_PASSWORD"]
    for built in (built_copy / "dist").glob("*.json"):
        built.unlink()
    proc = run([*MAKE, "publish"], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: no credentials for {local_index.repository_url}: set "
                      "TWINE_USERNAME=__token__ and TWINE_PASSWORD to an API token, or store it "
                      "in keyring; nothing was built or uploaded"], proc.explain
    assert "step " not in proc.stderr and not list((built_copy / "dist").glob("*.json"))
    assert local_index.files() == {}


def test_publish_without_a_terminal_needs_confirm(built_copy, local_index):
    env = {**local_index.env(), "AUDIT": "warn"}
    proc = run([*MAKE, "publish"], cwd=built_copy, env=env, timeout=120)
    assert proc.returncode != 0, proc.explain
    assert "CONFIRM=yes" in proc.stderr
    assert "step build" not in proc.stderr  # refused before any work
    assert local_index.files() == {}


@pytest.mark.parametrize("setting, says", [
    ({"VERSION": "9.9.9"}, "'make bump VERSION=9.9.9' first"),
    ({"AUDIT": "maybe"}, "AUDIT must be strict or warn"),
    ({"INDEX_URL": "/simple/"}, "INDEX_URL='/simple/' is no http(s) URL"),
    ({"REPOSITORY_URL": "127.0.0.1:8080"}, "REPOSITORY_URL='127.0.0.1:8080' is no http(s) URL"),
])
def test_bad_settings_are_refused_before_any_work(built_copy, local_index, setting, says):
    proc = run([*MAKE, "publish"], cwd=built_copy, timeout=120,
               env={**local_index.env(), "CONFIRM": "yes", **setting})
    assert proc.returncode != 0, proc.explain
    assert says in proc.stderr, proc.explain
    assert "step " not in proc.stderr
    assert local_index.files() == {}


def test_testpypi_fails_on_unaudited_dependencies_unless_audit_warn(built_copy, local_index):
    """Here no vulnerability data is reachable: every dependency is unaudited, and testpypi
    (like publish) refuses that before any upload; stage only warns (test_stage.py)."""
    env = {**local_index.env(), "EXTRA_INDEX_URL": local_index.index_url}
    proc = run([*MAKE, "testpypi"], cwd=built_copy, env=env, timeout=600)
    assert proc.returncode != 0, proc.explain
    assert "stopped at step audit" in proc.stderr and "could not be audited" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "AUDIT=warn" in errors[0], proc.explain
    assert local_index.files() == {}
