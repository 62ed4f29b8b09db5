"""Tài khoản, đăng nhập và mã truy cập (accounts, login, tokens)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("accounts", __name__, url_prefix="/api/v1" or None, tag="auth")
