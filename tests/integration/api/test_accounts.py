"""Accounts over HTTP: login sessions with CSRF, tokens that expire and are revoked, disabled
accounts stopping at once, the password policy, argon2 with the scrypt migration, failed
logins rate-limited in the catalog, hostile input, and the role matrix (on SQLite and
PostgreSQL)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import os
import time
import unicodedata

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from preservation import accounts as core
from preservation.catalog.models import ApiToken, AuditEntry, LoginFailure, LoginSession, User
from tests.integration.api.matrix_accounts import ROLES, ROWS
from tests.support.sips import ORGAN

PASSWORD = "Mật khẩu dài 2026"
LOGIN = "/api/v1/auth/login"


def settings_for(khoso, **changes):
    return dataclasses.replace(khoso.settings, **{"login_window": 2, **changes})


@pytest.fixture
def api(khoso):
    return create_app(settings_for(khoso), khoso.catalog).test_client()


def account(khoso, username: str, role: str, password: str = PASSWORD,
            agency: str | None = None) -> str:
    """A new account made directly in the catalog; its API token."""
    with khoso.catalog.session() as s:
        agency_id = core.agency_id(s, agency) if agency else None
        user = core.create_user(s, username, password, [role], agency=agency_id)
        return core.issue_token(s, user, "test").token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, username: str, password: str = PASSWORD, **kwargs):
    return client.post(LOGIN, json={"username": username, "password": password}, **kwargs)


def actions(khoso) -> list[str]:
    with khoso.catalog.session() as s:
        return list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def user_count(khoso) -> int:
    with khoso.catalog.session() as s:
        return s.scalar(sa.select(sa.func.count(User.id)))


# --- sessions and CSRF ---------------------------------------------------------------------

def test_login_sets_a_strict_httponly_cookie_and_csrf_guards_unsafe_requests(khoso, api):
    account(khoso, "quan-tri", "admin")
    response = login(api, "quan-tri")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "quan-tri" and body["roles"] == ["admin"]
    assert body["agency"] is None and body["csrf_token"]
    assert dt.datetime.fromisoformat(body["expires_at"]).utcoffset() == dt.timedelta(0)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("khoso_session=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Secure" not in cookie and "Path=/" in cookie
    assert response.headers["Cache-Control"] == "no-store"
    secret = api.get_cookie("khoso_session").value
    with khoso.catalog.session() as s:  # only the digest is stored
        stored = s.scalar(sa.select(LoginSession.secret_hash))
    assert stored == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored

    me = api.get("/api/v1/me").get_json()
    assert me["auth"] == "session" and me["csrf_token"] == body["csrf_token"]
    new = {"username": "doc-gia", "password": PASSWORD, "roles": ["reader"]}
    refused = api.post("/api/v1/users", json=new)
    assert refused.status_code == 403 and refused.get_json()["code"] == "ACC022"
    wrong = api.post("/api/v1/users", json=new, headers={"X-CSRF-Token": "sai-ma"})
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "ACC022"
    odd = api.post("/api/v1/users", json=new, headers={"X-CSRF-Token": "mã-sai-ỹ"})
    assert odd.status_code == 403
    assert user_count(khoso) == 1  # nothing was made by the refused requests
    made = api.post("/api/v1/users", json=new, headers={"X-CSRF-Token": body["csrf_token"]})
    assert made.status_code == 201 and made.get_json()["roles"] == ["reader"]

    assert api.post("/api/v1/auth/logout").get_json()["code"] == "ACC022"
    out = api.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204 and "khoso_session=;" in out.headers["Set-Cookie"]
    assert api.get("/api/v1/me").status_code == 401
    api.set_cookie("khoso_session", secret)  # the old cookie, replayed, opens nothing
    assert api.get("/api/v1/me").status_code == 401
    assert {"user.login", "user.logout", "user.create"} <= set(actions(khoso))


def test_the_cookie_is_secure_when_configured_or_over_https(khoso):
    account(khoso, "quan-tri", "admin")
    plain = create_app(settings_for(khoso), khoso.catalog).test_client()
    assert "Secure" in login(plain, "quan-tri", base_url="https://localhost").headers[
        "Set-Cookie"]
    secure = create_app(settings_for(khoso, session_secure=True), khoso.catalog).test_client()
    assert "Secure" in login(secure, "quan-tri").headers["Set-Cookie"]


def test_a_bearer_token_needs_no_csrf_and_wins_over_a_cookie(khoso, api):
    token = account(khoso, "quan-tri", "admin")
    account(khoso, "doc-gia", "reader")
    login(api, "doc-gia")
    me = api.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["username"] == "quan-tri" and me["auth"] == "token" and me["csrf_token"] is None
    made = api.post("/api/v1/users", headers=bearer(token),
                    json={"username": "luu-tru", "password": PASSWORD, "roles": ["archivist"]})
    assert made.status_code == 201


def test_login_says_the_same_for_unknown_wrong_and_disabled_accounts(khoso, api):
    account(khoso, "doc-gia", "reader")
    account(khoso, "da-khoa", "reader")
    with khoso.catalog.session() as s:
        s.scalar(sa.select(User).where(User.username == "da-khoa")).is_active = False
    bodies = [login(api, *args).get_json() for args in (
        ("doc-gia", PASSWORD + "x"), ("khong-co", PASSWORD), ("da-khoa", PASSWORD))]
    assert {b["code"] for b in bodies} == {"ACC020"}
    assert len({b["message"] for b in bodies}) == 1 and len({b["message_en"] for b in bodies}) == 1


def test_an_unknown_username_costs_a_password_check_too(khoso, api):
    """Without the decoy check an unknown name answers in ~1 ms against ~30 ms."""
    account(khoso, "doc-gia", "reader")

    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert login(api, username, "Sai mật khẩu 1").status_code == 401
            times.append(time.perf_counter() - start)
        return min(times)

    known, unknown = fastest("doc-gia"), fastest("khong-co-ai")
    assert unknown > 0.4 * known, (known, unknown)


# --- failed logins ---------------------------------------------------------------------------

def test_five_failures_for_a_username_wait_out_the_window_then_login_works(khoso, api):
    account(khoso, "doc-gia", "reader")
    for _ in range(5):
        assert login(api, "doc-gia", "Sai mật khẩu 1").status_code == 401
    blocked = login(api, "doc-gia")  # even the right password waits
    assert blocked.status_code == 429 and blocked.get_json()["code"] == "ACC021"
    wait = int(blocked.headers["Retry-After"])
    assert 1 <= wait <= 3 and str(wait) in blocked.get_json()["message"]
    assert login(api, "DOC-GIA").status_code == 429  # the count ignores letter case
    time.sleep(wait)
    assert login(api, "doc-gia").status_code == 200
    with khoso.catalog.session() as s:  # a success starts the count again
        assert s.scalar(sa.select(sa.func.count(LoginFailure.id))) == 0


def test_unknown_usernames_are_limited_too_and_the_count_is_shared_by_every_process(khoso):
    first = create_app(settings_for(khoso), khoso.catalog).test_client()
    second = create_app(settings_for(khoso), khoso.catalog).test_client()
    for client in (first, second, first, second, first):
        assert login(client, "khong-co", "Sai mật khẩu 1").status_code == 401
    assert login(second, "khong-co", "Sai mật khẩu 1").status_code == 429


def test_failed_logins_from_many_threads_at_once_are_all_counted(khoso):
    from concurrent.futures import ThreadPoolExecutor

    account(khoso, "doc-gia", "reader")
    app = create_app(settings_for(khoso, login_window=900), khoso.catalog)

    def attempt(_n: int) -> int:
        return login(app.test_client(), "doc-gia", "Sai mật khẩu 1").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(attempt, range(18)))
    assert set(statuses) <= {401, 429} and statuses.count(401) >= 5
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(LoginFailure.id))) == statuses.count(401)
    assert login(app.test_client(), "doc-gia").status_code == 429


def test_failures_from_one_client_address_are_limited_whatever_the_username(khoso):
    account(khoso, "doc-gia", "reader")
    client = create_app(settings_for(khoso, login_max_failures_client=3),
                        khoso.catalog).test_client()
    here, there = {"REMOTE_ADDR": "192.0.2.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    for name in ("mot", "hai", "ba"):
        assert login(client, name, "Sai mật khẩu 1", environ_base=here).status_code == 401
    assert login(client, "doc-gia", environ_base=here).status_code == 429
    assert login(client, "doc-gia", environ_base=there).status_code == 200


# --- passwords -------------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "codes"), [
    ("Ngắn 1", {"ACC002"}),
    ("matkhaukhongdau", {"ACC004"}),
    ("123456789012345", {"ACC004"}),
    ("Mật khẩu của doc-gia 1", {"ACC005"}),
    ("x" * 1025, None),  # over the schema's length: 422 API001 before the policy
    ("aa", {"ACC002", "ACC004"}),
])
def test_the_password_policy_refuses_with_every_reason(khoso, password, codes):
    token = account(khoso, "quan-tri", "admin")
    client = create_app(settings_for(khoso), khoso.catalog).test_client()
    response = client.post("/api/v1/users", headers=bearer(token), json={
        "username": "doc-gia", "password": password, "roles": ["reader"]})
    assert response.status_code == 422
    body = response.get_json()
    if codes is None:
        assert body["code"] == "API001"
    else:
        assert body["code"] == "ACC001" and {i["code"] for i in body["issues"]} == codes
        assert all(i["path"] == "password" and i["severity"] == "error" for i in body["issues"])
    assert user_count(khoso) == 1


def test_passwords_are_argon2id_and_nfc_normalised(khoso, api):
    token = account(khoso, "quan-tri", "admin")
    nfd = unicodedata.normalize("NFD", PASSWORD)
    assert api.post("/api/v1/users", headers=bearer(token), json={
        "username": "doc-gia", "password": nfd, "roles": ["reader"]}).status_code == 201
    with khoso.catalog.session() as s:
        stored = s.scalar(sa.select(User.password_hash).where(User.username == "doc-gia"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert login(api, "doc-gia", unicodedata.normalize("NFC", PASSWORD)).status_code == 200


def scrypt_hash(password: str) -> str:
    """A hash as khoso wrote them before argon2."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(key).decode()}"


