"""The verbs of the product, shared by the web pages, the API, the CLI and the tests."""
