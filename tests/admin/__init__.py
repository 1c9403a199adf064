"""Admin screens (/admin): access, CRUD, vendor secrets, usage reports, audit, browser."""