def test_an_old_scrypt_hash_still_logs_in_and_is_replaced_by_argon2(khoso, api):
    account(khoso, "cu", "reader")
    with khoso.catalog.session() as s:
        s.scalar(sa.select(User).where(User.username == "cu")).password_hash = scrypt_hash(
            "mật-khẩu-cũ-1")
    assert login(api, "cu", "mật-khẩu-cũ-2").status_code == 401
    with khoso.catalog.session() as s:  # a failed login changes nothing
        assert s.scalar(sa.select(User.password_hash).where(User.username == "cu")
                        ).startswith("scrypt$")
    assert login(api, "cu", "mật-khẩu-cũ-1").status_code == 200
    with khoso.catalog.session() as s:
        stored = s.scalar(sa.select(User.password_hash).where(User.username == "cu"))
    assert stored.startswith("$argon2id$") and core.check_password("mật-khẩu-cũ-1", stored)
    assert login(api, "cu", "mật-khẩu-cũ-1").status_code == 200
    assert "user.rehash" in actions(khoso)


# --- accounts --------------------------------------------------------------------------------

def test_an_agency_submitter_is_bound_to_an_existing_agency(khoso, api):
    admin = bearer(account(khoso, "quan-tri", "admin"))
    base = {"username": "he-thong-ubnd", "password": PASSWORD}

    def add(**fields):
        return api.post("/api/v1/users", headers=admin, json={**base, **fields})

    cases = [({"roles": ["agency_submitter"]}, "ACC006"),
             ({"roles": ["reader"], "agency": ORGAN}, "ACC007"),
             ({"roles": ["agency_submitter"], "agency": "000.00.00.X99"}, "ACC008"),
             ({"roles": ["agency_submitter"], "agency": "H\x00"}, "ACC008")]
    for fields, code in cases:
        response = add(**fields)
        assert response.status_code == 422 and code in {i["code"] for i in response.get_json()[
            "issues"]}, (fields, response.get_json())
    made = add(roles=["agency_submitter"], agency=ORGAN, full_name="Hệ thống UBND")
    assert made.status_code == 201 and made.get_json()["agency"] == ORGAN
    assert login(api, "he-thong-ubnd").get_json()["agency"] == ORGAN
    me = api.get("/api/v1/me").get_json()
    assert me["roles"] == ["agency_submitter"] and me["agency"] == ORGAN
    assert add(roles=["reader"]).get_json()["code"] == "AUTH001"
    assert add(roles=["reader"]).status_code == 409


