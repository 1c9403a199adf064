"""OpenID Connect sign-in (``/auth/oidc/login``, ``/auth/oidc/callback``) and the provider's
side of sign-out, with Authlib: discovery from ``PARLOR_OIDC_ISSUER``, the authorization code
flow with PKCE (S256), state and nonce, and the ID token's signature, issuer, audience and
nonce checked before any claim is believed. Who the claims sign in as is
``app/services/oidc.py``'s business.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user

from app.services import oidc as rules
from app.web.forms import LoginForm
from app.web.next_page import safe_next

bp = Blueprint("oidc", __name__, url_prefix="/auth/oidc")

CLIENT = "parlor"
ID_TOKEN = "oidc_id_token"  # noqa: S105 - a session key name; kept in the session for the provider's sign-out (id_token_hint)
NEXT = "oidc_next"


def init_oidc(app: Flask) -> None:
    """Register the provider's client on ``app`` when ``PARLOR_OIDC_ISSUER`` is set."""
    issuer = app.config.get("PARLOR_OIDC_ISSUER")
    if not issuer:
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=app.config["PARLOR_OIDC_CLIENT_ID"],
        client_secret=app.config.get("PARLOR_OIDC_CLIENT_SECRET"),
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["PARLOR_OIDC_SCOPES"],
                       "code_challenge_method": "S256", "default_timeout": 10},
    )


def _provider_errors() -> tuple[type[Exception], ...]:
    """Authlib's, the JOSE library's and the HTTP client's errors. Imported when used: the
    OpenID client and what it loads cost a worker ~30 MB, paid only where SSO is set up."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError
    from requests import RequestException

    return AuthlibBaseError, JoseError, RequestException


def enabled() -> bool:
    return bool(current_app.config.get("PARLOR_OIDC_ISSUER"))


def _client():
    return current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT)


def _refuse(message: str, status: int = 403):
    return render_template("auth/login.html", form=LoginForm(), error=message), status


@bp.get("/login")
def login():
    """Send the browser to the provider (state, nonce and PKCE verifier kept in the session)."""
    if not enabled():
        return _refuse("Single sign-on is not set up.", 404)
    session[NEXT] = safe_next(request.args.get("next"))
    try:
        return _client().authorize_redirect(url_for("oidc.callback", _external=True))
    except (*_provider_errors(), ValueError):
        current_app.logger.warning("the OpenID provider could not be reached", exc_info=True)
        return _refuse("The sign-in provider cannot be reached right now. Try again later.",
                       503)


@bp.get("/callback")
def callback():
    """Check the provider's answer (state, code with PKCE, ID token with nonce), then sign in."""
    if not enabled():
        return _refuse("Single sign-on is not set up.", 404)
    client = _client()
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise ValueError("the provider sent no ID token")
        # Claims beyond the ID token's (groups, e-mail) come from the userinfo endpoint, for
        # the same subject only.
        if client.load_server_metadata().get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **{k: v for k, v in claims.items() if k not in extra}}
    except (*_provider_errors(), ValueError) as error:
        current_app.logger.info("OpenID sign-in refused: %s", type(error).__name__)
        rules.record_refusal(f"the provider's answer failed its checks ({_reason(error)})",
                             ip=request.remote_addr)
        return _refuse("Single sign-on failed: the provider's answer could not be verified. "
                       "Try again.", 400)
    issuer = client.load_server_metadata().get("issuer") or current_app.config[
        "PARLOR_OIDC_ISSUER"]
    try:
        user = rules.sign_in(issuer, claims, rules.OidcRules.from_config(current_app.config),
                             ip=request.remote_addr)
    except rules.SignInRefused as refusal:
        return _refuse(str(refusal))
    target = session.get(NEXT) or url_for("chat.index")
    session.clear()  # nothing from before the sign-in carries over into the new session
    login_user(user)
    if token.get("id_token"):
        session[ID_TOKEN] = token["id_token"]
    return redirect(target)


def _reason(error: Exception) -> str:
    return str(getattr(error, "error", "") or type(error).__name__)[:80]


def end_session_redirect(id_token: str | None):
    """The provider's sign-out (RP-initiated logout) back to the login page, when it offers
    one and this session came from it; else None."""
    if not enabled() or not id_token:
        return None
    client = _client()
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        return client.logout_redirect(
            post_logout_redirect_uri=url_for("auth.login", _external=True),
            id_token_hint=id_token, client_id=client.client_id)
    except (*_provider_errors(), RuntimeError, ValueError):
        current_app.logger.warning("the provider's sign-out is unavailable", exc_info=True)
        return None
