"""Redis as the services use it: a client per container, Lua scripts, processed-event
records, sealed secrets, and the directory projection each service keeps."""
