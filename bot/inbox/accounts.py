"""Inbox pages for accounts: signing in and out, a user's own account (changing their password,
signing out everywhere) and the administrators' users page (add, disable, enable, reset a
password, end sessions, clear sign-in attempts).

GET  /inbox/login, POST /inbox/login, POST /inbox/logout
GET  /inbox/account; POST /inbox/account/password, /inbox/account/signout-others
GET  /inbox/users; POST /inbox/users (add), /inbox/users/<id>/{unlock,disable,enable,revoke,password,roles}
"""
from __future__ import annotations

import asyncio
import re
from typing import Optional

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import func, select

from bot.db.engine import session_scope
from bot.inbox import auth
from bot.inbox.web import ACCOUNT_PAGE, CSRF_ERROR, PREFIX, Scope, Web, field_of, source_of
from bot.db.models import Practice, User, UserPractice, WebSession

MAX_ROW_ID = 2 ** 63 - 1
USER_ACTIONS = ("unlock", "disable", "enable", "revoke", "password", "roles")
ACCOUNT_MESSAGES = {
    "must_change": "An administrator has set a temporary password for you. Choose your own to go on.",
    "password_changed": "Your password is changed. Your other sessions have ended.",
    "signed_out_others": "Every other session of yours has ended.",
    "user_added": "User added.",
    "unlocked": "Sign-in attempts cleared.",
    "disabled": "User disabled: they cannot sign in and their sessions have ended.",
    "enabled": "User enabled.",
    "revoked": "Every session of this user has ended.",
    "password_reset": "Temporary password set. The user must choose their own at their next sign-in; "
                      "their sessions have ended.",
    "roles_set": "Roles changed. The user sees the change at their next page.",
}


def roles_of_form(request: Request) -> list[str]:
    """The roles ticked on a users form (checkboxes named "role")."""
    try:
        values = request.form.getlist("role") or []
    except Exception:  # a body that is not a form
        values = []
    return [value for value in values if isinstance(value, str)]


