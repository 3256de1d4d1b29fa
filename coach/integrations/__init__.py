"""LMS integrations (LTI 1.3, xAPI, outbound delivery) — see issue 6."""
