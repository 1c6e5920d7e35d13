"""Standard interfaces over the services: the OGC API and the OpenAPI documents."""