@pytest.mark.parametrize(("body", "code"), [
    ({"username": "Hoa-Chu", "password": PASSWORD, "roles": ["reader"]}, "ACC009"),
    ({"username": "có dấu", "password": PASSWORD, "roles": ["reader"]}, "ACC009"),
    ({"username": "a\x00b", "password": PASSWORD, "roles": ["reader"]}, "ACC009"),
    ({"username": "doc-gia", "password": PASSWORD, "roles": ["reader"], "full_name": "a\x00"},
     "ACC013"),
    ({"username": "doc-gia", "password": PASSWORD, "roles": ["emperor"]}, "API001"),
    ({"username": "doc-gia", "password": PASSWORD, "roles": []}, "API001"),
    ({"username": "doc-gia", "password": PASSWORD, "roles": "reader"}, "API001"),
    ({"username": "doc-gia", "password": PASSWORD, "roles": ["reader"], "is_admin": True},
     "API001"),
    ({"username": 7, "password": PASSWORD, "roles": ["reader"]}, "API001"),
    ({"username": "x" * 10_000, "password": PASSWORD, "roles": ["reader"]}, "API001"),
    ({}, "API001"),
])
def test_hostile_account_input_is_refused_with_a_code_and_makes_nothing(khoso, body, code):
    token = account(khoso, "quan-tri", "admin")
    client = create_app(settings_for(khoso), khoso.catalog).test_client()
    response = client.post("/api/v1/users", headers=bearer(token), json=body)
    assert response.status_code == 422 and code in (
        {response.get_json()["code"]} | {i["code"] for i in response.get_json()["issues"]})
    assert user_count(khoso) == 1


