"""The admin operations (``/api/v1/admin``) of the OpenAPI document.

Each entry holds the keyword arguments of one :class:`app.api.openapi.Op`; ``openapi.py``
builds them into its ``OPS``. (Plain arguments rather than ``Op`` objects, so this module
needs nothing from ``openapi.py`` and the two never import each other.)
"""

from __future__ import annotations

from app.api.schemas import admin as a
from app.api.schemas import rest as s

TAG = "Admin"
READ = (401, 403, 429)
WRITE = (400, 401, 403, 413, 429)
ADMIN_NOTE = "Needs the `admin` permission: anonymous callers get 401, members 403."


def op(method: str, path: str, summary: str, ok: dict, *, errors=WRITE, description="",
       **fields) -> dict:
    return {"method": method, "path": "/api/v1/admin" + path, "summary": summary, "tag": TAG,
            "ok": ok, "error_statuses": errors,
            "description": " ".join(filter(None, [description, ADMIN_NOTE])), **fields}


OPERATIONS = [
    op("get", "/users", "Users, a page at a time", {200: s.Listing[a.AdminUserOut]},
       query=a.UserQuery, errors=(400, *READ)),
    op("post", "/users", "Create a user", {201: s.Data[a.AdminUserOut]},
       body=a.AdminUserCreate),
    op("get", "/users/{user_id}", "A user", {200: s.Data[a.AdminUserOut]},
       errors=(*READ, 404)),
    op("patch", "/users/{user_id}",
       "Change a user's display name, role, enabled state or monthly token budget",
       {200: s.Data[a.AdminUserOut]}, body=a.AdminUserUpdate, errors=(*WRITE, 404),
       description="Only the fields sent change. Disabling ends the user's sessions and stops "
                   "their API keys. You cannot disable yourself or the last enabled admin. A "
                   "budget of null gives the user their role's again."),
    op("post", "/users/{user_id}/password", "Reset a user's password", {204: None},
       body=a.PasswordReset, errors=(*WRITE, 404),
       description="Every session of the user ends; with revoke_keys, their API keys too."),
    op("delete", "/users/{user_id}", "Delete a user with their conversations and keys",
       {204: None}, errors=(*READ, 404, 409)),
    op("get", "/roles", "Roles with their user counts", {200: s.Listing[a.RoleOut]},
       errors=READ),
    op("post", "/roles", "Create a role", {201: s.Data[a.RoleOut]}, body=a.RoleCreate),
    op("get", "/roles/{role_id}", "A role", {200: s.Data[a.RoleOut]}, errors=(*READ, 404)),
    op("patch", "/roles/{role_id}", "Change a role's permissions, models or limits",
       {200: s.Data[a.RoleOut]}, body=a.RoleUpdate, errors=(*WRITE, 404),
       description="Only the fields sent change. Built-in roles keep their name."),
    op("delete", "/roles/{role_id}", "Delete a custom role nobody holds", {204: None},
       errors=(*READ, 404, 409), description="Built-in roles and roles still held: 409."),
    op("get", "/teams", "Teams with their member counts", {200: s.Listing[a.TeamOut]},
       errors=READ),
    op("post", "/teams", "Create a team", {201: s.Data[a.TeamOut]}, body=a.TeamCreate),
    op("get", "/teams/{team_id}", "A team", {200: s.Data[a.TeamOut]}, errors=(*READ, 404)),
    op("patch", "/teams/{team_id}", "Change a team's models, rate limit or budgets",
       {200: s.Data[a.TeamOut]}, body=a.TeamUpdate, errors=(*WRITE, 404),
       description="Only the fields sent change; null clears a limit or budget."),
    op("delete", "/teams/{team_id}", "Delete a team (its members and keys stay, teamless)",
       {204: None}, errors=(*READ, 404)),
    op("get", "/teams/{team_id}/members", "A team's members", {200: s.Listing[a.AdminUserOut]},
       errors=(*READ, 404)),
    op("post", "/teams/{team_id}/members", "Put a user in the team (leaving any other)",
       {200: s.Data[a.AdminUserOut]}, body=a.TeamMemberAdd, errors=(*WRITE, 404)),
    op("delete", "/teams/{team_id}/members/{user_id}", "Take a user out of the team",
       {204: None}, errors=(*READ, 404)),
    op("get", "/keys", "Every API key, newest first", {200: s.Listing[a.AdminKeyOut]},
       query=a.KeyQuery, errors=(400, *READ)),
    op("post", "/keys", "Create an API key for a user (the secret is shown once)",
       {201: s.Data[a.AdminKeyCreated]}, body=a.AdminKeyCreate),
    op("patch", "/keys/{key_id}", "Change an API key's monthly token budget",
       {200: s.Data[a.AdminKeyOut]}, body=a.AdminKeyUpdate, errors=(*WRITE, 404),
       description="Only the fields sent change. The budget caps the tokens spent through "
                   "the key a month, on top of the owner's; null: no cap of its own."),
    op("delete", "/keys/{key_id}", "Revoke an API key", {204: None}, errors=(*READ, 404)),
    op("get", "/vendors", "Vendor credentials (keys as masks only)",
       {200: s.Listing[a.VendorOut]}, errors=READ,
       description="Vendors configured from the environment come first, read-only."),
    op("post", "/vendors", "Add a vendor credential", {201: s.Data[a.VendorOut]},
       body=a.VendorCreate,
       description="The key is stored encrypted and never shown again. Base URLs must be "
                   "http(s) and not a cloud-metadata or link-local address (400). `settings` "
                   "holds the kind's other declared fields (region, API version...): a field "
                   "the kind does not declare, or a required one missing, is a 400 naming it; "
                   "secret ones are stored encrypted and answered as `secret_masks` only."),
    op("get", "/vendors/{name}", "A vendor credential", {200: s.Data[a.VendorOut]},
       errors=(*READ, 404)),
    op("patch", "/vendors/{name}", "Rename, move, enable/disable or rotate the key",
       {200: s.Data[a.VendorOut]}, body=a.VendorUpdate, errors=(*WRITE, 404, 409),
       description="An environment vendor is read-only: 409."),
    op("delete", "/vendors/{name}", "Delete a vendor credential and its model routes",
       {204: None}, errors=(*READ, 404, 409)),
    op("post", "/vendors/{name}/test", "Test a vendor: its model list, asked now",
       {200: s.Data[a.VendorModels]}, errors=(400, *READ, 404, 502, 504)),
    op("get", "/models", "Model routes", {200: s.Listing[a.RouteOut]}, errors=READ),
    op("post", "/models", "Add a model route", {201: s.Data[a.RouteOut]}, body=a.RouteCreate),
    op("get", "/models/{route_id}", "A model route", {200: s.Data[a.RouteOut]},
       errors=(*READ, 404)),
    op("patch", "/models/{route_id}", "Change a model route", {200: s.Data[a.RouteOut]},
       body=a.RouteUpdate, errors=(*WRITE, 404), description="Only the fields sent change."),
    op("delete", "/models/{route_id}", "Delete a model route", {204: None},
       errors=(*READ, 404)),
    op("post", "/models/import", "Import every model a vendor lists as vendor/model routes",
       {200: s.Data[a.RouteImported]}, body=a.RouteImport, errors=(*WRITE, 502, 504)),
    op("get", "/usage", "Everyone's usage: totals and a breakdown",
       {200: s.Data[a.AdminUsageOut]}, query=a.AdminUsageQuery, errors=(400, *READ),
       description="Grouped per day, user, key, model or source; CSV is on /admin/usage."),
    op("get", "/audit", "The audit trail, newest first", {200: s.Listing[a.AuditOut]},
       query=a.AuditQuery, errors=(400, *READ)),
]
