"""``khoso user …`` end to end on both catalogs: accounts, roles, agencies, tokens, revoke,
disable and enable, every change in the audit log, exit codes 0/1/2, the token alone on the
last line, and no secret in any listing."""

from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from access_api.app import create_app
from access_api.cli import main
from preservation.catalog.models import AuditEntry, User
from tests.support.cli import cli_env
from tests.support.sips import ORGAN

PASSWORD = "Mật khẩu dài 2026"


def run(khoso, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), env=cli_env(khoso), input=stdin,
                              catch_exceptions=False)


def add(khoso, name: str, *options: str, password: str = PASSWORD):
    return run(khoso, "user", "add", name, *options, "--password-stdin", stdin=password + "\n")


def actions(khoso) -> list[str]:
    with khoso.catalog.session() as s:
        return list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_user_add_checks_the_policy_the_role_and_the_agency(khoso):
    done = add(khoso, "he-thong", "--role", "agency_submitter", "--agency", ORGAN,
               "--full-name", "Hệ thống UBND huyện")
    assert done.exit_code == 0 and done.stdout == "Đã thêm tài khoản: he-thong\n"
    short = add(khoso, "doc-gia", "--role", "reader", password="ngắn")
    assert short.exit_code == 1 and "[ACC002] password" in short.stderr
    for options, code in [(("--role", "agency_submitter"), "ACC006"),
                          (("--role", "reader", "--agency", ORGAN), "ACC007"),
                          (("--role", "agency_submitter", "--agency", "000.00.00.X99"),
                           "ACC008")]:
        refused = add(khoso, "doc-gia", *options)
        assert refused.exit_code == 1 and f"[{code}] --agency" in refused.stderr, refused.output
    long_name = add(khoso, "doc-gia", "--role", "reader", "--full-name", "Nguyễn " * 50)
    assert long_name.exit_code == 1 and "[ACC024] --full-name" in long_name.stderr
    taken = add(khoso, "he-thong", "--role", "reader")
    assert taken.exit_code == 1 and "AUTH001" in taken.stderr
    bogus = add(khoso, "doc-gia", "--role", "emperor")
    assert bogus.exit_code == 2
    english = run(khoso, "--lang", "en", "user", "add", "doc-gia", "--role", "reader",
                  "--password-stdin", stdin="doc-gia-1234567\n")
    assert english.exit_code == 1
    assert "The password must not contain the username." in english.stderr
    listed = json.loads(run(khoso, "user", "list", "--json").stdout)
    assert [(u["username"], u["roles"], u["agency"]) for u in listed] == [
        ("he-thong", ["agency_submitter"], ORGAN)]
    assert "password" not in json.dumps(listed)
    assert actions(khoso).count("user.create") == 1


def test_the_password_is_asked_twice_without_stdin(khoso):
    done = run(khoso, "user", "add", "doc-gia", "--role", "reader",
               stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert PASSWORD not in done.output
    mismatch = run(khoso, "user", "add", "doc-gia-2", "--role", "reader",
                   stdin=f"{PASSWORD}\nkhác hẳn 12345\n")
    assert mismatch.exit_code != 0
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(User.username).where(User.username == "doc-gia-2")) is None
    client = create_app(khoso.settings, khoso.catalog).test_client()
    assert client.post("/api/v1/auth/login", json={"username": "doc-gia",
                                                   "password": PASSWORD}).status_code == 200