def test_an_account_named_before_the_username_rule_still_logs_in(khoso, api):
    account(khoso, "Bảo Quản", "preservation_officer")
    assert login(api, "Bảo Quản").status_code == 200
    assert api.get("/api/v1/me").get_json()["username"] == "Bảo Quản"


def test_the_last_enabled_admin_cannot_be_disabled(khoso, api):
    token = account(khoso, "quan-tri", "admin")
    refused = api.post("/api/v1/users/quan-tri/disable", headers=bearer(token))
    assert refused.status_code == 409 and refused.get_json()["code"] == "ACC015"
    account(khoso, "quan-tri-2", "admin")
    assert api.post("/api/v1/users/quan-tri/disable", headers=bearer(token)).status_code == 200


def test_listing_accounts_is_paged_with_the_total(khoso, api):
    token = account(khoso, "quan-tri", "admin")
    for name in ("a1", "a2", "a3"):
        account(khoso, name, "reader")
    page = api.get("/api/v1/users?page=2&size=3", headers=bearer(token)).get_json()
    assert page["total"] == 4 and page["page"] == 2 and [u["username"] for u in page["items"]] == [
        "quan-tri"]
    assert api.get("/api/v1/users?size=0", headers=bearer(token)).status_code == 422
    assert api.get("/api/v1/users?page=x", headers=bearer(token)).status_code == 422
    one = api.get("/api/v1/users/a1", headers=bearer(token)).get_json()
    assert one["roles"] == ["reader"] and one["active"] is True


# --- tokens ----------------------------------------------------------------------------------

