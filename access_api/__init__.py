"""Access: the Flask app, REST API, CLI and web front; the top of the import graph."""
