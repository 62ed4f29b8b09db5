"""Bearer-token authentication for the API: ``Authorization: Bearer khoso_…``.

Tokens are issued by an administrator (``khoso token issue``) and stored as SHA-256 only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, jsonify, request

from preservation.accounts import user_for_token


def _unauthorised(status: int, code: str, vi: str, en: str):
    return jsonify({"error": {"code": code, "message": vi, "message_en": en}}), status


def require_role(*roles: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _unauthorised(401, "AUTH003", "Cần mã truy cập (Authorization: Bearer …).",
                                     "An access token is required (Authorization: Bearer …).")
            catalog = current_app.extensions["khoso"]["catalog"]
            with catalog.session() as s:
                user = user_for_token(s, header.removeprefix("Bearer ").strip())
                names = {r.name for r in user.roles} if user else set()
                username = user.username if user else None
            if user is None:
                return _unauthorised(401, "AUTH003", "Mã truy cập không hợp lệ hoặc đã hết hạn.",
                                     "The access token is invalid or expired.")
            if not names & {*roles, "admin"}:
                return _unauthorised(403, "AUTH004", "Tài khoản không có quyền thực hiện thao tác này.",
                                     "This account may not do this.")
            g.username = username
            return view(*args, **kwargs)
        return wrapper
    return decorate