def test_tokens_are_shown_once_expire_and_are_revoked_by_owner_or_admin(khoso, api):
    admin = bearer(account(khoso, "quan-tri", "admin"))
    account(khoso, "doc-gia", "reader")
    account(khoso, "nguoi-khac", "reader")
    issued = api.post("/api/v1/users/doc-gia/tokens", headers=admin,
                      json={"expires": "12h", "label": "máy đọc"})
    assert issued.status_code == 201
    new = issued.get_json()
    lifetime = (dt.datetime.fromisoformat(new["expires_at"])
                - dt.datetime.fromisoformat(new["created_at"]))
    assert lifetime == dt.timedelta(hours=12) and new["token"].startswith(new["prefix"])
    assert issued.headers["Cache-Control"] == "no-store"
    reader = bearer(new["token"])
    assert api.get("/api/v1/me", headers=reader).get_json()["username"] == "doc-gia"
    listed = api.get("/api/v1/users/doc-gia/tokens", headers=admin).get_json()
    assert listed["total"] == 2 and all("token" not in t for t in listed["items"])
    mine = api.get("/api/v1/me/tokens", headers=reader).get_json()
    assert {t["label"] for t in mine["items"]} == {"máy đọc", "test"}
    assert next(t for t in mine["items"] if t["id"] == new["id"])["last_used_at"] is not None

    other = bearer(account(khoso, "thu-ba", "reader"))
    assert api.delete(f"/api/v1/tokens/{new['id']}", headers=other).status_code == 404
    revoked = api.delete(f"/api/v1/tokens/{new['id']}", headers=reader)
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert api.get("/api/v1/me", headers=reader).status_code == 401
    again = api.delete(f"/api/v1/tokens/{new['id']}", headers=admin)
    assert again.status_code == 200 and again.get_json()["revoked_at"] == revoked.get_json()[
        "revoked_at"]

    second = api.post("/api/v1/users/doc-gia/tokens", headers=admin, json={}).get_json()
    assert (dt.datetime.fromisoformat(second["expires_at"])
            - dt.datetime.fromisoformat(second["created_at"])) == dt.timedelta(days=90)
    with khoso.catalog.session() as s:
        row = s.get(ApiToken, second["id"])
        assert row.token_hash == hashlib.sha256(second["token"].encode()).hexdigest()
        row.expires_at = core.aware(row.created_at) - dt.timedelta(seconds=1)
    expired = api.get("/api/v1/me", headers=bearer(second["token"]))
    assert expired.status_code == 401 and expired.get_json()["code"] == "AUTH003"
    states = {t["id"]: t["state"] for t in api.get("/api/v1/users/doc-gia/tokens",
                                                   headers=admin).get_json()["items"]}
    assert states[new["id"]] == "revoked" and states[second["id"]] == "expired"
    assert {"token.issue", "token.revoke"} <= set(actions(khoso))


@pytest.mark.parametrize(("expires", "code"), [
    ("never", "ACC012"), ("366d", "ACC012"), ("9000h", "ACC012"), ("0d", "ACC011"),
    ("90", "ACC011"), ("-1d", "ACC011"), ("1w", "ACC011"), ("90 ngày", "ACC011"),
])
def test_token_lifetimes_are_bounded(khoso, expires, code):
    token = account(khoso, "quan-tri", "admin")
    client = create_app(settings_for(khoso), khoso.catalog).test_client()
    response = client.post("/api/v1/users/quan-tri/tokens", headers=bearer(token),
                           json={"expires": expires})
    assert response.status_code == 422 and response.get_json()["code"] == "ACC016"
    assert [i["code"] for i in response.get_json()["issues"]] == [code]
    assert client.post("/api/v1/users/quan-tri/tokens", headers=bearer(token),
                       json={"expires": "365d"}).status_code == 201


