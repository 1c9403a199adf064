"""Flask-WTF forms of the browser pages; labels are the accessible names tests rely on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Remember me")


class NewChatForm(FlaskForm):
    model = SelectField("Model", validators=[DataRequired()], validate_choice=False)
    system_prompt = TextAreaField("System prompt", validators=[Length(max=20_000)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=100_000)])


class MessageForm(FlaskForm):
    """The composer of an open conversation; model and system prompt may change per message."""

    model = SelectField("Model", validators=[Optional()], validate_choice=False)
    system_prompt = TextAreaField("System prompt", validators=[Optional(), Length(max=20_000)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=100_000)])


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
