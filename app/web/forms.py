"""Flask-WTF forms of the browser pages; labels are the accessible names tests rely on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, NumberRange, Optional

EFFORT_CHOICES = [("", "Model default"), ("minimal", "Minimal"), ("low", "Low"),
                  ("medium", "Medium"), ("high", "High"), ("xhigh", "Extra high")]


class ChatOptionsForm(FlaskForm):
    """The Options panel: reply options stored with the conversation (empty: the model's
    default), and the models a Compare asks."""

    temperature = FloatField("Temperature", validators=[
        Optional(), NumberRange(0, 2, "Temperature goes from 0 to 2.")])
    max_tokens = IntegerField("Max tokens", validators=[
        Optional(), NumberRange(1, 1_000_000, "Max tokens goes from 1 to 1,000,000.")])
    # A <select> of EFFORT_CHOICES (rendered in _composer.html).
    reasoning_effort = StringField("Reasoning effort", validators=[
        Optional(), AnyOf([value for value, _ in EFFORT_CHOICES],
                          "Pick a reasoning effort from the list.")])
    compare_models = SelectMultipleField("Models side by side", validate_choice=False)

    def options(self) -> dict | None:
        """The options sent, or None when the form had no Options panel."""
        if not self.temperature.raw_data and not self.max_tokens.raw_data \
                and not self.reasoning_effort.raw_data:
            return None
        return {"temperature": self.temperature.data, "max_tokens": self.max_tokens.data,
                "reasoning_effort": self.reasoning_effort.data or None}

    def first_error(self) -> str | None:
        return next((error for field in self for error in field.errors), None)


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Remember me")


class NewChatForm(ChatOptionsForm):
    model = SelectField("Model", validators=[DataRequired()], validate_choice=False)
    system_prompt = TextAreaField("System prompt", validators=[Length(max=20_000)])
    # May be empty when files are attached (the chat service checks there is something).
    message = TextAreaField("Message", validators=[Optional(), Length(max=100_000)])


class MessageForm(ChatOptionsForm):
    """The composer of an open conversation; model, system prompt and options may change per
    message."""

    model = SelectField("Model", validators=[Optional()], validate_choice=False)
    system_prompt = TextAreaField("System prompt", validators=[Optional(), Length(max=20_000)])
    message = TextAreaField("Message", validators=[Optional(), Length(max=100_000)])


class EditMessageForm(FlaskForm):
    message = TextAreaField("Edit message", validators=[DataRequired(), Length(max=100_000)])


class RenameForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=120)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField("Repeat new password", validators=[
        DataRequired(), EqualTo("new_password", message="The new passwords differ.")])


class KeyForm(FlaskForm):
    name = StringField("Key name", validators=[Optional(), Length(max=120)])
