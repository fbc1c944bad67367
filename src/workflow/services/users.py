"""Users, tokens and administrators (spec §3.2, §3.3, §5)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..config import Settings
from ..domain import validation as v
from ..errors import (
    BadRequest,
    Conflict,
    FieldErrors,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
    WorkflowError,
)
from ..limits import FailureThrottle
from ..models import Token, User, utcnow
from ..security import Cipher, hash_password, new_token, token_digest, verify_password


async def register(session: AsyncSession, ctx, caller: User | None, data: dict[str, Any]) -> User:
    """A new user; the first one of an empty platform becomes an administrator. In `admin_only` mode only
    administrators register users, except that first one. Serialised (`ctx.user_lock` and, on PostgreSQL,
    a transaction lock) and committed before the lock is released: two first registrations cannot both
    become administrators."""
    async with ctx.user_lock:
        await repo.lock_users(session)
        user = await _register(session, ctx.settings, caller, data)
        await session.commit()
    return user


async def _register(session: AsyncSession, settings: Settings, caller: User | None, data: dict[str, Any]) -> User:
    mode = settings.registration_mode
    first = await repo.count_users(session) == 0
    if mode == "disabled":
        raise PermissionDenied("Registration is disabled")
    if mode == "admin_only" and not first and not (caller and caller.is_superuser):
        raise PermissionDenied()

    errors: dict[str, list[str]] = {}
    username = v.required_string(errors, data, "username", max_length=150)
    if username is not None:
        problems = v.username_errors(username)
        if not problems and await repo.user_by_name(session, username) is not None:
            problems = ["A user with that username already exists."]
        if problems:
            errors["username"] = problems
    password = v.required_string(errors, data, "password", max_length=128)
    email = v.optional_string(errors, data, "email", 254)
    if email and not v.email_valid(email):
        errors.setdefault("email", []).append("Enter a valid email address.")
    first_name = v.optional_string(errors, data, "first_name", 150)
    last_name = v.optional_string(errors, data, "last_name", 150)
    if errors:
        raise FieldErrors(errors)

    now = utcnow()
    user = User(username=username, password=await hash_password(password), email=email,
                first_name=first_name, last_name=last_name, is_superuser=first,
                is_staff=first, last_login=now, date_joined=now)
    session.add(user)
    await session.flush()
    return user


async def _issue_token(session: AsyncSession, cipher: Cipher, user: User) -> str:
    token = new_token()
    existing = await repo.token_for_user(session, user.id)
    if existing is None:
        session.add(Token(user_id=user.id, digest=token_digest(token), encrypted=cipher.encrypt(token)))
    else:
        existing.digest, existing.encrypted, existing.created = token_digest(token), cipher.encrypt(token), utcnow()
    await session.flush()
    return token


def _throttle(ctx) -> FailureThrottle:
    if ctx.logins is None:
        ctx.logins = FailureThrottle(ctx.settings.login_throttle_window)
    return ctx.logins


async def login(session: AsyncSession, ctx, data: dict[str, Any], address: str) -> str:
    """Get-or-create: every login returns the same token until it is regenerated.

    Failed logins are counted per username and per client address (`address`); past either limit in the
    window the answer is 429 with Retry-After, before any password work. Unknown and inactive users cost
    the same argon2 verification as a wrong password."""
    errors: dict[str, list[str]] = {}
    username = v.required_string(errors, data, "username")
    password = v.required_string(errors, data, "password")
    if errors:
        raise FieldErrors(errors)
    settings, throttle = ctx.settings, _throttle(ctx)
    keys = ((f"user:{username.lower()}", settings.login_failures_per_user),
            (f"address:{address}", settings.login_failures_per_address))
    waits = [wait for key, limit in keys if (wait := throttle.retry_after(key, limit)) is not None]
    if waits:
        raise Throttled(max(waits))
    # Counted as failed before the check, so concurrent attempts cannot all pass the limit meanwhile.
    for key, limit in keys:
        throttle.fail(key, limit)
    user = await repo.user_by_name(session, username)
    known = user is not None and user.is_active
    if not await verify_password(user.password if known else None, password) or not known:
        raise FieldErrors.one("non_field_errors", "Unable to log in with provided credentials.")
    throttle.clear(keys[0][0])
    throttle.forgive(keys[1][0])
    cipher = ctx.cipher
    existing = await repo.token_for_user(session, user.id)
    if existing is not None:
        try:
            return cipher.decrypt(existing.encrypted)
        except ValueError:
            pass  # the secret key changed: issue a new token
    return await _issue_token(session, cipher, user)


async def _target(session: AsyncSession, caller: User, username: str | None) -> User:
    """The user a request names: oneself, or — for admins only — someone else."""
    if not username or username == caller.username:
        return caller
    if not caller.is_superuser:
        raise PermissionDenied()
    user = await repo.user_by_name(session, username)
    if user is None:
        raise NotFound("User")
    return user


LAST_ADMIN = ("{} is the last administrator: make another user an administrator first (the last user of "
              "all may cancel their account)")


async def _refuse_last_admin(session: AsyncSession, user: User, leaving: bool) -> None:
    """While other users remain, the platform keeps an active administrator: 409. `leaving`: the user's
    account goes away (so an administrator who is the last user of all may go)."""
    if not (user.is_superuser and user.is_active) or await repo.count_active_admins(session) > 1:
        return
    if leaving and await repo.count_users(session) <= 1:
        return
    raise Conflict(LAST_ADMIN.format(user.username))


async def cancel(session: AsyncSession, ctx, caller: User, data: dict[str, Any]) -> None:
    async with ctx.user_lock:
        await repo.lock_users(session)
        user = await _target(session, caller, data.get("username"))
        await _refuse_last_admin(session, user, leaving=True)
        await _cancel(session, user)
        await session.commit()


async def _cancel(session: AsyncSession, user: User) -> None:
    if await repo.count_apps_owned(session, user.username):
        raise Conflict(f"{user.username} still has applications assigned. Delete or transfer ownership")
    protected = await repo.protected_rows_owned(session, user.username)
    if protected:  # upstream: ProtectedError -> 409
        raise Conflict(f"{user.username} still owns objects ({', '.join(protected)}) and cannot be deleted")
    await repo.remove_user_permissions(session, user.username)
    await session.delete(user)


async def passwd(session: AsyncSession, caller: User, data: dict[str, Any]) -> None:
    new_password = data.get("new_password")
    if not new_password:
        raise BadRequest("new_password is a required field")
    user = await _target(session, caller, data.get("username"))
    if not caller.is_superuser:
        password = data.get("password")
        if not password:
            raise BadRequest("password is a required field")
        if not await verify_password(user.password, str(password)):
            raise NotAuthenticated("Current password does not match")
    user.password = await hash_password(str(new_password))


async def regenerate(session: AsyncSession, cipher: Cipher, caller: User, data: dict[str, Any]) -> str | None:
    """New token for oneself, another user (admin) or everyone (admin, returns None)."""
    if data.get("all") not in (None, False):  # `{"all": false}` is one's own token, not everyone's
        if not caller.is_superuser:
            raise PermissionDenied()
        await repo.delete_all_tokens(session)
        return None
    user = await _target(session, caller, data.get("username"))
    return await _issue_token(session, cipher, user)


async def set_admin(session: AsyncSession, ctx, caller: User, username: Any, admin: bool) -> None:
    if not caller.is_superuser:
        raise PermissionDenied()
    if not username or not isinstance(username, str):
        raise FieldErrors.one("username", v.REQUIRED)
    async with ctx.user_lock:
        await repo.lock_users(session)
        user = await repo.user_by_name(session, username)
        if user is None:
            raise NotFound("User")
        if not admin:
            await _refuse_last_admin(session, user, leaving=False)
        user.is_superuser = user.is_staff = admin
        await session.commit()


__all__ = ["register", "login", "cancel", "passwd", "regenerate", "set_admin", "WorkflowError"]
