"""Operating the assistant: starting the servers, seeding, and the developer commands."""
