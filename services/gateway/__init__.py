"""The one HTTP door: authentication, validation, problem+json, OpenAPI, RPC to the services."""
