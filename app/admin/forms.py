"""Flask-WTF forms of the admin screens; labels are the accessible names tests rely on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.accounts import MIN_PASSWORD
from app.services.roles import MAX_BUDGET, MAX_COST_BUDGET
from app.vendors import KINDS, STORABLE_KINDS
from app.vendors.registry import FIELDS

PASSWORD_LENGTH = Length(min=MIN_PASSWORD, max=1024,
                         message=f"The password needs {MIN_PASSWORD} to 1024 characters.")
BUDGET_RANGE = NumberRange(min=0, max=MAX_BUDGET,
                           message=f"The monthly budget is a number of tokens, 0 to "
                                   f"{MAX_BUDGET:,}.")
COST_RANGE = NumberRange(min=0, max=MAX_COST_BUDGET - 1,
                         message=f"Enter 0 to {MAX_COST_BUDGET - 1:,} US dollars.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A bare form for POST-only buttons (delete, revoke, enable): just the CSRF token."""


class NewUserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
    display_name = StringField("Display name", validators=[Length(max=120)])
    role = SelectField("Role", validators=[DataRequired()])
    password = PasswordField("Initial password", validators=[DataRequired(), PASSWORD_LENGTH])


class RoleChangeForm(FlaskForm):
    role = SelectField("Role", validators=[DataRequired()])


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), PASSWORD_LENGTH])
    revoke_keys = BooleanField("Also revoke their API keys")


class RoleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    description = StringField("Description", validators=[Length(max=255)])
    permissions = CheckboxesField("Permissions")
    restrict_models = BooleanField("Only the models chosen below")
    models = CheckboxesField("Models", validate_choice=False)
    other_models = TextAreaField("Other model names or vendor/*", validators=[Length(max=5000)])
    rate_limit = StringField("Rate limit", validators=[Length(max=64)])
    monthly_token_budget = IntegerField("Monthly token budget",
                                        validators=[Optional(), NumberRange(min=0)])
    monthly_cost_budget = DecimalField("Monthly dollar budget", places=None,
                                       validators=[Optional(), COST_RANGE])


class TeamForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    description = StringField("Description", validators=[Length(max=255)])
    allowed_models = TextAreaField("Models the team may use", validators=[Length(max=5000)])
    rate_limit = StringField("Rate limit", validators=[Length(max=64)])
    monthly_token_budget = IntegerField("Monthly token budget",
                                        validators=[Optional(), BUDGET_RANGE])
    monthly_cost_budget = DecimalField("Monthly dollar budget", places=None,
                                       validators=[Optional(), COST_RANGE])


class KeyTeamForm(FlaskForm):
    """Which team a key serves (a service key) or none (its owner's team)."""

    team = SelectField("Team", validate_choice=False)


class TeamMemberForm(FlaskForm):
    email = StringField("Member email", validators=[DataRequired(), Length(max=255)])


class NewKeyForm(FlaskForm):
    email = StringField("Owner email", validators=[DataRequired(), Length(max=255)])
    name = StringField("Key name", validators=[Length(max=120)])
    scopes = StringField("Scopes", validators=[Length(max=200)])
    expires_days = IntegerField("Expires in days", validators=[Optional(),
                                                              NumberRange(min=1, max=3650)])
    rate_limit = StringField("Rate limit", validators=[Length(max=64)])
    monthly_token_budget = IntegerField("Monthly token budget",
                                        validators=[Optional(), BUDGET_RANGE])


class BudgetForm(FlaskForm):
    """A user's or a key's own monthly token and dollar budgets; empty clears one."""

    monthly_token_budget = IntegerField("Monthly token budget",
                                        validators=[Optional(), BUDGET_RANGE])
    monthly_cost_budget = DecimalField("Monthly dollar budget", places=None,
                                       validators=[Optional(), COST_RANGE])


class VendorForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    kind = SelectField("Kind")
    base_url = StringField("Base URL", validators=[Length(max=500)])
    api_key = PasswordField("API key", validators=[Length(max=1000)])
    enabled = BooleanField("Enabled", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(name, KINDS[name].label) for name in STORABLE_KINDS]

    def extra_fields(self) -> list:
        """The form's inputs for the kinds' other declared fields (region, API version...),
        each with the storable kinds that declare it (the template groups them per kind)."""
        return [(getattr(self, name), self.kinds_of(name)) for name in EXTRA_FIELDS]

    @staticmethod
    def kinds_of(name: str) -> list[str]:
        """The storable kinds that declare the field ``name``."""
        return [k for k in STORABLE_KINDS if KINDS[k].field(name)]

    def settings(self) -> dict[str, str]:
        """The declared fields of the chosen kind, as sent (an empty secret keeps the stored)."""
        kind = KINDS.get(self.kind.data)
        return {f.name: getattr(self, f.name).data or "" for f in kind.extra_fields} if kind \
            else {}


# One input per declared field of any storable kind, beyond the key and base URL above.
EXTRA_FIELDS = [f.name for f in FIELDS.values()
                if f.name not in ("api_key", "base_url")
                and any(KINDS[k].field(f.name) for k in STORABLE_KINDS)]
for _name in EXTRA_FIELDS:
    _field = FIELDS[_name]
    setattr(VendorForm, _name, (PasswordField if _field.secret else StringField)(
        _field.label, validators=[Length(max=1000)],
        render_kw={"placeholder": _field.placeholder} if _field.placeholder else None))


class RotateKeyForm(FlaskForm):
    api_key = PasswordField("New API key", validators=[DataRequired(), Length(max=1000)])


class RouteForm(FlaskForm):
    public_name = StringField("Public name", validators=[DataRequired(), Length(max=200)])
    credential_id = SelectField("Vendor", coerce=int)
    upstream_model = StringField("Upstream model", validators=[DataRequired(), Length(max=200)])
    enabled = BooleanField("Enabled", default=True)
    role_ids = CheckboxesField("Allowed roles (none: every role)", coerce=int)
    input_price = DecimalField("Input price per million tokens", places=4, default=0,
                               validators=[Optional(), NumberRange(min=0)])
    output_price = DecimalField("Output price per million tokens", places=4, default=0,
                                validators=[Optional(), NumberRange(min=0)])
    cache_read_price = DecimalField("Cache read price per million tokens", places=4,
                                    validators=[Optional(), NumberRange(min=0)])
    cache_write_price = DecimalField("Cache write price per million tokens", places=4,
                                     validators=[Optional(), NumberRange(min=0)])
    fallback_group = StringField("Fallback group", validators=[Length(max=64)])
    priority = IntegerField("Priority", default=0,
                            validators=[Optional(), NumberRange(min=-1000, max=1000)])
    weight = IntegerField("Weight", default=1,
                          validators=[Optional(), NumberRange(min=1, max=1000)])
    strategy = SelectField("Balancing", default="weighted", choices=[
        ("weighted", "Weighted random"), ("least_busy", "Least busy"),
        ("lowest_latency", "Lowest latency")])
    response_cache_ttl = IntegerField("Cache answers for (seconds)", validators=[
        Optional(), NumberRange(min=1, max=7 * 24 * 3600)])
    response_cache_shared = BooleanField("Share cached answers across users")
    health_check = BooleanField("Health-check it at an interval")
    capabilities = CheckboxesField("Capabilities", choices=[
        ("embeddings", "Embedding model"), ("images", "Takes images"),
        ("pdf", "Takes PDF documents"),
        ("reasoning", "Takes a reasoning effort or thinking budget")])


def show_error(form: FlaskForm, exc: Exception, field: str | None = None,
               aliases: dict[str, str] | None = None) -> None:
    """Put a service's refusal next to the field it concerns (or above the form).

    ``aliases`` maps a service's field name to the form's when they differ.
    """
    name = getattr(exc, "field", None) or field
    name = (aliases or {}).get(name, name)
    target = getattr(form, name, None) if name else None
    if target is not None:
        target.errors = [*target.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))
