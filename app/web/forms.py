"""Flask-WTF forms of the browser pages; labels are the accessible names tests rely on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Remember me")


class NewChatForm(FlaskForm):
    model = SelectField("Model", validators=[DataRequired()], validate_choice=False)
    system_prompt = TextAreaField("System prompt", validators=[Length(max=20_000)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=100_000)])


class MessageForm(FlaskForm):
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=100_000)])
