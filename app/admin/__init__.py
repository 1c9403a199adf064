"""The admin audience (/admin): one module per screen, every one behind the admin role."""

from app.admin import audit, dashboard, keys, models, roles, teams, usage, users, vendors

BLUEPRINTS = [dashboard.bp, users.bp, roles.bp, teams.bp, keys.bp, vendors.bp, models.bp,
              usage.bp, audit.bp]
