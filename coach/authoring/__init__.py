"""Content authoring: reads, validates and lints scenarios/ and rubrics/; nothing else reads them."""
