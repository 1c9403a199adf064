"""Sign-in and sign-out."""

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
from flask_login import current_user, login_required, login_user, logout_user

from app import limits
from app.extensions import login_manager
from app.services import accounts
from app.web import oidc
from app.web.forms import LoginForm
from app.web.next_page import safe_next

bp = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts.load_session_user)
    oidc.init_oidc(app)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("chat.index"))
    form = LoginForm()
    error = None
    if request.method == "POST" and not current_app.config["PARLOR_PASSWORD_LOGIN"]:
        # SSO only: a password, right or wrong, is never checked.
        return render_template("auth/login.html", form=form,
                               error="Password sign-in is off; use single sign-on."), 403
    if form.validate_on_submit():
        refusal = limits.rate_limits().login_refusal(form.email.data)
        if refusal is not None:  # counted per account and per client address
            return (render_template("auth/login.html", form=form, error=refusal.message),
                    refusal.status, {"Retry-After": str(refusal.retry_after)})
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            target = safe_next(request.args.get("next"))
            session.clear()  # nothing from before the sign-in carries over into the new session
            login_user(user, remember=form.remember.data)
            return redirect(target)
        limits.rate_limits().count_failed_login(form.email.data)
        accounts.record_failed_login(form.email.data, ip=request.remote_addr)
        error = "Wrong e-mail or password."
    elif request.method == "POST":
        error = "Enter your e-mail and password."
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout():
    id_token = session.pop(oidc.ID_TOKEN, None)
    logout_user()
    # A session from the provider ends there too (RP-initiated logout), when it offers that.
    return oidc.end_session_redirect(id_token) or redirect(url_for("auth.login"))
