"""The admin audience (/admin): one module per screen, every one behind the admin role."""

from app.admin import dashboard

BLUEPRINTS = [dashboard.bp]
