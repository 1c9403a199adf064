"""The admin audience of the native REST API (``/api/v1/admin``): one module per admin
screen, over the same services, so every action is checked and audited the same way."""

from app.api.admin import audit, keys, models, roles, teams, usage, users, vendors

BLUEPRINTS: list = [users.bp, roles.bp, teams.bp, keys.bp, vendors.bp, models.bp, usage.bp,
                    audit.bp]