def add_account_routes(bp: Blueprint, web: Web) -> None:
    """Register the sign-in, account and users pages on the inbox blueprint."""

    # -- signing in and out --

    def login_page(request: Request, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
        token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", token):
            token = auth.secrets.token_urlsafe(32)
        response = web.render("login.html", status=status, csrf=token, error=error, username=username)
        web.cookie(response, auth.LOGIN_CSRF_COOKIE, token, 3600)
        return response

    def login_get(request: Request) -> HTTPResponse:
        with session_scope(web.url) as session:
            if auth.load_session(session, request.cookies.get(auth.SESSION_COOKIE)) is not None:
                return redirect(f"{PREFIX}/", status=303)
        return login_page(request)

    def login_post(request: Request) -> HTTPResponse:
        if not auth.csrf_ok(request.cookies.get(auth.LOGIN_CSRF_COOKIE), field_of(request, "csrf")):
            return web.error_page(None, 403, CSRF_ERROR)
        username = field_of(request, "username")[:100]
        password = field_of(request, "password")[:auth.MAX_PASSWORD_LENGTH]
        if not username or not password:
            return login_page(request, 400, "Enter your username and password.", username)
        source = source_of(request)
        result = auth.authenticate(web.url, username, password, source, request.cookies.get(auth.BROWSER_COOKIE))
        with session_scope(web.url) as session:
            target = f"user:{result.user_id}" if result.user_id else None
            if not result.ok:
                auth.audit(session, result.user_id, "login_throttled" if result.throttled else "login_failed",
                           target, None if result.user_id else "unknown username", source=source)
            elif result.user_id is not None:
                auth.end_session(session, request.cookies.get(auth.SESSION_COOKIE) or "")
                token = auth.start_session(session, result.user_id)
                auth.audit(session, result.user_id, "login", target, source=source)
        if not result.ok:
            return login_page(request, 429 if result.throttled else 401, result.message, username)
        response = redirect(ACCOUNT_PAGE + "?done=must_change" if result.must_change_password else f"{PREFIX}/",
                            status=303)
        web.cookie(response, auth.SESSION_COOKIE, token, auth.SESSION_HOURS * 3600)
        web.cookie(response, auth.LOGIN_CSRF_COOKIE, "", 0)
        web.cookie(response, auth.BROWSER_COOKIE, result.browser_token or "", auth.TRUSTED_BROWSER_DAYS * 86400)
        return response

    @bp.get("/login", name="inbox_login")
    async def login(request: Request) -> HTTPResponse:
        return await asyncio.get_running_loop().run_in_executor(None, login_get, request)

    @bp.post("/login", name="inbox_login_post")
    async def login_submit(request: Request) -> HTTPResponse:
        return await asyncio.get_running_loop().run_in_executor(None, login_post, request)

    @bp.post("/logout", name="inbox_logout")
    @web.guarded(account_page=True)
    def logout(request: Request, scope: Scope) -> HTTPResponse:
        auth.end_session(scope.session, request.cookies.get(auth.SESSION_COOKIE) or "")
        scope.audit("logout", f"user:{scope.viewer.user_id}")
        response = redirect(f"{PREFIX}/login", status=303)
        web.cookie(response, auth.SESSION_COOKIE, "", 0)
        return response

    # -- a user's own account --

    def account_view(scope: Scope, status: int = 200, error: str = "", notice: str = "") -> HTTPResponse:
        sessions = scope.session.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id == scope.viewer.user_id)) or 0
        return web.render("account.html", status=status, viewer=scope.viewer, error=error, notice=notice,
                          sessions=sessions, min_length=auth.MIN_PASSWORD_LENGTH, idle=auth.IDLE_MINUTES)

    @bp.get("/account", name="inbox_account")
    @web.guarded(account_page=True)
    def account_page(request: Request, scope: Scope) -> HTTPResponse:
        scope.audit("view_account", f"user:{scope.viewer.user_id}")
        return account_view(scope, notice=ACCOUNT_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/account/password", name="inbox_account_password")
    @web.guarded(account_page=True)
    def change_password(request: Request, scope: Scope) -> HTTPResponse:
        current, new = field_of(request, "current"), field_of(request, "new")
        if not auth.check_password(scope.session, scope.viewer.user_id, current[:auth.MAX_PASSWORD_LENGTH]):
            scope.audit("change_password_refused", f"user:{scope.viewer.user_id}", "wrong current password")
            return account_view(scope, 400, "Your password is not changed: the current password is wrong.")
        if new != field_of(request, "again"):
            return account_view(scope, 400, "Your password is not changed: the two new passwords differ.")
        if new == current:
            return account_view(scope, 400, "Your password is not changed: the new password is the same as the old.")
        user = scope.session.get(User, scope.viewer.user_id)
        try:
            with scope.session.begin_nested():
                auth.set_password(scope.session, user, new, by_admin=False,
                                  keep_token=request.cookies.get(auth.SESSION_COOKIE))
        except auth.AccountError as exc:
            return account_view(scope, 400, f"Your password is not changed: {exc}.")
        scope.audit("change_password", f"user:{user.id}")
        return redirect(f"{ACCOUNT_PAGE}?done=password_changed", status=303)

    @bp.post("/account/signout-others", name="inbox_account_signout_others")
    @web.guarded(account_page=True)
    def sign_out_others(request: Request, scope: Scope) -> HTTPResponse:
        ended = auth.revoke_sessions(scope.session, scope.viewer.user_id,
                                     keep_token=request.cookies.get(auth.SESSION_COOKIE))
        scope.audit("revoke_sessions", f"user:{scope.viewer.user_id}", f"{ended} other sessions ended")
        return redirect(f"{ACCOUNT_PAGE}?done=signed_out_others", status=303)

    # -- users (administrators) --

    def users_view(scope: Scope, status: int = 200, error: str = "", notice: str = "",
                   form: Optional[dict] = None) -> HTTPResponse:
        session = scope.session
        practices = session.scalars(select(Practice).order_by(Practice.name)).all()
        names = {p.id: f"{p.name} ({p.ods_code})" for p in practices}
        links: dict[int, list[str]] = {}
        for user_id, practice_id in session.execute(select(UserPractice.user_id, UserPractice.practice_id)):
            links.setdefault(user_id, []).append(names.get(practice_id, str(practice_id)))
        open_sessions = dict(session.execute(select(WebSession.user_id, func.count()).where(
            WebSession.expires_at > scope.now).group_by(WebSession.user_id)).all())
        users = [dict(user=u, practices=sorted(links.get(u.id, [])), sessions=open_sessions.get(u.id, 0),
                      roles={role.value for role in auth.roles_of(u)},
                      throttled=auth.throttled_account(session, u.username, scope.now),
                      disabled=u.disabled_at is not None, myself=u.id == scope.viewer.user_id)
                 for u in session.scalars(select(User).order_by(User.username))]
        return web.render("users.html", status=status, viewer=scope.viewer, users=users, practices=practices,
                          error=error, notice=notice, min_length=auth.MIN_PASSWORD_LENGTH,
                          roles=[role.value for role in auth.StaffRole],
                          form=form or {"username": "", "phone": "", "roles": ["coordinator"], "admin": False,
                                        "practices": []})

    @bp.get("/users", name="inbox_users")
    @web.guarded(admin=True)
    def users_page(request: Request, scope: Scope) -> HTTPResponse:
        scope.audit("view_users")
        return users_view(scope, notice=ACCOUNT_MESSAGES.get(request.args.get("done", ""), ""))

    @bp.post("/users", name="inbox_users_add")
    @web.guarded(admin=True)
    def users_add(request: Request, scope: Scope) -> HTTPResponse:
        try:
            chosen = [int(v) for v in request.form.getlist("practice") or []]
        except (ValueError, TypeError):
            chosen = []
        username, phone = field_of(request, "username"), field_of(request, "phone")
        roles, admin = roles_of_form(request), field_of(request, "admin") == "yes"
        form = {"username": username, "phone": phone, "roles": roles, "admin": admin, "practices": chosen}
        practices = scope.session.scalars(select(Practice).where(Practice.id.in_(chosen))).all() if chosen else []
        try:
            with scope.session.begin_nested():
                user = auth.create_user(scope.session, username, field_of(request, "password"), practices,
                                        roles=roles, admin=admin, phone=phone)
        except auth.AccountError as exc:
            return users_view(scope, status=400, error=f"The user was not added: {exc}.", form=form)
        scope.audit("add_user", f"user:{user.id}", f"roles {auth.describe_roles(auth.roles_of(user), user.is_admin)}; "
                                                   f"practices {sorted(p.id for p in practices)}")
        return redirect(f"{PREFIX}/users?done=user_added", status=303)

    def other_user(scope: Scope, user_id: int) -> Optional[User]:
        return scope.session.get(User, user_id) if 0 < user_id <= MAX_ROW_ID else None

    @bp.post("/users/<user_id:int>/<action:str>", name="inbox_users_action")
    @web.guarded(admin=True)
    def users_action(request: Request, scope: Scope, user_id: int, action: str) -> HTTPResponse:
        user = other_user(scope, user_id)
        if user is None or action not in USER_ACTIONS:
            return web.not_found(scope, f"user:{user_id}")
        if action in ("disable", "password") and user.id == scope.viewer.user_id:
            return users_view(scope, 400, "You cannot disable or reset your own account here: "
                                          "use My account to change your password.")
        if action == "unlock":
            auth.clear_attempts(scope.session, user.username)
            scope.audit("unlock_user", f"user:{user.id}")
            return redirect(f"{PREFIX}/users?done=unlocked", status=303)
        if action in ("disable", "enable"):
            auth.set_disabled(scope.session, user, action == "disable", scope.now)
            scope.audit(f"{action}_user", f"user:{user.id}")
            return redirect(f"{PREFIX}/users?done={action}d", status=303)
        if action == "revoke":
            ended = auth.revoke_sessions(scope.session, user.id)
            scope.audit("revoke_sessions", f"user:{user.id}", f"{ended} sessions ended")
            return redirect(f"{PREFIX}/users?done=revoked", status=303)
        if action == "roles":
            try:
                with scope.session.begin_nested():
                    roles = auth.set_roles(scope.session, user, roles_of_form(request))
            except auth.AccountError as exc:
                return users_view(scope, 400, f"The roles of {user.username} were not changed: {exc}.")
            scope.audit("set_roles", f"user:{user.id}", f"roles {auth.describe_roles(roles)}")
            return redirect(f"{PREFIX}/users?done=roles_set", status=303)
        try:
            with scope.session.begin_nested():
                auth.set_password(scope.session, user, field_of(request, "password"), by_admin=True)
        except auth.AccountError as exc:
            return users_view(scope, 400, f"The password of {user.username} was not reset: {exc}.")
        scope.audit("reset_password", f"user:{user.id}")
        return redirect(f"{PREFIX}/users?done=password_reset", status=303)
