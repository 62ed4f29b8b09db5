"""The role matrix of the accounts endpoints: the status each caller gets.

Each request carries no body and, for a role, that role's bearer token (``agency_submitter``
bound to an agency). ``nobody`` is an account that does not exist and 999999 a token id that
does not exist: an allowed caller gets 404 for them, a refused one 401 (anonymous) or 403.
A POST whose body is required (``/users``, ``/users/{name}/password``, ``/me/password``) is
422 without one for a caller allowed to make it (the role check comes first), and a login
without a body is 422 for everyone. Logging out needs no account (it clears the cookie).
"""

ROLES = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer", "reader")


def _only_admin(allowed: int) -> dict[str, int]:
    return {"anonymous": 401, "admin": allowed, "archivist": 403, "agency_submitter": 403,
            "preservation_officer": 403, "reader": 403}


def _signed_in(allowed: int) -> dict[str, int]:
    return {role: 401 if role == "anonymous" else allowed for role in ROLES}


ROWS = [
    ("POST", "/api/v1/auth/login", {role: 422 for role in ROLES}),
    ("POST", "/api/v1/auth/logout", {role: 204 for role in ROLES}),
    ("GET", "/api/v1/me", _signed_in(200)),
    ("GET", "/api/v1/me/tokens", _signed_in(200)),
    ("POST", "/api/v1/me/password", _signed_in(422)),
    ("GET", "/api/v1/users", _only_admin(200)),
    ("POST", "/api/v1/users", _only_admin(422)),
    ("GET", "/api/v1/users/nobody", _only_admin(404)),
    ("POST", "/api/v1/users/nobody/disable", _only_admin(404)),
    ("POST", "/api/v1/users/nobody/enable", _only_admin(404)),
    ("POST", "/api/v1/users/nobody/password", _only_admin(422)),
    ("POST", "/api/v1/users/nobody/tokens", _only_admin(404)),
    ("GET", "/api/v1/users/nobody/tokens", _only_admin(404)),
    ("DELETE", "/api/v1/tokens/999999", _signed_in(404)),
]