def test_disabling_an_account_stops_its_tokens_and_sessions_at_once(khoso):
    admin = bearer(account(khoso, "quan-tri", "admin"))
    reader_token = bearer(account(khoso, "doc-gia", "reader"))
    admin_client = create_app(settings_for(khoso), khoso.catalog).test_client()
    reader_client = create_app(settings_for(khoso), khoso.catalog).test_client()
    assert login(reader_client, "doc-gia").status_code == 200
    assert reader_client.get("/api/v1/me").status_code == 200
    disabled = admin_client.post("/api/v1/users/doc-gia/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.get_json()["active"] is False
    assert reader_client.get("/api/v1/me").status_code == 401
    assert admin_client.get("/api/v1/me", headers=reader_token).status_code == 401
    refused = admin_client.post("/api/v1/users/doc-gia/tokens", headers=admin, json={})
    assert refused.status_code == 409 and refused.get_json()["code"] == "ACC014"
    assert login(reader_client, "doc-gia").status_code == 401
    assert admin_client.post("/api/v1/users/doc-gia/enable", headers=admin).status_code == 200
    assert admin_client.get("/api/v1/me", headers=reader_token).status_code == 200
    assert reader_client.get("/api/v1/me").status_code == 401  # that session stays closed
    assert login(reader_client, "doc-gia").status_code == 200
    assert {"user.disable", "user.enable"} <= set(actions(khoso))


# --- hostile requests ------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Bearer  ", "Bearer garbage", "Bearer a b", "Basic dXNlcjpwdw==",
    "Bearer " + "x" * 10_000, "Bearer ỹ-not-a-token", "Token abc", "",
])
def test_a_bad_authorization_header_is_401_with_a_code(khoso, api, header):
    response = api.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401 and response.get_json()["code"] == "AUTH003"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive_and_may_take_two_spaces(khoso, api, scheme):
    token = account(khoso, "doc-gia", "reader")
    for header in (f"{scheme} {token}", f"{scheme}  {token}", f"  {scheme} {token}  "):
        assert api.get("/api/v1/me", headers={"Authorization": header}).status_code == 200


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"json": {}}, 422),
    ({"json": {"username": "doc-gia"}}, 422),
    ({"json": {"username": 1, "password": PASSWORD}}, 422),
    ({"json": {"username": "doc-gia", "password": None}}, 422),
    ({"json": {"username": "doc-gia", "password": PASSWORD, "remember": True}}, 422),
    ({"json": ["doc-gia", PASSWORD]}, 422),
    ({"json": {"username": "x" * 100_000, "password": PASSWORD}}, 422),
    ({"json": {"username": "doc-gia", "password": "p" * 100_000}}, 422),
    ({"json": {"username": "", "password": PASSWORD}}, 422),
    ({"data": "{username", "content_type": "application/json"}, 400),
    ({"json": {"username": "đỗ-gia-😀", "password": PASSWORD}}, 401),
    ({"json": {"username": "doc\x00gia", "password": "a\x00b"}}, 401),
    ({"data": '{"username": "doc-gia", "password": "\\ud800"}',
      "content_type": "application/json"}, 401),
    ({"data": '{"username": "\\udfff", "password": "x"}', "content_type": "application/json"},
     401),
])
def test_hostile_login_bodies_get_a_code_never_a_500(khoso, api, kwargs, status):
    account(khoso, "doc-gia", "reader")
    response = api.post(LOGIN, **kwargs)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] in {"API001", "API201", "ACC020"}  # API201: not JSON
    assert "Set-Cookie" not in response.headers


def test_hostile_paths_are_404_never_a_500(khoso, api):
    admin = bearer(account(khoso, "quan-tri", "admin"))
    for method, path in [("GET", "/api/v1/users/%00"), ("GET", "/api/v1/users/" + "x" * 5000),
                         ("POST", "/api/v1/users/%C3%BF%00/disable"),
                         ("GET", "/api/v1/users/ĐỖ/tokens"),
                         ("DELETE", "/api/v1/tokens/99999999999999999999"),
                         ("DELETE", "/api/v1/tokens/0"), ("DELETE", "/api/v1/tokens/-1"),
                         ("DELETE", "/api/v1/tokens/abc")]:
        response = api.open(path, method=method, headers=admin)
        assert response.status_code == 404, (path, response.get_json())
        assert response.get_json()["code"] in {"GEN002", "API002"}


# --- the role matrix and the OpenAPI document ------------------------------------------------

def test_the_role_matrix(khoso, api):
    tokens = {role: account(khoso, f"vai-{role.replace('_', '-')}", role,
                            agency=ORGAN if role == "agency_submitter" else None)
              for role in ROLES if role != "anonymous"}
    wrong = []
    for method, path, expected in ROWS:
        assert set(expected) == set(ROLES), path
        for role, status in expected.items():
            headers = bearer(tokens[role]) if role in tokens else {}
            got = api.open(path, method=method, headers=headers).status_code
            if got != status:
                wrong.append((method, path, role, status, got))
    assert wrong == []


