"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import limits
from app.extensions import login_manager
from app.services import accounts
from app.web.forms import LoginForm

bp = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts.load_session_user)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would help a phishing page."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("chat.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("chat.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        refusal = limits.rate_limits().login_refusal(form.email.data)
        if refusal is not None:  # counted per account and per client address
            return (render_template("auth/login.html", form=form, error=refusal.message),
                    refusal.status, {"Retry-After": str(refusal.retry_after)})
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            target = _safe_next(request.args.get("next"))
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
    logout_user()
    return redirect(url_for("auth.login"))
