"""HTTP layer: create_app(settings), routes, schemas, problem documents, the static chat page."""