def test_token_revoke_disable_enable_and_tokens(khoso):
    assert add(khoso, "doc-gia", "--role", "reader").exit_code == 0
    issued = run(khoso, "user", "token", "doc-gia", "--expires", "30d", "--label", "máy quét")
    assert issued.exit_code == 0
    first, token = issued.stdout.rstrip("\n").split("\n")
    assert first.startswith("Mã truy cập số 1 của doc-gia, hết hạn ")
    assert token.startswith("khoso_") and " " not in token
    client = create_app(khoso.settings, khoso.catalog).test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "doc-gia"

    listed = run(khoso, "user", "tokens", "doc-gia", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["label"], r["state"]) for r in rows] == [(1, "máy quét", "active")]
    assert token not in listed.stdout and rows[0]["last_used_at"] is not None
    assert "máy quét" in run(khoso, "user", "tokens", "doc-gia").stdout

    assert run(khoso, "user", "disable", "doc-gia").stdout == "Đã khóa tài khoản: doc-gia\n"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
    refused = run(khoso, "user", "token", "doc-gia")
    assert refused.exit_code == 1 and "ACC014" in refused.stderr
    assert run(khoso, "user", "enable", "doc-gia").exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200

    revoked = run(khoso, "user", "revoke", "1")
    assert revoked.exit_code == 0 and revoked.stdout == "Đã thu hồi mã truy cập số 1 của doc-gia\n"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
    assert json.loads(run(khoso, "user", "tokens", "doc-gia", "--json").stdout)[0][
        "state"] == "revoked"
    assert {"token.issue", "user.disable", "user.enable", "token.revoke"} <= set(actions(khoso))


def test_refusals_exit_1_and_usage_errors_exit_2(khoso):
    assert add(khoso, "doc-gia", "--role", "reader").exit_code == 0
    for args, code in [(("user", "token", "doc-gia", "--expires", "never"), "ACC012"),
                       (("user", "token", "doc-gia", "--label", "x" * 101), "ACC024"),
                       (("user", "token", "doc-gia", "--label", " "), "ACC017"),
                       (("user", "token", "doc-gia", "--label", "a\tb"), "ACC013"),
                       (("user", "token", "doc-gia", "--expires", "400d"), "ACC012"),
                       (("user", "token", "doc-gia", "--expires", "soon"), "ACC011"),
                       (("user", "token", "khong-co"), "GEN002"),
                       (("user", "revoke", "99"), "GEN002"),
                       (("user", "disable", "khong-co"), "GEN002"),
                       (("user", "enable", "khong-co"), "GEN002"),
                       (("user", "tokens", "khong-co"), "GEN002")]:
        result = run(khoso, *args)
        assert result.exit_code == 1 and f"[{code}]" in result.stderr, (args, result.output)
    for args in [("user", "revoke", "abc"), ("user", "revoke", "0"), ("user", "token"),
                 ("user", "add", "x", "--password-stdin")]:
        assert run(khoso, *args).exit_code == 2, args
    english = run(khoso, "--lang", "en", "user", "revoke", "99")
    assert english.stderr == "Error [GEN002]: Token not found: 99.\n"


def test_user_password_sets_a_new_one_under_the_policy(khoso):
    assert add(khoso, "doc-gia", "--role", "reader").exit_code == 0
    weak = run(khoso, "user", "password", "doc-gia", "--password-stdin", stdin="ngắn\n")
    assert weak.exit_code == 1 and "[ACC002]" in weak.stderr
    missing = run(khoso, "user", "password", "khong-co", "--password-stdin",
                  stdin="Mật khẩu mới 2027\n")
    assert missing.exit_code == 1 and "[GEN002]" in missing.stderr
    done = run(khoso, "user", "password", "doc-gia", stdin="Mật khẩu mới 2027\n" * 2)
    assert done.exit_code == 0 and done.stdout.endswith("Đã đặt mật khẩu mới cho: doc-gia\n")
    client = create_app(khoso.settings, khoso.catalog).test_client()
    assert client.post("/api/v1/auth/login", json={
        "username": "doc-gia", "password": "Mật khẩu mới 2027"}).status_code == 200
    assert "user.password" in actions(khoso)


def test_the_last_admin_is_not_disabled(khoso):
    assert add(khoso, "quan-tri", "--role", "admin").exit_code == 0
    refused = run(khoso, "user", "disable", "quan-tri")
    assert refused.exit_code == 1 and "ACC015" in refused.stderr
    assert add(khoso, "quan-tri-2", "--role", "admin").exit_code == 0
    assert run(khoso, "user", "disable", "quan-tri").exit_code == 0


def test_help_is_in_the_chosen_language(khoso):
    vi = run(khoso, "user", "token", "--help").stdout
    assert "rồi mã một mình trên dòng cuối" in vi and "alone on the last" not in vi
    en = run(khoso, "--lang", "en", "user", "add", "--help").stdout
    assert "Read the password from the first line of" in en and "Mật khẩu" not in en