def test_the_openapi_document_describes_every_status_of_the_matrix(khoso, api):
    from openapi_spec_validator import validate

    spec = api.get("/api/v1/openapi.json").get_json()
    validate(spec)
    for method, path, expected in ROWS:
        template = (path.replace("/nobody", "/{name}").replace("/999999", "/{token_id}"))
        operation = spec["paths"][template][method.lower()]
        documented = {int(code) for code in operation["responses"]}
        assert set(expected.values()) <= documented, (method, path, documented)


# --- passwords changed and reset -------------------------------------------------------------

def test_changing_ones_password_needs_the_current_one_and_closes_other_sessions(khoso):
    account(khoso, "doc-gia", "reader")
    here = create_app(settings_for(khoso, login_window=900), khoso.catalog).test_client()
    elsewhere = create_app(settings_for(khoso, login_window=900), khoso.catalog).test_client()
    csrf = login(here, "doc-gia").get_json()["csrf_token"]
    assert login(elsewhere, "doc-gia").status_code == 200
    new = "Mật khẩu mới 2027"

    def change(current: str, replacement: str):
        return here.post("/api/v1/me/password", headers={"X-CSRF-Token": csrf},
                         json={"current_password": current, "new_password": replacement})

    wrong = change("Sai mật khẩu 1", new)
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "ACC019"
    weak = change(PASSWORD, "ngắn")
    assert weak.status_code == 422 and weak.get_json()["code"] == "ACC023"
    assert {i["path"] for i in weak.get_json()["issues"]} == {"new_password"}
    assert here.post("/api/v1/me/password", json={"current_password": PASSWORD,
                                                  "new_password": new}).status_code == 403
    assert change(PASSWORD, new).status_code == 204
    assert here.get("/api/v1/me").status_code == 200  # the session it was changed in stays
    assert elsewhere.get("/api/v1/me").status_code == 401  # the others are closed
    assert login(elsewhere, "doc-gia").status_code == 401
    assert login(elsewhere, "doc-gia", new).status_code == 200
    for _ in range(5):  # wrong current passwords count as failed logins
        assert change("Sai mật khẩu 1", new).status_code == 403
    limited = change("Sai mật khẩu 1", new)
    assert limited.status_code == 429 and limited.get_json()["code"] == "ACC021"
    assert "user.password" in actions(khoso)


def test_an_admin_resets_a_password_and_the_accounts_sessions_close(khoso, api):
    admin = bearer(account(khoso, "quan-tri", "admin"))
    reader_token = bearer(account(khoso, "doc-gia", "reader"))
    reader = create_app(settings_for(khoso), khoso.catalog).test_client()
    assert login(reader, "doc-gia").status_code == 200
    weak = api.post("/api/v1/users/doc-gia/password", headers=admin,
                    json={"password": "doc-gia-2026-x"})
    assert weak.status_code == 422 and [i["code"] for i in weak.get_json()["issues"]] == ["ACC005"]
    assert api.post("/api/v1/users/khong-co/password", headers=admin,
                    json={"password": "Mật khẩu mới 2027"}).status_code == 404
    done = api.post("/api/v1/users/doc-gia/password", headers=admin,
                    json={"password": "Mật khẩu mới 2027"})
    assert done.status_code == 204
    assert reader.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me", headers=reader_token).status_code == 200  # tokens stay
    assert login(reader, "doc-gia", "Mật khẩu mới 2027").status_code == 200


@pytest.mark.parametrize("name", ["anonymous", "system", "cli"])
def test_reserved_usernames_are_refused(khoso, name):
    token = account(khoso, "quan-tri", "admin")
    client = create_app(settings_for(khoso), khoso.catalog).test_client()
    response = client.post("/api/v1/users", headers=bearer(token),
                           json={"username": name, "password": PASSWORD, "roles": ["reader"]})
    assert response.status_code == 422
    assert [i["code"] for i in response.get_json()["issues"]] == ["ACC018"]
