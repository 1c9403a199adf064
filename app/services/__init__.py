"""Business rules: accounts, keys, vendors, chat, usage and audit. Views stay thin."""
