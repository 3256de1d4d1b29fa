"""Coach: practise hard peer-support conversations with rubric-based coaching."""

__version__ = "0.1.0"
