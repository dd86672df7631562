"""Services: load from the database, call the engine, save. Web routes and the CLI call these."""
